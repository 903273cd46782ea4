/**
 * The measurements of `npm run bench` that run inside a child process, one task per
 * process, so that RSS and JIT state belong to one engine (or one job) only. The parent
 * (scripts/bench.ts) forks this file with one JSON task argument and receives the
 * result over IPC.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { QLearner, TransitionBatch } from '../src/agent/learner.js';
import { ReplayBuffer } from '../src/agent/replay-buffer.js';
import { envIds, makeEnv } from '../src/envs/index.js';
import { backendLine } from '../src/tf.js';
import { type RunConfig, defaultRunConfig, resolveConfig } from '../src/train/config.js';
import { memoryOutput } from '../src/train/run-output.js';
import type { RunProgressMessage } from '../src/train/run-messages.js';
import { prepareRunDir, runBackendLine, train } from '../src/train/trainer.js';
import { Rng } from '../src/util/random.js';

export type Engine = 'fused' | 'tfjs';

/**
 * The configurations the engines are timed on (MountainCar-v0 each): the Toptal default
 * (2x32, one gradient step per env step); the MountainCar preset's network and schedule
 * (sweeps/presets/mountaincar.yaml: 128x128, 8 gradient steps every 16 env steps, scaled
 * observations, PyTorch init, global-norm clipping); and the default with SB3's settings
 * (Huber, global-norm clipping instead of Keras clipnorm, PyTorch init).
 */
export type BenchSetup = 'toptal' | 'preset128' | 'sb3';

export const SETUPS: Record<BenchSetup, Partial<RunConfig>> = {
  toptal: {},
  preset128: {
    observationScaling: 'bounds',
    weightInit: 'pytorch',
    hiddenLayers: [128, 128],
    learningRateSchedule: 'linear',
    learningRateEnd: 0.0005,
    bufferSize: 10_000,
    trainStart: 1000,
    targetUpdateEvery: 250,
    trainFrequency: 16,
    gradientSteps: 8,
    clipNorm: 0,
    clipGlobalNorm: 10,
    epsilonSchedule: 'linear',
    epsilonStart: 1,
    epsilonFraction: 0.2,
    trainEpsilon: 0.01,
  },
  sb3: { loss: 'huber', clipNorm: 0, clipGlobalNorm: 10, weightInit: 'pytorch' },
};

export type ChildTask = { kind: 'engine'; engine: Engine; setup: BenchSetup; trainSteps: number; seconds: number } | { kind: 'envs'; seconds: number } | { kind: 'long'; steps: number };

export interface EngineFigures {
  engine: Engine;
  setup: BenchSetup;
  /** The run's backend line: for the fused engine, which kernels computed (WebAssembly SIMD or JavaScript). */
  backend: string;
  /** Environment steps per second of the training loop, from trainStart to the end: by the wall clock, and per second of this process's CPU time. */
  envStepsPerSecond: number;
  envStepsPerCpuSecond: number;
  trainSteps: number;
  /** Micro-benchmarks on MountainCar replay batches: by the wall clock, and per CPU second (CPU microseconds per action). */
  gradientStepsPerSecond: number;
  gradientStepsPerCpuSecond: number;
  greedyActionMicroseconds: number;
  greedyActionCpuMicroseconds: number;
  /** RSS right after the training run, and the process's peak. */
  rssMb: number;
  peakRssMb: number;
}

export interface EnvFigures {
  env: string;
  /** Through step(), which returns a fresh observation array. */
  stepPerSecond: number;
  /** Through stepInto(), which allocates nothing. */
  stepIntoPerSecond: number;
}

export interface RssSample {
  step: number;
  rssMb: number;
  heapUsedMb: number;
  /** Memory of ArrayBuffers (typed arrays, Buffers): garbage ones last until a major GC. */
  arrayBuffersMb: number;
}

export interface LongRunFigures {
  steps: number;
  seconds: number;
  /** RSS once training starts (the first progress report, at trainStart) and at the last report. */
  rssStartMb: number;
  rssEndMb: number;
  rssMaxMb: number;
  arrayBuffersStartMb: number;
  arrayBuffersEndMb: number;
  samples: RssSample[];
}

export type ChildResult = EngineFigures | EnvFigures[] | LongRunFigures;

const MB = 2 ** 20;
const BATCH_POOL = 16;
const STATE_POOL = 256;
const REPLAY_FILL = 20_000;

const rssMb = (): number => process.memoryUsage.rss() / MB;

/** A temporary logdir for one measurement, removed afterwards. */
async function withLogdir<T>(work: (logdir: string) => Promise<T>): Promise<T> {
  const logdir = await fs.mkdtemp(path.join(os.tmpdir(), 'rlsweep-bench-'));
  try {
    return await work(logdir);
  } finally {
    await fs.rm(logdir, { recursive: true, force: true });
  }
}

/** This process's CPU time (user and system, all its threads) in seconds. */
const cpuSeconds = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
};

/**
 * Runs `work` in rounds of `roundSize` calls for about `seconds` after a warm-up; returns
 * calls per second of the wall clock and per second of this process's CPU time (which
 * other processes on a shared machine distort less).
 */
function callsPerSecond(work: (call: number) => void, seconds: number, roundSize: number): { wall: number; cpu: number } {
  const warmupEnd = performance.now() + Math.min(0.5, seconds / 4) * 1000;
  let call = 0;
  while (performance.now() < warmupEnd) work(call++);
  const start = performance.now();
  const cpuStart = cpuSeconds();
  const end = start + seconds * 1000;
  let calls = 0;
  while (performance.now() < end) {
    for (let i = 0; i < roundSize; i++) work(calls++);
  }
  return { wall: calls / ((performance.now() - start) / 1000), cpu: calls / (cpuSeconds() - cpuStart) };
}

/**
 * Trains on the default config (MountainCar-v0) for trainSteps steps after trainStart, with
 * evaluation only at the end and no snapshots in between, and times the loop from the
 * progress report at trainStart to the last one: acting, stepping, replay, gradient steps,
 * target updates, logging and checkpoints, but not start-up or the final evaluation.
 */
async function endToEnd(engine: Engine, setup: BenchSetup, trainSteps: number): Promise<{ stepsPerSecond: number; stepsPerCpuSecond: number; learner: QLearner }> {
  return withLogdir(async (logdir) => {
    const setupConfig = SETUPS[setup];
    const steps = (setupConfig.trainStart ?? defaultRunConfig().trainStart) + trainSteps;
    const overrides = { ...setupConfig, engine, steps, evalEvery: 0, evalSteps: 200, evalGif: false, snapshotEvery: 0, logdir, name: `e2e-${engine}` };
    const config = resolveConfig({ values: overrides, source: 'bench' });
    const runDir = await prepareRunDir(config, {}, false);
    const marks: Array<{ step: number; time: number; cpuMicroseconds: number }> = [];
    const report = (message: RunProgressMessage): void => {
      if (message.type !== 'progress' || message.step < config.trainStart) return;
      const cpu = process.cpuUsage();
      marks.push({ step: message.step, time: performance.now(), cpuMicroseconds: cpu.user + cpu.system });
    };
    const result = await train(config, { runDir, output: memoryOutput(), report });
    const first = marks[0];
    const last = marks.at(-1);
    if (!first || !last || last.step === first.step) throw new Error(`bench: too few progress reports (${marks.length}) to time ${engine}`);
    const timedSteps = last.step - first.step;
    return {
      stepsPerSecond: (timedSteps / (last.time - first.time)) * 1000,
      stepsPerCpuSecond: (timedSteps / (last.cpuMicroseconds - first.cpuMicroseconds)) * 1e6,
      learner: result.learner,
    };
  });
}

/** Replay batches and single states from MountainCar under a random policy: realistic inputs for the micro-benchmarks. */
function mountainCarSamples(): { batches: TransitionBatch[]; states: Float32Array[] } {
  const env = makeEnv('MountainCar-v0');
  const replay = new ReplayBuffer(REPLAY_FILL, env.observationSize);
  const rng = new Rng(7);
  const observation = new Float32Array(env.observationSize);
  const next = new Float32Array(env.observationSize);
  env.resetInto(observation, { seed: 7 });
  for (let i = 0; i < REPLAY_FILL; i++) {
    const action = rng.nextInt(env.actionCount);
    const status = env.stepInto(action, next);
    replay.add(observation, action, status.reward, next, status.terminated);
    if (status.terminated || status.truncated) env.resetInto(observation);
    else observation.set(next);
  }
  const batches = Array.from({ length: BATCH_POOL }, () => replay.sample(rng, replay.allocateBatch(64)));
  const states = replay.sampleStates(rng, STATE_POOL);
  const size = env.observationSize;
  return { batches, states: Array.from({ length: STATE_POOL }, (_, i) => states.subarray(i * size, (i + 1) * size)) };
}

async function measureEngine(engine: Engine, setup: BenchSetup, trainSteps: number, seconds: number): Promise<EngineFigures> {
  const backend = (engine === 'fused' ? await runBackendLine('fused') : await backendLine()).replace(/^backend: /, '');
  const { stepsPerSecond, stepsPerCpuSecond, learner } = await endToEnd(engine, setup, trainSteps);
  const rssAfterRun = rssMb();
  const { batches, states } = mountainCarSamples();
  const gradientSteps = callsPerSecond((call) => learner.trainStep(batches[call % BATCH_POOL]!), seconds, 10);
  const actions = callsPerSecond((call) => learner.greedyAction(states[call % STATE_POOL]!), seconds, 100);
  learner.dispose();
  return {
    engine,
    setup,
    backend,
    envStepsPerSecond: stepsPerSecond,
    envStepsPerCpuSecond: stepsPerCpuSecond,
    trainSteps,
    gradientStepsPerSecond: gradientSteps.wall,
    gradientStepsPerCpuSecond: gradientSteps.cpu,
    greedyActionMicroseconds: 1e6 / actions.wall,
    greedyActionCpuMicroseconds: 1e6 / actions.cpu,
    rssMb: rssAfterRun,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

/** Raw steps per second of every env under random actions (drawn beforehand), through step() and stepInto(). */
function measureEnvs(seconds: number): EnvFigures[] {
  return envIds.map((id) => {
    const env = makeEnv(id);
    const rng = new Rng(1);
    const actions = Int32Array.from({ length: 4096 }, () => rng.nextInt(env.actionCount));
    const observation = new Float32Array(env.observationSize);
    env.resetInto(observation, { seed: 1 });
    const stepIntoPerSecond = callsPerSecond(
      (call) => {
        const status = env.stepInto(actions[call & 4095]!, observation);
        if (status.terminated || status.truncated) env.resetInto(observation);
      },
      seconds,
      1000,
    ).wall;
    env.reset({ seed: 1 });
    const stepPerSecond = callsPerSecond(
      (call) => {
        const result = env.step(actions[call & 4095]!);
        if (result.terminated || result.truncated) env.reset();
      },
      seconds,
      1000,
    ).wall;
    return { env: id, stepPerSecond, stepIntoPerSecond };
  });
}

/** The default config for `steps` steps (evaluations, GIFs, snapshots and checkpoints included), sampling RSS at every progress report. */
async function measureLongRun(steps: number): Promise<LongRunFigures> {
  return withLogdir(async (logdir) => {
    const config = resolveConfig({ values: { steps, logdir, name: 'long' }, source: 'bench' });
    const runDir = await prepareRunDir(config, {}, false);
    const samples: RssSample[] = [];
    const report = (message: RunProgressMessage): void => {
      if (message.type !== 'progress') return;
      const memory = process.memoryUsage();
      samples.push({ step: message.step, rssMb: memory.rss / MB, heapUsedMb: memory.heapUsed / MB, arrayBuffersMb: memory.arrayBuffers / MB });
    };
    const started = performance.now();
    await train(config, { runDir, output: memoryOutput(), report });
    const seconds = (performance.now() - started) / 1000;
    const start = samples.find((sample) => sample.step >= config.trainStart) ?? samples[0];
    const end = samples.at(-1);
    if (!start || !end) throw new Error('bench: the long run sent no progress reports');
    const rssMaxMb = Math.max(...samples.map((sample) => sample.rssMb));
    return {
      steps,
      seconds,
      rssStartMb: start.rssMb,
      rssEndMb: end.rssMb,
      rssMaxMb,
      arrayBuffersStartMb: start.arrayBuffersMb,
      arrayBuffersEndMb: end.arrayBuffersMb,
      samples,
    };
  });
}

async function runTask(task: ChildTask): Promise<ChildResult> {
  switch (task.kind) {
    case 'engine':
      return measureEngine(task.engine, task.setup, task.trainSteps, task.seconds);
    case 'envs':
      return measureEnvs(task.seconds);
    case 'long':
      return measureLongRun(task.steps);
  }
}

const task = JSON.parse(process.argv[2] ?? 'null') as ChildTask | null;
if (!task || !process.send) {
  console.error('bench-child.ts runs inside `npm run bench`, forked with a JSON task');
  process.exit(2);
}
const result = await runTask(task);
process.send(result, undefined, {}, () => process.exit(0));
