/**
 * Calibration: what each unit of a trial's work (src/sweep/cost-model.ts) costs on this
 * machine, measured in this process for every distinct shape of trial (env, network, batch,
 * loss, engine) with the same code a trial runs — a few hundred milliseconds each —
 * plus one real process start-up, one real checkpoint write in a temporary folder, and each
 * shape's gradient step timed again beside a second process training the same shape.
 * Nothing under the logdir is touched.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLearner, resolveEngine } from '../agent/index.js';
import { ReplayBuffer } from '../agent/replay-buffer.js';
import { EnvError, envIds, envSpec, makeEnv } from '../envs/index.js';
import { agentEnv } from '../envs/scaling.js';
import { prepareEnv, prepareEnvs } from '../envs/load-env.js';
import { canRenderRgb } from '../envs/render-rgb.js';
import { saveCheckpoint } from '../train/checkpoint.js';
import { defaultRunConfig, type RunConfig } from '../train/config.js';
import { epsilonGreedy } from '../train/evaluate.js';
import { EVAL_GIF_OPTIONS, recordEpisode } from '../train/policy-gif.js';
import { learnerOptions } from '../train/run-state.js';
import { Rng } from '../util/random.js';
import { type CostConfig, type EtaModel, type UnitCosts, envShapeOf, runningTrialEtaSeconds, shareCores, trialSeconds } from './cost-model.js';
import { defaultRunEntry, SINGLE_THREAD_ENV, tsxExecArgv } from './executor.js';
import { formatDuration } from './progress-view.js';
import { readTrialConfig } from './trial-status.js';

/** Per shape: seconds of one core for each unit of work except the start-up and checkpoints, which are per machine. */
type ShapeCosts = Omit<UnitCosts, 'startup' | 'checkpointByte' | 'neighbourSlowdown'>;

export interface Calibration {
  /** Unit costs per shape key (see shapeKey). */
  shapes: Map<string, UnitCosts>;
  /** A readable name per measured shape key, e.g. "CartPole-v1 128x128 batch 64" (the others were scaled from these). */
  labels: Map<string, string>;
  /** Wall seconds the calibration took. */
  seconds: number;
  /** Seconds for a trial process to start and exit, as measured (0 when not measured). */
  startupSeconds: number;
  /** The 1-minute load average when calibrating: other processes slow trials down too. */
  loadAverage: number;
}

/** The options that decide what one unit of work costs. */
export type ShapeConfig = Pick<RunConfig, 'env' | 'observationScaling' | 'hiddenLayers' | 'activation' | 'engine' | 'batchSize' | 'loss' | 'doubleDqn' | 'clipNorm' | 'clipGlobalNorm' | 'tau'>;

/** Trials with the same key cost the same per unit of work (the buffer's size and the GIFs change how much work, not its unit cost). */
export function shapeKey(config: ShapeConfig): string {
  const { observationSize, actionCount } = envSpec(config.env);
  const engine = resolveEngine({ observationSize, actionCount, hiddenLayers: config.hiddenLayers, activation: config.activation }, config.engine);
  return JSON.stringify([
    config.env,
    config.observationScaling,
    config.hiddenLayers,
    config.activation,
    engine,
    config.batchSize,
    config.loss,
    config.doubleDqn,
    config.clipNorm > 0,
    config.clipGlobalNorm > 0,
    config.tau === 1,
  ]);
}

export function shapeLabel(config: ShapeConfig): string {
  const { observationSize, actionCount } = envSpec(config.env);
  const engine = resolveEngine({ observationSize, actionCount, hiddenLayers: config.hiddenLayers, activation: config.activation }, config.engine);
  return `${config.env} ${config.hiddenLayers.join('x') || 'linear'} batch ${config.batchSize}${config.doubleDqn ? ' double' : ''}${engine === 'fused' ? '' : ` ${engine}`}`;
}

/** At least this much CPU time is measured per unit, so the clock's granularity stays a small part of it. */
const MIN_MEASURED_CPU_MS = 40;
/** ... unless that takes this many budgets of wall time. */
const GIVE_UP_AFTER_BUDGETS = 10;

/** Linux: the main thread's own CPU time, in ns (first field). */
const MAIN_THREAD_SCHEDSTAT = `/proc/${process.pid}/task/${process.pid}/schedstat`;
const hasSchedstat = ((): boolean => {
  try {
    // Kernels without scheduler statistics print zeros.
    return Number(readFileSync(MAIN_THREAD_SCHEDSTAT, 'utf8').split(' ')[0]) > 0;
  } catch {
    return false;
  }
})();

/**
 * CPU milliseconds of this process's main thread (elsewhere than Linux: of the whole
 * process). The compiler and GC threads, still busy after the modules load, do not count,
 * and other processes on the machine inflate it far less than the wall clock. It moves only
 * at scheduler ticks (a few ms), so only long spans of it are read.
 */
function cpuMs(): number {
  if (hasSchedstat) return Number(readFileSync(MAIN_THREAD_SCHEDSTAT, 'utf8').split(' ')[0]) / 1e6;
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * CPU seconds per call of `body` (one unit of work), averaged over about `budgetMs` of wall
 * time after a warm-up of a quarter of it for the JIT, and over at least MIN_MEASURED_CPU_MS of
 * CPU time (longer on a busy machine). CPU time, because a trial's wall time on a free core is
 * its CPU time.
 */
function timePerCall(body: () => void, budgetMs: number): number {
  const warmUntil = performance.now() + budgetMs / 4;
  while (performance.now() < warmUntil) body();
  const start = performance.now();
  const end = start + (budgetMs * 3) / 4;
  const cpuStart = cpuMs();
  let calls = 0;
  let batch = 1;
  for (;;) {
    const batchStart = performance.now();
    for (let i = 0; i < batch; i++) body();
    calls += batch;
    const now = performance.now();
    // Read the clocks about every millisecond: cheap next to the work, fine enough for the budget.
    if (now - batchStart < 1) batch *= 2;
    if (now >= end) {
      const cpu = cpuMs() - cpuStart;
      if (cpu >= MIN_MEASURED_CPU_MS) return cpu / calls / 1000;
      // A machine so busy that this process hardly runs: the wall clock is all there is.
      if (now >= end + GIVE_UP_AFTER_BUDGETS * budgetMs) return (now - start) / calls / 1000;
    }
  }
}

/** A learner of `config`'s shape and a replay buffer to train it from, as a trial has them. */
export async function gradientStepBench(config: RunConfig): Promise<{ step: () => void; dispose: () => void }> {
  // The neighbour is a process of its own: a module or Python env is loaded here too.
  await prepareEnv(config.env);
  const env = agentEnv(makeEnv(config.env), config.observationScaling);
  const learner = await createLearner(learnerOptions(config, env.observationSize, env.actionCount), config.engine);
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
  return {
    step: () => {
      learner.trainStep(replay.sample(rng, batch));
    },
    dispose: () => learner.dispose(),
  };
}

/** How many times slower a gradient step of `config`'s shape goes while the neighbour trains the same shape (>= 1). */
async function measureNeighbourSlowdown(neighbour: Neighbour, config: RunConfig, budgetMs: number): Promise<number> {
  const bench = await gradientStepBench(config);
  try {
    const alone = timePerCall(bench.step, budgetMs);
    const beside = await neighbour.beside(config, budgetMs * 1.5, () => timePerCall(bench.step, budgetMs));
    return Math.max(1, beside / alone);
  } finally {
    bench.dispose();
  }
}

/** Measures one shape with the code a trial runs: the env, the replay buffer, the learner, the GIF recorder. */
async function measureShape(config: RunConfig, budgetMs: number): Promise<ShapeCosts> {
  const env = agentEnv(makeEnv(config.env), config.observationScaling);
  const learner = await createLearner(learnerOptions(config, env.observationSize, env.actionCount), config.engine);
  try {
    const replay = new ReplayBuffer(config.bufferSize, env.observationSize);
    const rng = new Rng(config.seed);
    let observation: Float32Array = env.reset({ seed: config.seed });
    let next: Float32Array = new Float32Array(env.observationSize);
    // A training-loop step with a random action (epsilon 1), as in src/train/trainer.ts.
    const envStep = (): void => {
      const action = epsilonGreedy(learner, observation, 1, env.actionCount, rng);
      const { reward, terminated, truncated } = env.stepInto(action, next);
      replay.add(observation, action, reward, next, terminated);
      [observation, next] = [next, observation];
      if (terminated || truncated) env.resetInto(observation);
    };
    const envStepCost = timePerCall(envStep, budgetMs * 0.2);
    while (replay.size < config.batchSize) envStep();
    const greedyAction = timePerCall(() => {
      learner.greedyAction(observation);
    }, budgetMs * 0.1);
    const batch = replay.allocateBatch(config.batchSize);
    const gradientStep = timePerCall(() => {
      learner.trainStep(replay.sample(rng, batch));
    }, budgetMs * 0.4);
    const targetUpdate = timePerCall(() => learner.updateTarget(config.tau), budgetMs * 0.05);
    const states = replay.sampleStates(rng, Math.min(config.qValidationSize, 1000));
    const stateCount = states.length / env.observationSize;
    const qValues = new Float32Array(stateCount * env.actionCount);
    const qValidationState = timePerCall(() => learner.qValues(states, stateCount, qValues), budgetMs * 0.05) / stateCount;
    // Measured whether this config draws GIFs or not: another one of the same shape may.
    const gifEnv = agentEnv(makeEnv(config.env), config.observationScaling);
    // The same seed and weights give the same episode every time, so frames per call are
    // constant; a few frames per episode are enough to time one (and keep this short).
    const record = (): number => recordEpisode(learner, gifEnv, { ...EVAL_GIF_OPTIONS, maxFrames: 8, seed: config.seed }).frames;
    // An env without an RGB renderer draws no GIF (the run skips it), so frames cost nothing.
    const gifFrame = canRenderRgb(gifEnv) ? timePerCall(record, budgetMs * 0.2) / record() : 0;
    return { envStep: envStepCost, greedyAction, gradientStep, targetUpdate, qValidationState, gifFrame };
  } finally {
    learner.dispose();
  }
}

/** Seconds per byte of a checkpoint: one real checkpoint of `bytes` written to a temporary folder. */
async function measureCheckpointByte(bytes: number): Promise<number> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rlsweep-calibrate-'));
  try {
    const content = { step: 1, state: {}, arrays: { replay: new Float32Array(Math.ceil(bytes / 4)) } };
    const start = performance.now();
    await saveCheckpoint(dir, content);
    return (performance.now() - start) / 1000 / bytes;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Loaded into the start-up probe: reports the CPU time the process used, as it exits. */
const CPU_REPORT_HOOK = 'process.on("exit",()=>{const u=process.cpuUsage();process.stderr.write("\\nrlsweep-cpu-us "+(u.user+u.system)+"\\n")})';

/**
 * CPU seconds a trial's process takes to start and exit: the run entry, started as a sweep
 * starts it (Node, tsx, the imports, the run folder, the logs, the final snapshot), for one
 * step of training and one of evaluation, in a temporary folder.
 */
async function measureStartup(envId: string): Promise<number> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rlsweep-calibrate-'));
  try {
    return await new Promise<number>((resolve, reject) => {
      const args = ['--env', envId, '--steps', '1', '--eval-steps', '1', '--no-eval-gif', '--checkpoint-every', '0', '--logdir', dir, '--name', 'start-up'];
      const child = fork(defaultRunEntry(), args, {
        execArgv: [...tsxExecArgv(), '--import', `data:text/javascript,${encodeURIComponent(CPU_REPORT_HOOK)}`],
        env: { ...process.env, ...SINGLE_THREAD_ENV },
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.on('error', reject);
      child.on('exit', (code) => {
        const cpu = /rlsweep-cpu-us (\d+)/.exec(stderr);
        if (code === 0 && cpu) resolve(Number(cpu[1]) / 1e6);
        else reject(new Error(`could not time a trial's start-up: ${defaultRunEntry()} ${args.join(' ')} exited with code ${code}: ${stderr.trim()}`));
      });
    });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** measureStartup, on a built-in env when a module env's run fails (its trials will say why; this is only the estimate). */
async function measureStartupOf(envId: string): Promise<number> {
  try {
    return await measureStartup(envId);
  } catch (error) {
    if (envIds.includes(envId)) throw error;
    return measureStartup(envIds[0]!);
  }
}

/** A child process that trains a shape beside the calibration (src/sweep/calibrate-neighbour.ts). */
class Neighbour {
  private readonly child: ChildProcess;
  private readonly messages: string[] = [];
  private waiting: (() => void) | null = null;
  private failure: Error | null = null;

  constructor() {
    const entry = fileURLToPath(new URL('./calibrate-neighbour.ts', import.meta.url));
    this.child = fork(entry, [], { execArgv: tsxExecArgv(), env: { ...process.env, ...SINGLE_THREAD_ENV }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    this.child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    this.child.on('message', (message: string) => {
      this.messages.push(message);
      this.waiting?.();
    });
    this.child.on('exit', (code) => {
      this.failure ??= new Error(`the calibration's neighbour process ended (code ${code}): ${stderr.trim()}`);
      this.waiting?.();
    });
    this.child.on('error', (error) => {
      this.failure = error;
      this.waiting?.();
    });
  }

  private async next(expected: string): Promise<void> {
    while (this.messages.length === 0) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
      });
      this.waiting = null;
    }
    const message = this.messages.shift();
    if (message !== expected) throw new Error(`the calibration's neighbour said ${String(message)}, expected ${expected}`);
  }

  /** Runs `measure` while the neighbour trains `config`'s shape. */
  async beside<T>(config: RunConfig, ms: number, measure: () => T): Promise<T> {
    this.child.send({ config, ms });
    await this.next('ready');
    const result = measure();
    await this.next('done');
    return result;
  }

  close(): void {
    this.failure ??= new Error('closed');
    if (this.child.connected) this.child.disconnect();
  }
}

/** Milliseconds of measurement per shape. */
export const SHAPE_BUDGET_MS = 250;
/** A checkpoint of this size is written once to time the disk. */
const CHECKPOINT_PROBE_BYTES = 4 * 2 ** 20;

export interface CalibrateOptions {
  /** Milliseconds of measurement per shape (default SHAPE_BUDGET_MS). */
  shapeBudgetMs?: number;
  /** Time a real process start-up (default true). */
  measureStartup?: boolean;
  /** Time gradient steps again beside another trial, when the machine has two cores or more (default true). */
  measureNeighbours?: boolean;
}

/** Measures the unit costs of every distinct shape among `configs`. */
export async function calibrate(configs: readonly RunConfig[], options: CalibrateOptions = {}): Promise<Calibration> {
  const start = performance.now();
  // Module and Python envs are measured as their trials run them, so they are loaded here first.
  await prepareEnvs(configs.map((config) => config.env));
  const budgetMs = options.shapeBudgetMs ?? SHAPE_BUDGET_MS;
  const loadAverage = os.loadavg()[0] ?? 0;
  // Started first, so it has loaded by the time the shapes are measured.
  const neighbour = options.measureNeighbours !== false && os.availableParallelism() >= 2 && configs.length > 0 ? new Neighbour() : null;
  try {
    const startupSeconds = options.measureStartup === false || !configs[0] ? 0 : await measureStartupOf(configs[0].env);
    const checkpointByte = configs.some((config) => config.checkpointEvery > 0 && config.checkpointEvery < config.steps) ? await measureCheckpointByte(CHECKPOINT_PROBE_BYTES) : 0;
    const distinct = new Map<string, RunConfig>();
    for (const config of configs) if (!distinct.has(shapeKey(config))) distinct.set(shapeKey(config), config);
    const toMeasure = shapesToMeasure([...distinct.values()]);
    const shapes = new Map<string, UnitCosts>();
    const labels = new Map<string, string>();
    // The first shape would otherwise pay for compiling the engine's loops, which every shape shares.
    if (toMeasure[0]) await measureShape(toMeasure[0], budgetMs);
    const measured: Array<{ config: RunConfig; costs: UnitCosts }> = [];
    for (const config of toMeasure) {
      let costs: UnitCosts;
      try {
        const neighbourSlowdown = neighbour ? await measureNeighbourSlowdown(neighbour, config, budgetMs * 0.4) : 1;
        costs = { ...(await measureShape(config, budgetMs)), checkpointByte, startup: startupSeconds, neighbourSlowdown };
      } catch (error) {
        // A module env that breaks fails its own trials when they run; the estimate prices them from the other shapes.
        if (error instanceof EnvError) continue;
        throw error;
      }
      measured.push({ config, costs });
      shapes.set(shapeKey(config), costs);
      labels.set(shapeKey(config), shapeLabel(config));
    }
    // Every env failed while measuring: the estimate prices their trials as CartPole's of the same network.
    if (measured.length === 0 && toMeasure[0]) {
      const standIn = { ...toMeasure[0], env: 'CartPole-v1', observationScaling: 'none' as const };
      measured.push({ config: standIn, costs: { ...(await measureShape(standIn, budgetMs)), checkpointByte, startup: startupSeconds, neighbourSlowdown: 1 } });
    }
    for (const [key, config] of distinct) {
      if (!shapes.has(key)) shapes.set(key, scaledFromNearest(config, measured));
    }
    return { shapes, labels, seconds: (performance.now() - start) / 1000, startupSeconds, loadAverage };
  } finally {
    neighbour?.close();
  }
}

/** At most this many shapes are measured; the others are scaled from the nearest measured one. */
export const MAX_MEASURED_SHAPES = 16;

/** Weights of a config's network: what one forward pass costs, roughly. */
function networkWeights(config: ShapeConfig): number {
  const { observationSize, actionCount } = envSpec(config.env);
  const sizes = [observationSize, ...config.hiddenLayers, actionCount];
  let weights = 0;
  for (let i = 1; i < sizes.length; i++) weights += (sizes[i - 1]! + 1) * sizes[i]!;
  return weights;
}

/** Every shape when there are few; else an even spread over the gradient step's size, and one of every env. */
function shapesToMeasure(distinct: RunConfig[]): RunConfig[] {
  if (distinct.length <= MAX_MEASURED_SHAPES) return distinct;
  const bySize = [...distinct].sort((a, b) => a.batchSize * networkWeights(a) - b.batchSize * networkWeights(b));
  const chosen = new Set<RunConfig>();
  for (const env of new Set(bySize.map((config) => config.env))) chosen.add(bySize.find((config) => config.env === env)!);
  const last = bySize.length - 1;
  for (let i = 0; i < MAX_MEASURED_SHAPES && chosen.size < MAX_MEASURED_SHAPES; i++) {
    chosen.add(bySize[Math.round((i * last) / (MAX_MEASURED_SHAPES - 1))]!);
  }
  return bySize.filter((config) => chosen.has(config));
}

/** The costs of an unmeasured shape: the nearest measured one of its env, scaled by network size and batch. */
function scaledFromNearest(config: RunConfig, measured: ReadonlyArray<{ config: RunConfig; costs: UnitCosts }>): UnitCosts {
  const sameEnv = measured.filter((m) => m.config.env === config.env);
  const pool = sameEnv.length > 0 ? sameEnv : measured;
  const size = (c: ShapeConfig): number => c.batchSize * networkWeights(c);
  const distance = (c: ShapeConfig): number => Math.abs(Math.log(size(c) / size(config)));
  const nearest = pool.reduce((best, m) => (distance(m.config) < distance(best.config) ? m : best));
  const weightRatio = networkWeights(config) / networkWeights(nearest.config);
  const { costs } = nearest;
  return {
    ...costs,
    greedyAction: costs.greedyAction * weightRatio,
    gradientStep: costs.gradientStep * (size(config) / size(nearest.config)),
    targetUpdate: costs.targetUpdate * weightRatio,
    qValidationState: costs.qValidationState * weightRatio,
  };
}

/** The unit costs of a config's shape; an error when it was not calibrated (a bug, not a user mistake). */
export function costsOf(calibration: Calibration, config: ShapeConfig): UnitCosts {
  const costs = calibration.shapes.get(shapeKey(config));
  if (!costs) throw new Error(`no calibration for the shape ${shapeLabel(config)}`);
  return costs;
}

export interface SweepEstimate {
  /** Wall seconds for all the trials, and for the sweep's own start and calibration before them. */
  totalSeconds: number;
  /** One core's seconds per trial, in input order. */
  trialSeconds: number[];
  /** Wall seconds from the start until each trial ends. */
  endSeconds: number[];
  concurrency: number;
  cores: number;
}

/** Calibrates the shapes of `configs` and estimates their wall time: what `sweep plan` prints. */
export async function calibrateAndEstimate(
  configs: ReadonlyArray<RunConfig>,
  concurrency: number,
  cores: number,
  options: CalibrateOptions = {},
): Promise<{ calibration: Calibration; estimate: SweepEstimate }> {
  const calibration = await calibrate(configs, options);
  return { calibration, estimate: estimateSweep(configs, calibration, concurrency, cores) };
}

/** The wall time of `configs` run in order, `concurrency` at a time on `cores` cores. */
export function estimateSweep(configs: ReadonlyArray<RunConfig & CostConfig>, calibration: Calibration, concurrency: number, cores: number): SweepEstimate {
  const work = configs.map((config) => trialSeconds(config, envShapeOf(config.env), costsOf(calibration, config)));
  const schedule = shareCores(
    work,
    concurrency,
    cores,
    configs.map((config) => costsOf(calibration, config).neighbourSlowdown),
  );
  // `sweep run` starts as a trial does, and calibrates as this estimate did.
  const ownStart = calibration.startupSeconds + calibration.seconds;
  return { totalSeconds: ownStart + schedule.totalSeconds, trialSeconds: work, endSeconds: schedule.endSeconds, concurrency, cores };
}

/** The plan lists the unit costs of this many shapes at most. */
const SHAPES_LISTED = 8;

function formatCost(seconds: number): string {
  if (seconds >= 0.1) return `${seconds.toFixed(2)} s`;
  if (seconds >= 1e-4) return `${(seconds * 1000).toFixed(2)} ms`;
  return `${(seconds * 1e6).toFixed(1)} µs`;
}

/** How the estimate was made, for the plan: what was measured, and how trials share the cores. */
export function describeEstimate(calibration: Calibration, estimate: SweepEstimate, trials: number): string[] {
  const shapes = calibration.labels.size;
  const scaled = calibration.shapes.size - shapes;
  const cores = Number.isFinite(estimate.cores) ? `${estimate.cores} core${estimate.cores === 1 ? '' : 's'}` : 'a core each';
  const lines = [
    `about ${formatDuration(estimate.totalSeconds)} for ${trials} trial${trials === 1 ? '' : 's'}, ${Math.min(estimate.concurrency, Math.max(1, trials))} at a time on ${cores}` +
      `${estimate.concurrency > estimate.cores ? ' (more trials than cores: each runs slower)' : ''}`,
    `  calibrated ${shapes} shape${shapes === 1 ? '' : 's'}${scaled > 0 ? ` (${scaled} more scaled from the nearest by network size x batch)` : ''} in ${calibration.seconds.toFixed(1)} s on this machine (load average ${calibration.loadAverage.toFixed(1)}): ` +
      `trial start-up ${calibration.startupSeconds.toFixed(2)} s of CPU; evaluation episodes counted at their time limit`,
  ];
  if (Number.isFinite(estimate.cores) && calibration.loadAverage >= estimate.cores / 2) {
    lines.push(`  the machine is busy (load average ${calibration.loadAverage.toFixed(1)} on ${estimate.cores} cores): this assumes free cores, so expect longer`);
  }
  for (const [key, label] of [...calibration.labels].slice(0, SHAPES_LISTED)) {
    const costs = calibration.shapes.get(key)!;
    const beside = estimate.concurrency > 1 && costs.neighbourSlowdown > 1 ? `, x${costs.neighbourSlowdown.toFixed(2)} beside another trial` : '';
    lines.push(`  ${label}: ${formatCost(costs.gradientStep)}/gradient step${beside}, ${formatCost(costs.envStep + costs.greedyAction)}/env step`);
  }
  if (shapes > SHAPES_LISTED) lines.push(`  ... and ${shapes - SHAPES_LISTED} more shapes`);
  return lines;
}

/** What the live view needs to estimate: the calibrated costs, and how trials share the cores. */
export function etaModel(calibration: Calibration, concurrency: number, cores: number): EtaModel {
  return { costsOf: (config) => costsOf(calibration, config), concurrency, cores };
}

/**
 * ETAs of running trials for `sweep status`: each trial's config from its folder, its shape
 * calibrated on first use (no start-up probe: the trials are running), its latest reported
 * speed set against what the model says its last log interval cost.
 */
export class RunningTrialEtas {
  private readonly calibrations = new Map<string, Promise<Calibration>>();

  /** Seconds until the trial in `trialDir` ends; null when its config or a report is missing. */
  async secondsLeft(trialDir: string, report: { step: number; stepsPerSecond: number | null }): Promise<number | null> {
    if (report.stepsPerSecond === null) return null;
    const saved = await readTrialConfig(trialDir);
    if (!saved) return null;
    const config: RunConfig = { ...defaultRunConfig(), ...saved };
    const key = shapeKey(config);
    if (!this.calibrations.has(key)) this.calibrations.set(key, calibrate([config], { measureStartup: false, measureNeighbours: false }));
    const calibration = await this.calibrations.get(key)!;
    return runningTrialEtaSeconds(config, envShapeOf(config.env), costsOf(calibration, config), { step: report.step, stepsPerSecond: report.stepsPerSecond });
  }
}
