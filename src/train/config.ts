/**
 * RunConfig: the one typed list of a run's options. From the table below come the
 * CLI flags (run.ts), the validation of config files and sweep parameters, the
 * config.json a run writes and the hparams TensorBoard shows — never separate lists.
 *
 * Defaults reproduce the Toptal tutorial's run.py on MountainCar-v0.
 */
import { z } from 'zod';
import { closest, distance } from 'fastest-levenshtein';
import { isPair, isScalar, visit, type Document, type Scalar } from 'yaml';
import { envIds, isRegisteredEnv } from '../envs/index.js';
import { envRefProblem, parseEnvRef } from '../envs/env-ref.js';
import { inexactIntegerReason } from '../util/numbers.js';

type FieldKind = 'number' | 'integer' | 'string' | 'boolean' | 'enum' | 'integerList';

interface Field<T> {
  readonly kind: FieldKind;
  readonly defaultValue: T;
  readonly description: string;
  readonly schema: z.ZodType<T>;
  readonly choices?: readonly string[];
  /** Options grouped in --help. */
  readonly group: string;
}

const positive = (description: string, defaultValue: number, group: string): Field<number> => ({
  kind: 'number',
  defaultValue,
  description,
  group,
  schema: z.number().refine((v) => Number.isFinite(v) && v > 0, 'must be a finite number > 0'),
});
const unitInterval = (description: string, defaultValue: number, group: string): Field<number> => ({
  kind: 'number',
  defaultValue,
  description,
  group,
  schema: z.number().min(0, 'must be >= 0').max(1, 'must be <= 1'),
});
const count = (description: string, defaultValue: number, group: string, min = 1): Field<number> => ({
  kind: 'integer',
  defaultValue,
  description,
  group,
  schema: z.number().int('must be an integer').min(min, `must be >= ${min}`).max(Number.MAX_SAFE_INTEGER),
});
const text = (description: string, defaultValue: string, group: string): Field<string> => ({
  kind: 'string',
  defaultValue,
  description,
  group,
  schema: z.string(),
});
const flag = (description: string, defaultValue: boolean, group: string): Field<boolean> => ({
  kind: 'boolean',
  defaultValue,
  description,
  group,
  schema: z.boolean(),
});
function oneOf<const T extends readonly [string, ...string[]]>(choices: T, defaultValue: T[number], description: string, group: string): Field<T[number]> {
  return { kind: 'enum', defaultValue, description, group, choices, schema: z.enum(choices) as unknown as z.ZodType<T[number]> };
}

const RUN = 'Run';
const DQN = 'DQN';
const NET = 'Network and optimiser';
const EXPLORE = 'Exploration';
const EVAL = 'Evaluation';
const OUT = 'Logging and output';

export const runConfigFields = {
  env: text(
    'Environment: a built-in id (MountainCar-v0, CartPole-v0, CartPole-v1, Acrobot-v1), a module and its export (./envs/grid-world.ts:GridWorld, path relative to the working directory), or a Python Gymnasium env (gym:LunarLander-v3, gym:file.py:ClassName)',
    'MountainCar-v0',
    RUN,
  ),
  seed: count('Seed of every random stream (env, exploration, replay sampling, weight init)', 0, RUN, 0),
  steps: count('Total environment steps of training', 200_000, RUN),
  engine: oneOf(['auto', 'fused', 'tfjs'], 'auto', 'Q-network engine: fused (fast hand-written MLP), tfjs (TensorFlow.js), auto = fused when supported', RUN),

  gamma: unitInterval('Discount factor', 0.99, DQN),
  batchSize: count('Transitions per gradient step', 64, DQN),
  bufferSize: count('Replay buffer capacity (transitions)', 50_000, DQN),
  trainStart: count('Environment steps before the first gradient step', 2000, DQN, 0),
  trainFrequency: count('Environment steps between training phases', 1, DQN),
  gradientSteps: count('Gradient steps per training phase', 1, DQN),
  targetUpdateEvery: count('Environment steps between target-network updates', 1000, DQN),
  tau: unitInterval('Target update rate: 1 copies the online network, < 1 is a Polyak (soft) update', 1, DQN),
  doubleDqn: flag('Double DQN: the online network selects the next action, the target network values it', false, DQN),
  loss: oneOf(['mse', 'huber'], 'mse', 'TD loss on the taken action: mse, or huber (delta 1)', DQN),
  terminalOnTruncation: flag("Treat time-limit truncation as termination when bootstrapping (the tutorial's behaviour)", false, DQN),

  observationScaling: oneOf(
    ['none', 'bounds'],
    'none',
    "Observations the network sees: none (raw), or bounds (each bounded component mapped onto [-1, 1] by the env's observation bounds; snapshots fold it into the first layer, so they still take raw observations)",
    NET,
  ),
  hiddenLayers: {
    kind: 'integerList',
    defaultValue: [32, 32] as number[],
    group: NET,
    description: 'Units of each hidden layer, e.g. 64,64',
    schema: z.array(z.number().int('must be integers').min(1, 'must be >= 1').max(65536, 'must be <= 65536')).max(16, 'at most 16 layers'),
  } satisfies Field<number[]>,
  activation: oneOf(['relu', 'tanh'], 'relu', 'Hidden-layer activation', NET),
  weightInit: oneOf(
    ['glorot', 'pytorch'],
    'glorot',
    'Initial weights: glorot (Keras: Glorot-uniform kernels, zero biases) or pytorch (torch.nn.Linear: kernels and biases uniform in +-1/sqrt(fan-in), as SB3)',
    NET,
  ),
  learningRate: positive('Adam learning rate', 0.001, NET),
  learningRateSchedule: oneOf(
    ['constant', 'linear'],
    'constant',
    "Learning-rate schedule: constant learningRate, or linear from learningRate to learningRateEnd over learningRateFraction of training, then held (as rl-zoo's lin_<lr> at fraction 1)",
    NET,
  ),
  learningRateEnd: {
    kind: 'number',
    defaultValue: 0,
    group: NET,
    description: 'Linear schedule: the learning rate it reaches (at the end of learningRateFraction of training)',
    schema: z.number().min(0, 'must be >= 0'),
  } satisfies Field<number>,
  learningRateFraction: {
    kind: 'number',
    defaultValue: 1,
    group: NET,
    description: 'Linear schedule: fraction of training over which the learning rate goes to learningRateEnd (then held there)',
    schema: z.number().gt(0, 'must be > 0').max(1, 'must be <= 1'),
  } satisfies Field<number>,
  clipNorm: {
    kind: 'number',
    defaultValue: 1,
    group: NET,
    description: 'Clip each gradient tensor to this norm, as Keras clipnorm (0 = off)',
    schema: z.number().min(0, 'must be >= 0'),
  } satisfies Field<number>,
  clipGlobalNorm: {
    kind: 'number',
    defaultValue: 0,
    group: NET,
    description: 'Clip all gradients together to this global norm (0 = off)',
    schema: z.number().min(0, 'must be >= 0'),
  } satisfies Field<number>,

  epsilonSchedule: oneOf(
    ['constant', 'linear', 'exponential'],
    'constant',
    'Exploration schedule: constant trainEpsilon; linear from epsilonStart to trainEpsilon over epsilonFraction of training; exponential decay by epsilonDecay per step, floored at trainEpsilon',
    EXPLORE,
  ),
  trainEpsilon: unitInterval('Exploration epsilon (the constant value, or the final value of a decaying schedule)', 0.01, EXPLORE),
  epsilonStart: unitInterval('Initial epsilon of the linear and exponential schedules', 1, EXPLORE),
  epsilonFraction: unitInterval('Linear schedule: fraction of training over which epsilon decays', 0.1, EXPLORE),
  epsilonDecay: unitInterval('Exponential schedule: epsilon multiplier per step', 0.999, EXPLORE),

  evalEvery: count('Environment steps between evaluations (0 = only at the end)', 20_000, EVAL, 0),
  evalSteps: count('Steps per evaluation (used when evalEpisodes is 0)', 10_000, EVAL),
  evalEpisodes: count('Episodes per evaluation (0 = run evalSteps steps instead)', 0, EVAL, 0),
  evalEpsilon: unitInterval('Exploration epsilon during evaluation', 0, EVAL),
  qValidationSize: count('Replay states kept to track eval/avg_max_q', 10_000, EVAL),
  evalGif: flag('Log one greedy episode as an animated GIF (eval/policy) at each evaluation', true, EVAL),

  logEvery: count('Environment steps between console lines and train/* scalars', 2000, OUT),
  snapshotEvery: count('Environment steps between policy snapshots (0 = only at the end)', 50_000, OUT, 0),
  checkpointEvery: count('Environment steps between training checkpoints for --resume (0 = only when stopped)', 10_000, OUT, 0),
  keepCheckpoints: oneOf(
    ['last', 'all', 'none'],
    'last',
    'Checkpoints a run keeps once it has finished all its steps: last (the newest, to continue or extend it), all (the newest and its fallback), or none (the final snapshot is the policy either way). A stopped or failed run keeps them all for --resume',
    OUT,
  ),
  name: text('Run name: the folder <logdir>/<name>/ (default: the date and time)', '', OUT),
  logdir: text('Folder that holds the runs', 'runs', OUT),
  group: text("Session group in TensorBoard's HParams dashboard (a sweep puts the seeds of one configuration in one group; default: the name)", '', OUT),
};

type Fields = typeof runConfigFields;
export type RunConfigKey = keyof Fields;
type FieldValue<F> = F extends Field<infer T> ? T : never;
export type RunConfig = { [K in RunConfigKey]: FieldValue<Fields[K]> };

export const runConfigKeys = Object.keys(runConfigFields) as RunConfigKey[];

/**
 * Options that say where a run writes and what it keeps, not what it trains: they are not
 * hparams, and changing one never makes a finished trial count as changed (nor rerun).
 */
export const outputOnlyKeys: ReadonlySet<RunConfigKey> = new Set<RunConfigKey>(['name', 'logdir', 'group', 'keepCheckpoints']);

export function fieldOf(key: RunConfigKey): Field<unknown> {
  return runConfigFields[key] as Field<unknown>;
}

export function defaultRunConfig(): RunConfig {
  const config: Record<string, unknown> = {};
  for (const key of runConfigKeys) {
    const value = runConfigFields[key].defaultValue;
    config[key] = Array.isArray(value) ? [...value] : value;
  }
  return config as RunConfig;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** "did you mean" for a mistyped key, or '' when nothing is close. */
export function suggestKey(key: string, known: readonly string[]): string {
  if (known.length === 0) return '';
  const best = closest(key, known as string[]);
  const close = distance(key.toLowerCase(), best.toLowerCase()) <= Math.max(2, Math.floor(best.length / 3));
  return close ? ` (did you mean "${best}"?)` : '';
}

function describeValue(value: unknown): string {
  return typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
}

/**
 * Check one value against its field. Returns the parsed value or throws a ConfigError
 * that names the source, the key and the value.
 */
export function parseField(key: RunConfigKey, value: unknown, source: string): unknown {
  const field = fieldOf(key);
  const result = field.schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const expected = field.choices
    ? `one of ${field.choices.join(', ')}`
    : field.kind === 'integerList'
      ? 'a list of positive integers, e.g. [64, 64]'
      : field.kind === 'integer'
        ? 'an integer'
        : `a ${field.kind}`;
  const reason = issue?.code === 'invalid_type' || issue?.code === 'invalid_value' ? `must be ${expected}` : (issue?.message ?? `must be ${expected}`);
  const path = issue && issue.path.length > 0 ? `[${issue.path.join('.')}]` : '';
  throw new ConfigError(`${source}: "${key}"${path} ${reason}, got ${describeValue(value)}`);
}

/**
 * Merge a partial config (from a file, a sweep trial or flags) over `base`.
 * Unknown keys are errors naming the key and the nearest valid one.
 */
export function mergeConfig(base: RunConfig, overrides: Record<string, unknown>, source: string): RunConfig {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (!(runConfigKeys as string[]).includes(key)) {
      throw new ConfigError(`${source}: unknown option "${key}"${suggestKey(key, runConfigKeys)}. Valid options: ${runConfigKeys.join(', ')}`);
    }
    merged[key] = parseField(key as RunConfigKey, value, source);
  }
  return merged as RunConfig;
}

/**
 * For a document parsed with `intAsBigInt` (so that no digit is lost on the way): turns each
 * bigint scalar into a number, and returns the ones a number cannot hold exactly.
 */
export function numbersFromBigInts(doc: Document): Array<{ node: Scalar; reason: string }> {
  const inexact: Array<{ node: Scalar; reason: string }> = [];
  visit(doc, {
    Scalar(_, node, ancestors) {
      if (typeof node.value !== 'bigint') return;
      const reason = inexactIntegerReason(String(node.value));
      if (!reason) {
        node.value = Number(node.value);
        return;
      }
      // Name the value by the keys it sits under, e.g. "parameters.steps.value".
      const keys = ancestors.filter(isPair).map((pair) => (isScalar(pair.key) ? String(pair.key.value) : String(pair.key)));
      inexact.push({ node, reason: `${keys.length > 0 ? `"${keys.join('.')}" ` : ''}${reason}` });
    },
  });
  return inexact;
}

/**
 * Settings that are valid but almost surely not what was meant, one line each: the run
 * still starts (a run shorter than trainStart is a cheap smoke test), but not silently.
 */
export function configWarnings(config: RunConfig): string[] {
  const warnings: string[] = [];
  if (config.steps < config.trainStart) {
    warnings.push(`steps (${config.steps}) < trainStart (${config.trainStart}): the run ends before its first gradient step, so the network is never trained; lower trainStart or raise steps`);
  } else if (Math.floor(config.steps / config.targetUpdateEvery) * config.targetUpdateEvery < Math.max(1, config.trainStart)) {
    warnings.push(
      `targetUpdateEvery (${config.targetUpdateEvery}) > steps (${config.steps}) after trainStart (${config.trainStart}): the target network is never updated, so every target comes from the initial weights; lower targetUpdateEvery`,
    );
  }
  return warnings;
}

/** Checks between fields, after merging. */
export function checkConfig(config: RunConfig, source: string): RunConfig {
  const fail = (message: string): never => {
    throw new ConfigError(`${source}: ${message}`);
  };
  const envProblem = envRefProblem(config.env);
  if (envProblem) fail(`"env" ${envProblem}`);
  // A module or Python env is loaded by the process that runs it (prepareEnv); an id must be known here.
  if (parseEnvRef(config.env).kind === 'id' && !isRegisteredEnv(config.env)) {
    fail(
      `"env" ${JSON.stringify(config.env)} is not a known environment${suggestKey(config.env, envIds)}; known: ${envIds.join(', ')}; or a module and its export (./envs/grid-world.ts:GridWorld) or gym:<Gymnasium id>`,
    );
  }
  if (config.batchSize > config.bufferSize) {
    fail(`batchSize (${config.batchSize}) must not exceed bufferSize (${config.bufferSize})`);
  }
  if (config.trainStart > 0 && config.trainStart < config.batchSize) {
    fail(`trainStart (${config.trainStart}) must be 0 or at least batchSize (${config.batchSize}), so the first batch can be drawn`);
  }
  if (config.logdir.trim() === '') {
    fail('"logdir" must name a folder, e.g. runs, got ""');
  }
  if ((config.name && !/^[A-Za-z0-9._=,+@-][A-Za-z0-9._=,+@/-]*$/.test(config.name)) || config.name.split('/').includes('..')) {
    fail(`name ${JSON.stringify(config.name)} must be a relative folder name of letters, digits and . _ = , + @ - (and / for subfolders)`);
  }
  return config;
}

/**
 * The step a run is told to pause at (--stop-at-step): a launch option, not part of the
 * config. `resumedFrom` is the step of the checkpoint the run continues from (0 when fresh).
 * Throws a ConfigError naming the flag, the value and the allowed range.
 */
export function checkStopAtStep(stopAtStep: unknown, config: Pick<RunConfig, 'steps'>, resumedFrom = 0, source = '--stop-at-step'): number {
  if (typeof stopAtStep !== 'number' || !Number.isSafeInteger(stopAtStep) || stopAtStep < 1 || stopAtStep > config.steps) {
    throw new ConfigError(`${source} must be an integer from 1 to steps (${config.steps}), got ${describeValue(stopAtStep)}; leave it out to run to the end`);
  }
  if (stopAtStep < resumedFrom) {
    throw new ConfigError(
      `${source} ${stopAtStep} is below step ${resumedFrom}, where the checkpoint this run resumes from was taken; give a step from ${resumedFrom} to ${config.steps}, or leave it out to run to the end`,
    );
  }
  return stopAtStep;
}

/** Resolve defaults < overrides (in order), then check the whole. */
export function resolveConfig(...layers: Array<{ values: Record<string, unknown>; source: string }>): RunConfig {
  let config = defaultRunConfig();
  for (const layer of layers) config = mergeConfig(config, layer.values, layer.source);
  return checkConfig(config, layers.at(-1)?.source ?? 'config');
}

/** A list option as one word, as hparams, trial names and messages show it: [64, 64] -> "64x64". */
export function listText(values: readonly unknown[]): string {
  return values.join('x');
}

/** An option's value as a TensorBoard hparam: scalars stay, lists become strings like "64x64" (listText). */
export function hparamValue(value: unknown): number | string | boolean {
  return Array.isArray(value) ? listText(value) : (value as number | string | boolean);
}

/** The config as TensorBoard hparams (hparamValue of each option that is not output-only). */
export function configToHparams(config: RunConfig): Record<string, number | string | boolean> {
  const hparams: Record<string, number | string | boolean> = {};
  for (const key of runConfigKeys) {
    if (!outputOnlyKeys.has(key)) hparams[key] = hparamValue(config[key]);
  }
  return hparams;
}

/** A markdown table of the config (TensorBoard's text plugin renders markdown). */
export function configToMarkdown(config: RunConfig, extra: Record<string, string> = {}): string {
  const rows = runConfigKeys.map((key) => `| ${key} | ${JSON.stringify(config[key])} |`);
  for (const [key, value] of Object.entries(extra)) rows.push(`| ${key} | ${value} |`);
  return ['| option | value |', '|---|---|', ...rows].join('\n');
}
