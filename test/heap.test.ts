/**
 * The CLI's lean young generation (packages/enpkg/src/heap.ts): V8 reads the growth factor while
 * running, so lean keeps the new space at its first size and roomy lets it grow again.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const program = (mode: string): string => `
  import { getHeapSpaceStatistics } from 'node:v8';
  import { leanYoungGeneration, roomyYoungGeneration } from 'enpkg';
  ${{ plain: '', lean: 'leanYoungGeneration();', roomy: 'leanYoungGeneration(); roomyYoungGeneration();' }[mode]}
  const keep = [];
  for (let i = 0; i < 2e6; i++) { const o = { i, s: 'x' + i }; if (i % 3 === 0) keep.push(o); }
  const ns = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  process.stdout.write(String(ns.space_size / 1048576));
`;

test('lean keeps the young generation from growing; roomy lets it grow again', () => {
  const mib = (mode: string): number => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', program(mode)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return Number(r.stdout);
  };
  // Loading enpkg may already have grown it a step or two; lean stops it there.
  const [plain, lean, roomy] = [mib('plain'), mib('lean'), mib('roomy')];
  assert.ok(lean <= 8 && lean * 2 <= plain, `lean: ${lean} MiB of new space, ${plain} MiB without`);
  assert.ok(roomy >= 2 * lean, `roomy: ${roomy} MiB of new space against ${lean} lean`);
});
