/**
 * A synthetic sweep folder, as `sweep run` would leave it, written fast (no training): the
 * sweep file, sweep.json, and per trial trial.json, config.json, status.json, stdout.log,
 * stderr.log and an event file written with our SummaryWriter at the trainer's cadence
 * (episode returns and lengths at every episode end, train/* and perf/* every logEvery
 * steps, eval/* scalars, weight histograms and the policy GIF at every evaluation). The
 * curves follow a made-up learning model; a few configurations diverge (loss and Q-values
 * growing by orders of magnitude) and a few trials fail. Used by the large-sweep benchmark
 * (scripts/bench-large-sweep.ts) and by test/sweep-scale.test.ts.
 */
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { createLearner } from '../src/agent/index.js';
import type { QLearner } from '../src/agent/learner.js';
import { makeEnv } from '../src/envs/index.js';
import { agentEnv } from '../src/envs/scaling.js';
import { expandSweep, type Trial } from '../src/sweep/expand.js';
import { sweepManifest } from '../src/sweep/sweep-files.js';
import { loadSweepSpec } from '../src/sweep/spec.js';
import { type TrialStatus, STDERR_LOG, STDOUT_LOG, TRIAL_CONFIG_FILE, writeManifest, writeStatus } from '../src/sweep/trial-status.js';
import { writeJsonAtomic } from '../src/util/files.js';
import { SummaryWriter } from '../src/tensorboard/index.js';
import { configToHparams } from '../src/train/config.js';
import { EVAL_GIF_OPTIONS, recordEpisode } from '../src/train/policy-gif.js';
import { prepareRunDir } from '../src/train/trainer.js';
import { learnerOptions } from '../src/train/run-state.js';
import { Rng } from '../src/util/random.js';

export interface SyntheticSweepOptions {
  /** Receives the sweep file (<root>/<name>.yaml) and the sweep folder (<root>/runs/<name>/). */
  root: string;
  name: string;
  /** The swept values: the grid of configurations (see defaultGrid). */
  grid: Record<string, Array<number | string | boolean>>;
  seeds: number;
  /** Fixed RunConfig values of every trial (steps, evalEvery, logEvery, ...); the run defaults otherwise. */
  fixed?: Record<string, number | string | boolean>;
  /**
   * The fraction of the top return every configuration learns to; by default drawn per
   * configuration. 0 learns nothing: CartPole's shortest episodes, the most points per step.
   */
  level?: number;
  /** Every this-many-th configuration diverges: its loss and Q-values grow by orders of magnitude in the second half (default 16). */
  divergeEvery?: number;
}

/** 2 batch sizes x 5 target periods x `learningRates` learning rates (10 x learningRates configurations). */
export function defaultGrid(learningRates: number): SyntheticSweepOptions['grid'] {
  return {
    batchSize: [32, 64],
    targetUpdateEvery: [500, 1000, 2000, 4000, 8000],
    learningRate: Array.from({ length: learningRates }, (_, i) => Number((1e-4 * 1.25 ** i).toPrecision(3))),
  };
}

export interface SyntheticSweep {
  sweepFile: string;
  sweepDir: string;
  trials: number;
  /** Configurations whose loss and Q-values blow up. */
  diverging: string[];
  /** Trials recorded as failed. */
  failed: string[];
  /** Bytes of all event files written. */
  eventBytes: number;
}

const CARTPOLE_MAX_RETURN = 500;
/** Every FAILED_EVERY-th trial ends failed half-way. */
const FAILED_EVERY = 97;
const DIVERGE_EVERY = 16;

function sweepFileText(options: SyntheticSweepOptions): string {
  const fixed = Object.entries({ env: 'CartPole-v1', ...options.fixed }).map(([key, value]) => `  ${key}: { value: ${JSON.stringify(value)} }`);
  const swept = Object.entries(options.grid).map(([key, values]) => `  ${key}: { values: ${JSON.stringify(values)} }`);
  return [
    '# Synthetic sweep written by scripts/synthetic-sweep.ts: no trial of it ran.',
    `name: ${options.name}`,
    'method: grid',
    'metric: { name: eval/return_mean, goal: maximize }',
    `seeds: [${Array.from({ length: options.seeds }, (_, i) => i).join(', ')}]`,
    'parameters:',
    ...fixed,
    ...swept,
    '',
  ].join('\n');
}

/** What a configuration learns to: its final return level, and whether it diverges. */
interface ConfigurationModel {
  level: number;
  diverges: boolean;
}

function configurationModel(configIndex: number, options: SyntheticSweepOptions): ConfigurationModel {
  const divergeEvery = options.divergeEvery ?? DIVERGE_EVERY;
  return {
    level: options.level ?? 0.15 + 0.85 * new Rng(1000 + configIndex).nextFloat(),
    diverges: configIndex % divergeEvery === divergeEvery - 1,
  };
}

/** Expected episode return at `step` of `steps`: a logistic rise to the configuration's level. */
function expectedReturn(model: ConfigurationModel, step: number, steps: number): number {
  const progress = step / steps;
  const rise = 1 / (1 + Math.exp(-(progress - 0.35) * 12));
  const level = model.diverges ? model.level * Math.max(0.05, 1 - 2 * Math.max(0, progress - 0.5)) : model.level;
  return 9 + (CARTPOLE_MAX_RETURN - 9) * level * rise;
}

/** A diverging configuration's factor at `progress`: 1 until 40% of the run, then growing to 10^decades at the end. */
function blowUp(model: ConfigurationModel, progress: number, decades: number): number {
  return model.diverges ? 10 ** ((decades * Math.max(0, progress - 0.4)) / 0.6) : 1;
}

interface Shared {
  gif: Uint8Array;
  weights: Float32Array[];
}

/**
 * One real policy GIF (a full-length CartPole episode, as a trained policy's is) and one set of
 * real weights with a trained network's spread, reused by every trial: rendering per trial would be slow.
 */
async function sharedAssets(trial: Trial): Promise<Shared> {
  const env = agentEnv(makeEnv(trial.config.env), trial.config.observationScaling);
  const learner = await createLearner(learnerOptions(trial.config, env.observationSize, env.actionCount), 'fused');
  // A hand-made balancing rule (push towards the side the pole falls to) stands in for a trained network.
  const balancing = Object.assign(Object.create(learner) as QLearner, {
    greedyAction: (observation: Float32Array): number => (observation[2]! + 0.5 * observation[3]! > 0 ? 1 : 0),
  });
  const episode = recordEpisode(balancing, env, { ...EVAL_GIF_OPTIONS, seed: 1 });
  const rng = new Rng(7);
  const weights = learner.getWeights('online').map((values) => Float32Array.from(values, (value) => value + 0.1 * rng.normal()));
  learner.dispose();
  return { gif: episode.gif, weights };
}

interface TrialOutcome {
  failedAt: number | null;
  evaluations: Array<{ step: number; returnMean: number; returnStd: number; avgMaxQ: number }>;
  stdout: string[];
}

/** Writes the trial's event file as the trainer would (same tags, same steps). */
function writeTrialEvents(trial: Trial, runDir: string, shared: Shared, failedAt: number | null, model: ConfigurationModel): TrialOutcome {
  const config = trial.config;
  const rng = new Rng(trial.index * 7919 + 13);
  const lastStep = failedAt ?? config.steps;
  // Buffered: flushed when 4 MiB gather and on close, as a fast trainer's writer would be.
  const writer = new SummaryWriter(runDir, { flushSeconds: 3600 });
  const outcome: TrialOutcome = { failedAt, evaluations: [], stdout: [] };
  writer.text('config', '| option | value |\n|---|---|\n', 0);
  writer.hparamsSessionStart(configToHparams(config), { groupName: config.group || config.name });
  const bestQ = 1 / (1 - config.gamma);
  const drawLength = (step: number): number => Math.max(8, Math.min(CARTPOLE_MAX_RETURN, Math.round(expectedReturn(model, step, config.steps) * (0.6 + 0.8 * rng.nextFloat()))));
  let episode = 1;
  let episodeLength = drawLength(1);
  let episodeEnd = episodeLength;
  let lastReturn = 0;
  let loss = 0.3 + 0.2 * rng.nextFloat();
  for (let step = 1; step <= lastStep; step++) {
    if (step === episodeEnd) {
      // CartPole pays 1 per step: an episode's return is its length.
      writer.scalar('train/episode_return', episodeLength, step);
      writer.scalar('train/episode_length', episodeLength, step);
      lastReturn = episodeLength;
      episode++;
      episodeLength = drawLength(step + 1);
      episodeEnd = step + episodeLength;
    }
    if (step % config.logEvery === 0) {
      // The trainer logs a loss once training has started (NaN on its console line before).
      let meanLoss = Number.NaN;
      if (step >= config.trainStart) {
        loss *= 0.97 + 0.05 * rng.nextFloat();
        meanLoss = loss * blowUp(model, step / config.steps, 5);
        writer.scalar('train/loss', meanLoss, step);
      }
      writer.scalar('train/epsilon', config.trainEpsilon, step);
      writer.scalar('perf/steps_per_second', 3500 + 1000 * rng.nextFloat(), step);
      writer.scalar('perf/rss_mb', 140 + 10 * rng.nextFloat(), step);
      writer.scalar('perf/system_memory_used_gb', 3 + rng.nextFloat(), step);
      outcome.stdout.push(`episode ${episode} steps ${lastReturn}/${step} loss ${meanLoss.toFixed(7)} return ${lastReturn.toFixed(1)} in 0.50s 4000.0 steps/s 3.0/24.0 GB RAM`);
    }
    if (config.evalEvery > 0 && step >= config.trainStart && (step % config.evalEvery === 0 || step === config.steps)) {
      const returnMean = Math.min(CARTPOLE_MAX_RETURN, expectedReturn(model, step, config.steps) * (0.85 + 0.3 * rng.nextFloat()));
      const returnStd = returnMean * 0.1 * rng.nextFloat();
      const q = Math.min(bestQ, returnMean / 5) * (0.9 + 0.2 * rng.nextFloat()) * blowUp(model, step / config.steps, 6);
      writer.scalar('eval/return_mean', returnMean, step);
      writer.scalar('eval/return_std', returnStd, step);
      writer.scalar('eval/avg_max_q', q, step);
      shared.weights.forEach((values, i) => writer.histogram(`weights/dense_${Math.floor(i / 2) + 1}/${i % 2 === 0 ? 'kernel' : 'bias'}`, values, step));
      if (config.evalGif) writer.image('eval/policy', shared.gif, EVAL_GIF_OPTIONS.width, EVAL_GIF_OPTIONS.height, step);
      outcome.evaluations.push({ step, returnMean, returnStd, avgMaxQ: q });
      outcome.stdout.push(`episode ${episode} step ${step} episode_return_avg ${returnMean.toFixed(3)} avg_max_q_value ${q.toFixed(3)}`);
    }
  }
  writer.hparamsSessionEnd(failedAt === null ? 'success' : 'failure');
  writer.close();
  return outcome;
}

/** Why a failed trial failed: a diverging configuration's run stopped on a NaN loss; another was killed. */
function failure(model: ConfigurationModel, step: number): Pick<TrialStatus, 'exitCode' | 'signal' | 'cause'> {
  return model.diverges
    ? { exitCode: 1, signal: null, cause: `exit code 1: diverged at step ${step}: loss is NaN; try a lower learningRate or a clipNorm` }
    : { exitCode: null, signal: 'SIGKILL', cause: 'killed by SIGKILL' };
}

function trialStatus(trial: Trial, outcome: TrialOutcome, model: ConfigurationModel): TrialStatus {
  const returns = outcome.evaluations.map((evaluation) => evaluation.returnMean);
  const last = outcome.evaluations.at(-1);
  const now = new Date().toISOString();
  const failed = outcome.failedAt !== null;
  return {
    trial: trial.name,
    index: trial.index,
    state: failed ? 'failed' : 'done',
    attempt: 1,
    ...(outcome.failedAt !== null ? failure(model, outcome.failedAt) : { exitCode: 0, signal: null, cause: null }),
    startedAt: now,
    endedAt: now,
    pid: 4242,
    step: outcome.failedAt ?? trial.config.steps,
    totalSteps: trial.config.steps,
    stepsPerSecond: 4000,
    lastEvaluation: last ? { step: last.step, returnMean: last.returnMean, returnStd: last.returnStd, avgMaxQ: last.avgMaxQ } : null,
    finalReturnMean: failed ? null : (returns.at(-1) ?? null),
    bestReturnMean: failed || returns.length === 0 ? null : returns.reduce((a, b) => Math.max(a, b)),
    stdoutLog: STDOUT_LOG,
    stderrLog: STDERR_LOG,
    updatedAt: now,
    host: hostname(),
  };
}

async function writeTrial(trial: Trial, shared: Shared, model: ConfigurationModel): Promise<number> {
  const failedAt = (trial.index + 1) % FAILED_EVERY === 0 ? Math.floor(trial.config.steps / 2) : null;
  const runDir = await prepareRunDir(trial.config, { rlsweepVersion: 'synthetic', engineUsed: 'fused', startedAt: new Date().toISOString() }, true);
  await writeJsonAtomic(path.join(runDir, TRIAL_CONFIG_FILE), trial.config);
  const outcome = writeTrialEvents(trial, runDir, shared, failedAt, model);
  const status = trialStatus(trial, outcome, model);
  await fs.writeFile(path.join(runDir, STDOUT_LOG), `${outcome.stdout.join('\n')}\n`);
  await fs.writeFile(path.join(runDir, STDERR_LOG), status.exitCode === 1 ? `${status.cause!.replace(/^exit code 1: /, 'error: ')}\n` : '');
  await writeStatus(runDir, status);
  let bytes = 0;
  for (const name of await fs.readdir(runDir)) if (name.includes('tfevents')) bytes += (await fs.stat(path.join(runDir, name))).size;
  return bytes;
}

/** Writes the sweep file and its sweep folder; a folder left from an earlier call is replaced. */
export async function writeSyntheticSweep(options: SyntheticSweepOptions): Promise<SyntheticSweep> {
  await fs.mkdir(options.root, { recursive: true });
  const sweepFile = path.join(options.root, `${options.name}.yaml`);
  await fs.writeFile(sweepFile, sweepFileText(options));
  const sweepDir = path.join(options.root, 'runs', options.name);
  await fs.rm(sweepDir, { recursive: true, force: true });
  await fs.mkdir(sweepDir, { recursive: true });
  const spec = await loadSweepSpec(sweepFile);
  const trials = expandSweep(spec, { sweepDir });
  await writeManifest(sweepDir, sweepManifest(spec, trials));
  const shared = await sharedAssets(trials[0]!);
  let eventBytes = 0;
  const model = (trial: Trial): ConfigurationModel => configurationModel(trial.configIndex, options);
  for (const trial of trials) eventBytes += await writeTrial(trial, shared, model(trial));
  const diverging = [...new Set(trials.filter((trial) => model(trial).diverges).map((trial) => trial.configName))];
  const failed = trials.filter((trial) => (trial.index + 1) % FAILED_EVERY === 0).map((trial) => trial.name);
  return { sweepFile, sweepDir, trials: trials.length, diverging, failed, eventBytes };
}
