/**
 * Benchmark of the two Q-learning engines on the default network (2 -> 32 -> 32 -> 3,
 * relu, batch 64, Adam with clipnorm 1): gradient steps per second and microseconds
 * per greedy action. Not a test: timings depend on the machine.
 *
 *   npx tsx scripts/bench-engines.ts [--seconds 2]
 */
import { backendLine } from '../src/tf.js';
import { createFusedLearner } from '../src/agent/fused.js';
import type { LearnerOptions, QLearner, TransitionBatch } from '../src/agent/learner.js';
import { createTfjsLearner } from '../src/agent/tfjs-learner.js';
import { Rng } from '../src/util/random.js';

const DEFAULT_NETWORK: LearnerOptions = {
  observationSize: 2,
  actionCount: 3,
  hiddenLayers: [32, 32],
  activation: 'relu',
  learningRate: 1e-3,
  gamma: 0.99,
  loss: 'mse',
  doubleDqn: false,
  clipNorm: 1,
  clipGlobalNorm: 0,
  adamBeta1: 0.9,
  adamBeta2: 0.999,
  adamEpsilon: 1e-7,
  initSeed: 1,
};
const BATCH_SIZE = 64;
/** Distinct batches cycled through, so no engine benefits from a single hot input. */
const BATCH_POOL = 16;

interface EngineTiming {
  engine: string;
  stepsPerSecond: number;
  microsecondsPerAction: number;
}

function secondsOption(): number {
  const index = process.argv.indexOf('--seconds');
  const value = index >= 0 ? Number(process.argv[index + 1]) : 2;
  return Number.isFinite(value) && value > 0 ? value : 2;
}

function makeBatches(spec: LearnerOptions): TransitionBatch[] {
  const rng = new Rng(42);
  return Array.from({ length: BATCH_POOL }, () => {
    const batch: TransitionBatch = {
      size: BATCH_SIZE,
      states: new Float32Array(BATCH_SIZE * spec.observationSize),
      actions: new Int32Array(BATCH_SIZE),
      rewards: new Float32Array(BATCH_SIZE).fill(-1),
      nextStates: new Float32Array(BATCH_SIZE * spec.observationSize),
      terminals: new Float32Array(BATCH_SIZE),
    };
    for (let i = 0; i < batch.states.length; i++) {
      batch.states[i] = rng.uniform(-1, 1);
      batch.nextStates[i] = rng.uniform(-1, 1);
    }
    for (let i = 0; i < BATCH_SIZE; i++) batch.actions[i] = rng.nextInt(spec.actionCount);
    return batch;
  });
}

/** Runs `work` in rounds of `roundSize` calls for about `seconds`; returns calls per second. */
function callsPerSecond(work: (call: number) => void, seconds: number, roundSize: number): number {
  const warmupEnd = performance.now() + Math.min(0.5, seconds / 4) * 1000;
  let call = 0;
  while (performance.now() < warmupEnd) work(call++);
  const start = performance.now();
  const end = start + seconds * 1000;
  let calls = 0;
  while (performance.now() < end) {
    for (let i = 0; i < roundSize; i++) work(calls++);
  }
  return calls / ((performance.now() - start) / 1000);
}

function timeEngine(learner: QLearner, batches: TransitionBatch[], seconds: number): EngineTiming {
  const stepsPerSecond = callsPerSecond((call) => learner.trainStep(batches[call % BATCH_POOL]!), seconds, 10);
  const states = batches.map((batch) => batch.states.subarray(0, learner.spec.observationSize));
  const actionsPerSecond = callsPerSecond((call) => learner.greedyAction(states[call % BATCH_POOL]!), seconds, 100);
  return { engine: learner.engine, stepsPerSecond, microsecondsPerAction: 1e6 / actionsPerSecond };
}

async function main(): Promise<void> {
  const seconds = secondsOption();
  const batches = makeBatches(DEFAULT_NETWORK);
  console.log(await backendLine());
  console.log(`network 2 -> 32 -> 32 -> 3 (relu), batch ${BATCH_SIZE}, Adam clipnorm 1; ${seconds} s per measurement`);
  const fused = timeEngine(createFusedLearner(DEFAULT_NETWORK), batches, seconds);
  const tfjsLearner = await createTfjsLearner(DEFAULT_NETWORK);
  const tfjs = timeEngine(tfjsLearner, batches, seconds);
  tfjsLearner.dispose();

  const rows = [fused, tfjs].map((t) => [t.engine, t.stepsPerSecond.toFixed(0), t.microsecondsPerAction.toFixed(2)]);
  rows.push([
    'fused/tfjs',
    `${(fused.stepsPerSecond / tfjs.stepsPerSecond).toFixed(1)}x`,
    `${(tfjs.microsecondsPerAction / fused.microsecondsPerAction).toFixed(1)}x faster`,
  ]);
  const header = ['engine', 'train steps/s', 'µs / greedy action'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const format = (row: string[]): string => row.map((cell, column) => cell.padStart(widths[column]!)).join('  ');
  console.log(format(header));
  for (const row of rows) console.log(format(row));
}

await main();
