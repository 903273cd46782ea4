/**
 * The neighbour of a calibration (src/sweep/calibrate.ts): a child process that trains a
 * network of a given shape, as a trial beside it would, while the calibration times the same
 * shape again — trials side by side slow each other through the caches and execution units
 * their cores share. Asked over IPC: `{ config, ms }` -> warms up, says 'ready', trains for
 * `ms`, says 'done'; a disconnect ends it.
 */
import type { RunConfig } from '../train/config.js';
import { gradientStepBench } from './calibrate.js';

/** Milliseconds of training before saying 'ready', so the neighbour runs compiled code. */
const WARM_UP_MS = 100;

async function trainFor(config: RunConfig, ms: number): Promise<void> {
  const bench = await gradientStepBench(config);
  try {
    const run = (until: number): void => {
      while (performance.now() < until) bench.step();
    };
    run(performance.now() + WARM_UP_MS);
    process.send?.('ready');
    run(performance.now() + ms);
    process.send?.('done');
  } finally {
    bench.dispose();
  }
}

process.on('message', (message: { config: RunConfig; ms: number }) => {
  void trainFor(message.config, message.ms).catch((error: unknown) => {
    process.stderr.write(`calibration neighbour: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));
