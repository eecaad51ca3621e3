/**
 * How much young generation the enpkg process lets V8 grow. New objects are made in two semi-spaces
 * that V8 doubles, from 1 MiB up to 16 MiB each, while a program allocates: tens of MiB of resident
 * memory that most commands never need (an install of 400 names from a sharded index peaked at
 * about 100 MiB with growth, 87 without). The command line starts lean; the jobs that build
 * millions of objects at once - parsing a monolithic index, publishing an index, staging the files
 * of a transaction - let it grow again, where a small young generation would copy and promote far
 * more and run slower.
 *
 * This is V8's `semi_space_growth_factor`, which V8 reads each time it would grow the space, so it
 * can be changed while running (node:v8 setFlagsFromString). Library callers own their process and
 * keep whatever it has.
 */
import { setFlagsFromString } from 'node:v8';

/** Keep the young generation at its initial size (the CLI's default). */
export function leanYoungGeneration(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

/** Let the young generation grow again (V8's default factor), before building a large index. */
export function roomyYoungGeneration(): void {
  setFlagsFromString('--semi-space-growth-factor=2');
}
