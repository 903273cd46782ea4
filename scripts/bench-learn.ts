/**
 * Learning benchmark (not a test): the default run — the Toptal tutorial's settings on
 * MountainCar-v0, 200k steps — and its final greedy evaluation return.
 *
 *   npm run bench:learn -- [--seed N] [--steps N] [--engine fused|tfjs]
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { resolveConfig } from '../src/train/config.js';
import { prepareRunDir, train } from '../src/train/trainer.js';
import { consoleOutput } from '../src/train/run-output.js';
import { backendLine } from '../src/tf.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '0' },
    steps: { type: 'string' },
    engine: { type: 'string', default: 'auto' },
    logdir: { type: 'string', default: path.join('runs', 'bench') },
  },
});
const overrides: Record<string, unknown> = { seed: Number(values.seed), engine: values.engine, logdir: values.logdir };
if (values.steps) overrides.steps = Number(values.steps);
const config = resolveConfig({ values: { ...overrides, name: `learn-${new Date().toISOString().replace(/[:.]/g, '-')}` }, source: 'bench:learn' });

const runDir = await prepareRunDir(config, { backend: (await backendLine()).replace(/^backend: /, '') }, false);
const started = performance.now();
const result = await train(config, { runDir, output: consoleOutput() });
const seconds = (performance.now() - started) / 1000;
const final = result.evaluations.at(-1)!;
const best = Math.max(...result.evaluations.map((e) => e.returnMean));
console.log('');
console.log(
  `bench:learn ${config.env} seed ${config.seed} engine ${result.learner.engine}, ${config.steps} steps in ${seconds.toFixed(1)} s (${(config.steps / seconds).toFixed(0)} steps/s incl. evaluation), ${os.cpus()[0]?.model ?? 'cpu'}`,
);
console.log(`final greedy evaluation: episode_return_avg ${final.returnMean.toFixed(3)} ± ${final.returnStd.toFixed(3)} over ${final.returns.length} episodes; best evaluation ${best.toFixed(3)}`);
console.log(`run folder: ${runDir}`);
