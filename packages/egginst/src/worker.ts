/**
 * The entry of egginst's worker threads (parallel.ts): a share of a list of filesystem operations
 * (tree-ops.ts), or of an extraction (extract-worker.ts). Each loads only its own modules.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Job, WorkerReply } from './extract-worker.js';
import type { TreeWorkerData } from './tree-ops.js';

if ((workerData as TreeWorkerData | null)?.kind === 'tree' && parentPort) {
  const { serveTreeJobs } = await import('./tree-ops.js');
  serveTreeJobs(parentPort);
} else if (parentPort) {
  const port = parentPort;
  const { extractTasks } = await import('./extract-worker.js');
  const { errorReply } = await import('./parallel.js');
  port.once('message', (job: Job) => {
    let pending = 0;
    let last = '';
    const flush = (): void => {
      if (pending) port.postMessage({ type: 'progress', egg: last, bytes: pending } satisfies WorkerReply);
      pending = 0;
    };
    extractTasks(job, (egg, bytes) => {
      if (egg !== last) flush();
      last = egg;
      pending += bytes;
      if (pending >= 1 << 20) flush();
    }).then(
      (results) => {
        flush();
        port.postMessage({ type: 'done', results } satisfies WorkerReply);
      },
      (e: unknown) => port.postMessage({ type: 'error', error: errorReply(e) } satisfies WorkerReply),
    );
  });
}
