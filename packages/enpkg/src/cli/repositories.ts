/**
 * Registers the repository commands: `repo index`, `repo keygen`, `config`, `search`, `info`.
 */
import type { Command } from 'commander';
import { registerConfig } from './config-cmd.js';
import type { CliContext } from './common.js';
import { registerRepo } from './repo.js';
import { registerSearch } from './search.js';

export function registerRepositoryCommands(program: Command, ctx: CliContext): void {
  registerRepo(program, ctx);
  registerConfig(program, ctx);
  registerSearch(program, ctx);
}
