/**
 * The neighbour of a calibration (src/sweep/calibrate.ts): a child process that trains a
 * network of a given shape, as a trial beside it would, while the calibration times the same
 * shape again — trials side by side slow each other through the caches and execution units
 * their cores share. Asked over IPC: `{ config, ms }` -> warms up, says 'ready', trains for
 * `ms`, says 'done'; a disconnect ends it.
 */
import { createLearner } from '../agent/index.js';
import { ReplayBuffer } from '../agent/replay-buffer.js';
import { makeEnv } from '../envs/index.js';
import { agentEnv } from '../envs/scaling.js';
import type { RunConfig } from '../train/config.js';
import { learnerOptions } from '../train/run-state.js';
import { Rng } from '../util/random.js';

/** Milliseconds of training before saying 'ready', so the neighbour runs compiled code. */
const WARM_UP_MS = 100;

async function trainFor(config: RunConfig, ms: number): Promise<void> {
  const env = agentEnv(makeEnv(config.env), config.observationScaling);
  const learner = await createLearner(learnerOptions(config, env.observationSize, env.actionCount), config.engine);
  try {
    const replay = new ReplayBuffer(config.bufferSize, env.observationSize);
    const rng = new Rng(config.seed);
    let observation = env.reset({ seed: config.seed });
    while (replay.size < Math.min(config.bufferSize, 4 * config.batchSize)) {
      const action = rng.nextInt(env.actionCount);
      const next = env.step(action);
      replay.add(observation, action, next.reward, next.observation, next.terminated);
      observation = next.terminated || next.truncated ? env.reset() : next.observation;
    }
    const batch = replay.allocateBatch(config.batchSize);
    const run = (until: number): void => {
      while (performance.now() < until) learner.trainStep(replay.sample(rng, batch));
    };
    run(performance.now() + WARM_UP_MS);
    process.send?.('ready');
    run(performance.now() + ms);
    process.send?.('done');
  } finally {
    learner.dispose();
  }
}

process.on('message', (message: { config: RunConfig; ms: number }) => {
  void trainFor(message.config, message.ms).catch((error: unknown) => {
    process.stderr.write(`calibration neighbour: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));
