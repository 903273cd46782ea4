/**
 * `npm run bench:scaling -- [--trials N] [--steps S] [--concurrency 1,2,4]`: wall time of N
 * identical default trials (src/run.ts child processes, as `sweep run` starts them) at each
 * concurrency, and the speedup over concurrency 1. Meant for machines with more cores than
 * `npm run bench`'s fixed 4-trials-on-2 figure uses; pin it with `taskset` to measure fewer.
 */
import * as os from 'node:os';
import { parseArgs } from 'node:util';
import { coresAvailable, measureScaling } from './sweep-scaling.js';

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '4' },
    steps: { type: 'string', default: '15000' },
    concurrency: { type: 'string', default: '1,2' },
  },
});

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`bench:scaling: --${name} must be a positive integer, got "${text}"`);
    process.exit(2);
  }
  return value;
}

const trials = positiveInteger('trials', values.trials);
const steps = positiveInteger('steps', values.steps);
const concurrencies = values.concurrency.split(',').map((text) => positiveInteger('concurrency', text.trim()));

console.log(`${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${os.availableParallelism()} cores available to this process, Node ${process.version}`);
console.log(`busy-loop cores available to 2 processes: ${(await coresAvailable()).toFixed(2)}`);
console.log(`${trials} trials of ${steps} steps (default config, MountainCar-v0), concurrency ${concurrencies.join(', ')}`);
const rows = await measureScaling(trials, steps, concurrencies, (row) => {
  console.log(`concurrency ${row.concurrency}: ${row.seconds.toFixed(2)} s`);
});
const base = rows[0]!;
console.log(`\n| concurrency | wall s | speedup vs concurrency ${base.concurrency} | trials/min |`);
console.log('|---|---|---|---|');
for (const row of rows) {
  console.log(`| ${row.concurrency} | ${row.seconds.toFixed(2)} | ${(base.seconds / row.seconds).toFixed(2)}x | ${((trials * 60) / row.seconds).toFixed(1)} |`);
}
