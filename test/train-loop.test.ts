/**
 * The training loop with fakes in its seams: a scripted env and a learner that records
 * what the loop asks of it. Checks the loop's own decisions (what it bootstraps through,
 * which options reach the learner, how often it trains and updates the target), which
 * the engines' own tests cannot see.
 */
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createFusedLearner } from '../src/agent/fused.js';
import type { LearnerOptions, QLearner, TransitionBatch } from '../src/agent/learner.js';
import type { Env, EnvSnapshot, StepResult, StepStatus } from '../src/envs/types.js';
import { type RunConfig, resolveConfig } from '../src/train/config.js';
import { memoryOutput } from '../src/train/run-output.js';
import { prepareRunDir, train } from '../src/train/trainer.js';
import { DEFAULT_FACTORIES, checkpointOf, createRunParts, initialLoopState, restoreCheckpoint } from '../src/train/run-state.js';

/**
 * A corridor: the observation is [position / length, 1]; every episode ends after
 * `length` steps, either by termination or by a time-limit truncation.
 */
class Corridor implements Env {
  readonly id = 'CartPole-v1';
  readonly observationSize = 2;
  readonly actionCount = 2;
  readonly rewardThreshold = 0;
  readonly observationLow = [0, 1];
  readonly observationHigh = [1, 1];
  private position = 0;
  private readonly status = { reward: 0, terminated: false, truncated: false };

  constructor(
    private readonly length: number,
    private readonly ending: 'terminate' | 'truncate',
  ) {}

  get maxEpisodeSteps(): number {
    return this.length;
  }

  reset(): Float32Array {
    const observation = new Float32Array(2);
    this.resetInto(observation);
    return observation;
  }

  resetInto(observation: Float32Array): void {
    this.position = 0;
    observation[0] = 0;
    observation[1] = 1;
  }

  stepInto(_action: number, observation: Float32Array): StepStatus {
    this.position++;
    const end = this.position >= this.length;
    observation[0] = this.position / this.length;
    observation[1] = 1;
    this.status.reward = -1;
    this.status.terminated = end && this.ending === 'terminate';
    this.status.truncated = end && this.ending === 'truncate';
    return this.status;
  }

  step(action: number): StepResult {
    const observation = new Float32Array(2);
    const { reward, terminated, truncated } = this.stepInto(action, observation);
    return { observation, reward, terminated, truncated };
  }

  getState(): EnvSnapshot {
    return { state: [this.position], elapsedSteps: this.position, rngState: [], needsReset: false };
  }
  setState(saved: EnvSnapshot): void {
    this.position = saved.state[0]!;
  }
  renderText(): string {
    return `${'.'.repeat(this.position)}@`;
  }
}

/** What the loop asked of the learner. */
interface LearnerLog {
  options: LearnerOptions[];
  trainSteps: number;
  /** Every sampled transition's terminal flag, summed and counted. */
  terminalFlags: number;
  sampledTransitions: number;
  targetUpdates: number[];
  learningRates: number[];
}

/** The fused learner, with every call the loop makes recorded in `log`. */
function spyLearner(log: LearnerLog) {
  return async (options: LearnerOptions): Promise<QLearner> => {
    log.options.push(options);
    const inner = createFusedLearner(options);
    return new Proxy(inner, {
      get(target, property, receiver) {
        if (property === 'trainStep') {
          return (batch: TransitionBatch) => {
            log.trainSteps++;
            for (let i = 0; i < batch.size; i++) log.terminalFlags += batch.terminals[i]!;
            log.sampledTransitions += batch.size;
            return target.trainStep(batch);
          };
        }
        if (property === 'updateTarget')
          return (tau: number) => {
            log.targetUpdates.push(tau);
            target.updateTarget(tau);
          };
        if (property === 'setLearningRate')
          return (rate: number) => {
            log.learningRates.push(rate);
            target.setLearningRate(rate);
          };
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
}

describe('the training loop, with fakes in its seams', function () {
  this.timeout(60_000);
  let logdir: string;
  before(async () => {
    logdir = await fs.mkdtemp(path.join(os.tmpdir(), 'rlsweep-loop-'));
  });
  after(() => fs.rm(logdir, { recursive: true, force: true }));

  const config = (name: string, overrides: Record<string, unknown> = {}): RunConfig =>
    resolveConfig({
      values: {
        env: 'CartPole-v1',
        steps: 400,
        trainStart: 100,
        batchSize: 16,
        bufferSize: 1000,
        evalEvery: 0,
        evalEpisodes: 1,
        qValidationSize: 50,
        logEvery: 100,
        snapshotEvery: 0,
        checkpointEvery: 0,
        evalGif: false,
        hiddenLayers: [8],
        name,
        logdir,
        ...overrides,
      },
      source: 'test',
    });

  async function runWith(name: string, corridor: () => Corridor, overrides: Record<string, unknown> = {}): Promise<LearnerLog> {
    const log: LearnerLog = { options: [], trainSteps: 0, terminalFlags: 0, sampledTransitions: 0, targetUpdates: [], learningRates: [] };
    const runConfig = config(name, overrides);
    const runDir = await prepareRunDir(runConfig, {}, false);
    await train(runConfig, { runDir, output: memoryOutput(), factories: { makeEnv: corridor, createLearner: spyLearner(log) } });
    return log;
  }

  it('bootstraps through a time-limit truncation, and not through a termination', async () => {
    const truncating = await runWith('truncating', () => new Corridor(5, 'truncate'));
    const terminating = await runWith('terminating', () => new Corridor(5, 'terminate'));
    const tutorial = await runWith('tutorial', () => new Corridor(5, 'truncate'), { terminalOnTruncation: true });
    expect(truncating.sampledTransitions).to.be.greaterThan(1000);
    expect(truncating.terminalFlags, 'a truncated transition was stored as terminal').to.equal(0);
    // One transition in five ends an episode; uniform sampling gives about a fifth of the flags.
    for (const log of [terminating, tutorial]) {
      const share = log.terminalFlags / log.sampledTransitions;
      expect(share).to.be.within(0.15, 0.25);
    }
  });

  it('passes Double DQN, the loss, gamma and clipping to the learner, and tau to every target update', async () => {
    const log = await runWith('options', () => new Corridor(7, 'truncate'), {
      doubleDqn: true,
      loss: 'huber',
      gamma: 0.9,
      clipNorm: 0,
      clipGlobalNorm: 5,
      tau: 0.05,
      targetUpdateEvery: 10,
      activation: 'tanh',
    });
    expect(log.options).to.have.length(1);
    expect(log.options[0]).to.include({ doubleDqn: true, loss: 'huber', gamma: 0.9, clipNorm: 0, clipGlobalNorm: 5, activation: 'tanh' });
    expect(log.options[0]!.hiddenLayers).to.deep.equal([8]);
    // Target updates from trainStart on, every 10 steps: 100, 110, ..., 400.
    expect(log.targetUpdates).to.have.length(31);
    expect(new Set(log.targetUpdates)).to.deep.equal(new Set([0.05]));
  });

  it('trains gradientSteps times every trainFrequency steps from trainStart on', async () => {
    const log = await runWith('frequency', () => new Corridor(9, 'truncate'), { trainFrequency: 4, gradientSteps: 3 });
    // Steps 100, 104, ..., 400 are multiples of 4 from trainStart: 76 of them.
    expect(log.trainSteps).to.equal(76 * 3);
  });

  it('sets the scheduled learning rate before each training step', async () => {
    const log = await runWith('schedule', () => new Corridor(9, 'truncate'), {
      trainFrequency: 4,
      learningRateSchedule: 'linear',
      learningRate: 0.004,
      learningRateEnd: 0.001,
    });
    expect(log.learningRates).to.have.length(76);
    expect(log.learningRates[0]).to.be.closeTo(0.004 - 0.003 * (100 / 400), 1e-12);
    expect(log.learningRates.at(-1)).to.be.closeTo(0.001, 1e-12);
    for (let i = 1; i < log.learningRates.length; i++) expect(log.learningRates[i]).to.be.below(log.learningRates[i - 1]!);
  });

  it('restores a checkpoint into fresh parts exactly, and names what a damaged one lacks', async () => {
    const runConfig = config('restore');
    const parts = await createRunParts(runConfig, { ...DEFAULT_FACTORIES, makeEnv: () => new Corridor(5, 'truncate') });
    const loop = { ...initialLoopState(), step: 42, episode: 9 };
    parts.replay.add(new Float32Array([0.2, 1]), 1, -1, new Float32Array([0.4, 1]), false);
    const content = checkpointOf(loop, parts);
    const fresh = await createRunParts({ ...runConfig, seed: 7 }, { ...DEFAULT_FACTORIES, makeEnv: () => new Corridor(5, 'truncate') });
    expect(restoreCheckpoint(content, fresh)).to.deep.include({ step: 42, episode: 9 });
    expect(fresh.learner.getWeights('online')).to.deep.equal(parts.learner.getWeights('online'));
    expect(fresh.replay.size).to.equal(1);
    const { 'adam.v.1': _dropped, ...damaged } = content.arrays;
    expect(() => restoreCheckpoint({ ...content, arrays: damaged }, fresh)).to.throw(/checkpoint at step 42 has no array "adam.v.1"/);
    const { rngs: _rngs, ...partial } = content.state;
    expect(() => restoreCheckpoint({ ...content, state: partial }, fresh)).to.throw(/checkpoint at step 42 has no "rngs"/);
  });
});
