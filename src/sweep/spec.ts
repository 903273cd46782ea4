/**
 * The sweep file: a YAML search space close to the W&B sweep format, validated
 * against RunConfig (src/train/config.ts) so that every parameter is a real run
 * option and every value is one the run accepts.
 *
 *   name: mountaincar-lr-target      # the folder <logdir>/<name>/
 *   method: grid                     # grid | random | bayes (TPE)
 *   metric: { name: eval/return_mean, goal: maximize }   # summary: final | best | mean_last_k (k) | auc | steps_to_threshold (threshold)
 *   seeds: [0, 1, 2]                 # replicates of every configuration
 *   concurrency: 2                   # default: the machine's available parallelism
 *   run_cap: 50                      # random: how many trials (configurations x seeds); bayes: how many configurations
 *   sweep_seed: 0                    # random and bayes: seed of the sampler
 *   bayes: { n_startup_trials: 10, n_ei_candidates: 24 }           # bayes only (Optuna's TPE names and defaults)
 *   early_terminate: { type: asha, min_steps: 20000, reduction_factor: 3 }   # or W&B's hyperband (early-terminate.ts)
 *   parameters:
 *     env: { value: MountainCar-v0 }
 *     learningRate: { values: [0.001, 0.0005] }
 *     gamma: { min: 0.95, max: 0.999, distribution: uniform }   # random and bayes only
 *
 * Parsing is pure (text in, SweepSpec or SweepSpecError out). Every error names
 * the file, line and column of the offending key or value. A file is one YAML document;
 * anchors, aliases and merge keys (<<) are resolved; integers are read without losing digits.
 */
import { readUtf8File } from '../util/files.js';
import { LineCounter, isMap, isScalar, isSeq, parseAllDocuments, visit, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import { type MetricDefinition, type MetricSummary, METRIC_SUMMARIES, THRESHOLD_METRICS } from './metric-summary.js';
import { ConfigError, type RunConfigKey, checkConfig, defaultRunConfig, fieldOf, numbersFromBigInts, parseField, runConfigKeys, suggestKey } from '../train/config.js';
import { DEFAULT_REDUCTION_FACTOR, EARLY_TERMINATE_KEYS, EARLY_TERMINATE_TYPES, type EarlyTerminate, rungSteps } from './early-terminate.js';
import { domainSize, domainValueAt } from './search/space.js';

export const SWEEP_METHODS = ['grid', 'random', 'bayes'] as const;
export type SweepMethod = (typeof SWEEP_METHODS)[number];
export const METRIC_GOALS = ['maximize', 'minimize'] as const;
export type MetricGoal = (typeof METRIC_GOALS)[number];
export type Distribution = 'uniform' | 'int_uniform' | 'log_uniform_values' | 'q_uniform';

/** A value a parameter can take: what RunConfig fields hold. */
export type ParamValue = number | string | boolean | number[];

/** Scalar tags a run writes that a sweep can optimise. */
export const SWEEP_METRICS = ['eval/return_mean', 'eval/return_std', 'eval/avg_max_q', 'train/episode_return', 'train/episode_length', 'train/loss'] as const;
export type SweepMetricName = (typeof SWEEP_METRICS)[number];

export const DISTRIBUTIONS: readonly Distribution[] = ['uniform', 'int_uniform', 'log_uniform_values', 'q_uniform'];
/** Distributions a grid can enumerate. */
export const GRID_DISTRIBUTIONS: readonly Distribution[] = ['int_uniform', 'q_uniform'];

interface ParameterBase {
  key: RunConfigKey;
  /** "file:line:col" of the parameter's key, for messages. */
  at: string;
}
export type Parameter =
  | (ParameterBase & { kind: 'value'; value: ParamValue })
  | (ParameterBase & { kind: 'values'; values: ParamValue[] })
  | (ParameterBase & { kind: 'range'; distribution: Distribution; min: number; max: number; q?: number });

export interface SweepSpec {
  /** The file it came from (as given), used in messages. */
  file: string;
  name: string;
  description?: string;
  method: SweepMethod;
  /** The metric, the goal of the score, and the summary of the metric's curve that scores a trial (metric-summary.ts). */
  metric: MetricDefinition & { name: SweepMetricName; summary: MetricSummary };
  seeds: number[];
  concurrency?: number;
  /**
   * random: the number of trials (configurations x seeds) to draw at most, as it always was;
   * bayes: the number of configurations (each runs once per seed). Absent for a grid.
   */
  runCap?: number;
  /** random and bayes: seed of the sampler, so the same file (and results) gives the same trials. */
  sweepSeed: number;
  /** In file order. */
  parameters: Parameter[];
  /** method bayes: the TPE searcher's settings (defaults filled in); absent otherwise. */
  bayes?: BayesSettings;
  /** The rungs a trial scheduler stops or promotes configurations at; absent: every trial runs to the end. */
  earlyTerminate?: EarlyTerminate;
}

/** The sweep file's `bayes:` block, named and defaulted as Optuna's TPESampler. */
export interface BayesSettings {
  /** Configurations drawn at random from the prior before TPE takes over (counts observations). */
  nStartupTrials: number;
  /** Candidates drawn from the good configurations' density; the one with the best density ratio is suggested. */
  nEiCandidates: number;
}
export const BAYES_KEYS = ['n_startup_trials', 'n_ei_candidates'] as const;
export const DEFAULT_BAYES: Readonly<BayesSettings> = { nStartupTrials: 10, nEiCandidates: 24 };

/** One or more problems with a sweep file; `problems` holds one line (or block) each. */
export class SweepSpecError extends ConfigError {
  override name = 'SweepSpecError';
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

export const TOP_LEVEL_KEYS = ['name', 'description', 'method', 'metric', 'seeds', 'concurrency', 'run_cap', 'sweep_seed', 'bayes', 'early_terminate', 'parameters'] as const;
/** W&B keys that mean nothing here; named so the message can say so. */
export const WANDB_ONLY_KEYS: Record<string, string> = {
  program: 'trials always run the rlsweep run entry point',
  command: 'trials always run the rlsweep run entry point',
  project: 'there is no W&B project; results go to <logdir>/<name>/',
  entity: 'there is no W&B entity; results go to <logdir>/<name>/',
};
export const PARAMETER_KEYS = ['value', 'values', 'min', 'max', 'distribution', 'q'] as const;
/** Keys set by the sweep itself, never by parameters. */
export const RESERVED_PARAMETERS: Partial<Record<RunConfigKey, string>> = {
  seed: 'replicates come from the top-level "seeds: [0, 1, 2]" list',
  name: 'each trial is named after its swept values',
  logdir: 'trials go to <--logdir>/<sweep name>/',
};

/** A folder name: no slashes, no leading dot or dash. */
const SWEEP_NAME = /^[A-Za-z0-9_][A-Za-z0-9._=,+@-]*$/;

class Checker {
  readonly problems: string[] = [];
  constructor(
    readonly file: string,
    private readonly lines: LineCounter,
  ) {}

  /** "file:line:col" of a node (or the file when it has no range). */
  at(node: Node | null | undefined): string {
    const offset = node?.range?.[0];
    if (offset === undefined) return this.file;
    const { line, col } = this.lines.linePos(offset);
    return `${this.file}:${line}:${col}`;
  }

  fail(node: Node | null | undefined, message: string): void {
    this.problems.push(`${this.at(node)}: ${message}`);
  }

  /** Runs a RunConfig check whose ConfigError message starts with the source; true when it passed. */
  config(check: () => unknown): boolean {
    try {
      check();
      return true;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.problems.push(error.message);
      return false;
    }
  }
}

function keyName(pair: Pair): string {
  return isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
}

function plain(node: unknown, doc: Document): unknown {
  if (node === null || node === undefined) return null;
  return (node as Node).toJS(doc);
}

function describe(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** The pairs of a map node, failing (and returning []) when it is not a map. */
function pairsOf(check: Checker, node: unknown, what: string, example: string): Pair[] {
  if (!isMap(node)) {
    check.fail(node as Node, `${what} must be a map, e.g. ${example}`);
    return [];
  }
  return (node as YAMLMap).items as Pair[];
}

function integerIn(check: Checker, node: Node | null, doc: Document, what: string, min: number): number | undefined {
  const value = plain(node, doc);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    check.fail(node, `${what} must be an integer >= ${min}, got ${describe(value)}`);
    return undefined;
  }
  return value;
}

function oneOfStrings<T extends string>(check: Checker, node: Node | null, doc: Document, what: string, choices: readonly T[]): T | undefined {
  const value = plain(node, doc);
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
  const hint = typeof value === 'string' ? suggestKey(value, choices) : '';
  check.fail(node, `${what} must be one of ${choices.join(', ')}, got ${describe(value)}${hint}`);
  return undefined;
}

/** Validates one value of a parameter through RunConfig, with the value's position as the source. */
function checkValue(check: Checker, key: RunConfigKey, node: Node | null, doc: Document, inValues = false): ParamValue | undefined {
  const value = plain(node, doc);
  let parsed: unknown;
  if (
    !check.config(() => {
      parsed = parseField(key, value, check.at(node));
    })
  ) {
    if (inValues && fieldOf(key).kind === 'integerList' && typeof value === 'number') {
      check.problems[check.problems.length - 1] += ` (each entry of "values" is one whole list: write values: [[${value}, ${value}]])`;
    }
    return undefined;
  }
  // The environment list lives in checkConfig; every other default is valid, so only env can fail here.
  if (key === 'env' && !check.config(() => checkConfig({ ...defaultRunConfig(), env: parsed as string }, check.at(node)))) return undefined;
  return parsed as ParamValue;
}

function isNumberKind(key: RunConfigKey): boolean {
  const kind = fieldOf(key).kind;
  return kind === 'number' || kind === 'integer';
}

function parseParameter(check: Checker, keyNode: Node, key: RunConfigKey, node: unknown, doc: Document, method: SweepMethod | undefined): Parameter | undefined {
  const at = check.at(keyNode);
  const pairs = pairsOf(check, node, `parameter "${key}"`, `{ value: ${describe(fieldOf(key).defaultValue)} } or { values: [...] } or { min: ..., max: ..., distribution: ... }`);
  if (pairs.length === 0) {
    if (isMap(node)) check.fail(node as Node, `parameter "${key}" is empty; give value, values, or min and max`);
    return undefined;
  }
  const entries = new Map<string, { keyNode: Node; valueNode: Node | null }>();
  for (const pair of pairs) {
    const name = keyName(pair);
    if (!(PARAMETER_KEYS as readonly string[]).includes(name)) {
      const unsupported = ['probabilities', 'mu', 'sigma'].includes(name) ? ' (not supported by rlsweep)' : suggestKey(name, PARAMETER_KEYS);
      check.fail(pair.key as Node, `parameter "${key}": unknown key "${name}"${unsupported}; use value, values, or min/max with distribution (${DISTRIBUTIONS.join(', ')}) and q`);
      continue;
    }
    entries.set(name, { keyNode: pair.key as Node, valueNode: pair.value as Node | null });
  }
  if (entries.size < pairs.length) return undefined; // an unknown key was reported; the rest would only echo it
  const has = (name: string): boolean => entries.has(name);
  if (has('min') !== has('max')) {
    check.fail(keyNode, `parameter "${key}" has ${has('min') ? 'min but no max' : 'max but no min'}; a range needs both`);
    return undefined;
  }
  const kinds = ['value', 'values', 'min'].filter(has);
  if (kinds.length !== 1) {
    const what = kinds.length === 0 ? 'has none of value, values, min/max' : `mixes ${[...entries.keys()].join(', ')}`;
    check.fail(keyNode, `parameter "${key}" ${what}; give exactly one of { value: v }, { values: [a, b] }, or { min: a, max: b }`);
    return undefined;
  }
  if (!has('min') && (has('distribution') || has('q'))) {
    check.fail(entries.get(has('distribution') ? 'distribution' : 'q')!.keyNode, `parameter "${key}": distribution and q go with min and max`);
    return undefined;
  }

  if (has('value')) {
    const value = checkValue(check, key, entries.get('value')!.valueNode, doc);
    return value === undefined ? undefined : { key, at, kind: 'value', value };
  }

  if (has('values')) {
    const listNode = entries.get('values')!.valueNode;
    if (!isSeq(listNode)) {
      check.fail(listNode, `parameter "${key}": values must be a list, e.g. values: [${describe(fieldOf(key).defaultValue)}]`);
      return undefined;
    }
    if (listNode.items.length === 0) {
      check.fail(listNode, `parameter "${key}": values is empty; give at least one value`);
      return undefined;
    }
    const values: ParamValue[] = [];
    const seen = new Map<string, Node>();
    let ok = true;
    for (const item of listNode.items as Node[]) {
      const value = checkValue(check, key, item, doc, true);
      if (value === undefined) {
        ok = false;
        continue;
      }
      const id = JSON.stringify(value);
      if (seen.has(id)) {
        check.fail(item, `parameter "${key}": value ${id} is listed twice (first at ${check.at(seen.get(id))})`);
        ok = false;
        continue;
      }
      seen.set(id, item);
      values.push(value);
    }
    return ok ? { key, at, kind: 'values', values } : undefined;
  }

  // min/max range.
  const field = fieldOf(key);
  if (!isNumberKind(key)) {
    const kind = field.kind === 'integerList' ? 'list' : field.kind;
    check.fail(keyNode, `parameter "${key}" is ${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} option; min/max ranges need a numeric option (use values: [...])`);
    return undefined;
  }
  const minNode = entries.get('min')!.valueNode;
  const maxNode = entries.get('max')!.valueNode;
  const distributionEntry = entries.get('distribution');
  if (plain(distributionEntry?.valueNode, doc) === 'log_uniform') {
    check.fail(distributionEntry!.valueNode, logUniformMessage(key, plain(minNode, doc), plain(maxNode, doc)));
    return undefined;
  }
  const min = checkValue(check, key, minNode, doc) as number | undefined;
  const max = checkValue(check, key, maxNode, doc) as number | undefined;
  let distribution: Distribution | undefined;
  if (distributionEntry) {
    const value = plain(distributionEntry.valueNode, doc);
    if (typeof value === 'string' && ['normal', 'log_normal', 'q_normal', 'q_log_uniform_values', 'inv_log_uniform', 'categorical', 'constant'].includes(value)) {
      check.fail(
        distributionEntry.valueNode,
        `parameter "${key}": distribution "${value}" is not supported; use one of ${DISTRIBUTIONS.join(', ')}` +
          (value === 'categorical' ? ' (or values: [...])' : value === 'constant' ? ' (or value: v)' : ''),
      );
      return undefined;
    }
    distribution = oneOfStrings(check, distributionEntry.valueNode, doc, `parameter "${key}": distribution`, DISTRIBUTIONS);
    if (!distribution) return undefined;
  } else {
    // W&B infers the distribution from min/max; here the option's type decides.
    distribution = field.kind === 'integer' ? 'int_uniform' : 'uniform';
  }
  const where = distributionEntry?.valueNode ?? keyNode;
  if (min === undefined || max === undefined) return undefined;
  if (!(min < max)) {
    check.fail(maxNode, `parameter "${key}": max (${max}) must be greater than min (${min})`);
    return undefined;
  }
  if (field.kind === 'integer' && (distribution === 'uniform' || distribution === 'log_uniform_values')) {
    check.fail(where, `parameter "${key}" is an integer option; ${distribution} draws fractions: use int_uniform (or q_uniform with an integer q)`);
    return undefined;
  }
  if (distribution === 'int_uniform' && !(Number.isInteger(min) && Number.isInteger(max))) {
    check.fail(Number.isInteger(min) ? maxNode : minNode, `parameter "${key}": int_uniform needs integer min and max, got ${min} and ${max}`);
    return undefined;
  }
  if (distribution === 'log_uniform_values' && min <= 0) {
    check.fail(minNode, `parameter "${key}": log_uniform_values needs min > 0, got ${min}`);
    return undefined;
  }
  let q: number | undefined;
  const qEntry = entries.get('q');
  if (distribution === 'q_uniform') {
    const value = plain(qEntry?.valueNode, doc);
    if (!qEntry || typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
      check.fail(qEntry?.valueNode ?? where, `parameter "${key}": q_uniform needs q > 0 (the step between values), got ${describe(value ?? null)}`);
      return undefined;
    }
    if (field.kind === 'integer' && !(Number.isInteger(value) && Number.isInteger(min))) {
      check.fail(qEntry.valueNode, `parameter "${key}" is an integer option; q_uniform needs an integer q and min, got q ${value}, min ${min}`);
      return undefined;
    }
    q = value;
  } else if (qEntry) {
    check.fail(qEntry.keyNode, `parameter "${key}": q goes with distribution: q_uniform, not ${distribution}`);
    return undefined;
  }
  if (method === 'grid' && !GRID_DISTRIBUTIONS.includes(distribution)) {
    check.fail(where, `parameter "${key}": ${distribution} is a continuous distribution, which a grid cannot enumerate; a grid takes value, values, int_uniform or q_uniform (or use method: random)`);
    return undefined;
  }
  return q === undefined ? { key, at, kind: 'range', distribution, min, max } : { key, at, kind: 'range', distribution, min, max, q };
}

/**
 * W&B's log_uniform takes min and max as natural-log exponents; reading them as values would
 * sweep the wrong range without a word, so it is refused with the equivalent log_uniform_values.
 */
function logUniformMessage(key: string, min: unknown, max: unknown): string {
  const value = (exponent: unknown): string => (typeof exponent === 'number' ? String(Number(Math.exp(exponent).toPrecision(4))) : 'e^max');
  const example =
    typeof min === 'number' && typeof max === 'number'
      ? `min: ${value(min)}, max: ${value(max)}, distribution: log_uniform_values (e^${min} to e^${max})`
      : 'min: 0.0001, max: 0.01, distribution: log_uniform_values';
  return (
    `parameter "${key}": distribution "log_uniform" is W&B's, whose min and max are natural-log exponents (it draws e^min to e^max); ` +
    `rlsweep takes the values themselves with log_uniform_values: write ${example}`
  );
}

interface Entry {
  keyNode: Node;
  valueNode: Node | null;
}

/** The entries of a settings block (bayes, early_terminate), unknown keys reported with did-you-mean. */
function blockEntries(check: Checker, entry: Entry, what: string, example: string, known: readonly string[]): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  for (const pair of pairsOf(check, entry.valueNode, what, example)) {
    const key = keyName(pair);
    if (!known.includes(key)) {
      check.fail(pair.key as Node, `${what}: unknown key "${key}"${suggestKey(key, known)}; it takes ${known.join(', ')}`);
      continue;
    }
    entries.set(key, { keyNode: pair.key as Node, valueNode: pair.value as Node | null });
  }
  return entries;
}

/** method: bayes settings, Optuna's defaults filled in; run_cap must leave configurations for TPE after the random start. */
function parseBayes(check: Checker, entry: Entry | undefined, doc: Document, runCapEntry: Entry | undefined, runCap: number | undefined): BayesSettings | undefined {
  const settings: BayesSettings = { ...DEFAULT_BAYES };
  const entries = entry ? blockEntries(check, entry, '"bayes"', '{ n_startup_trials: 10, n_ei_candidates: 24 }', BAYES_KEYS) : new Map<string, Entry>();
  const startup = entries.get('n_startup_trials');
  if (startup) settings.nStartupTrials = integerIn(check, startup.valueNode, doc, '"bayes.n_startup_trials"', 0) ?? settings.nStartupTrials;
  const candidates = entries.get('n_ei_candidates');
  if (candidates) settings.nEiCandidates = integerIn(check, candidates.valueNode, doc, '"bayes.n_ei_candidates"', 1) ?? settings.nEiCandidates;
  if (runCap !== undefined && settings.nStartupTrials >= runCap) {
    const given = startup
      ? `bayes.n_startup_trials (${settings.nStartupTrials})`
      : `the ${settings.nStartupTrials} random configurations bayes starts with (bayes.n_startup_trials, default ${DEFAULT_BAYES.nStartupTrials})`;
    check.fail(
      startup?.valueNode ?? runCapEntry!.valueNode,
      `"run_cap" (${runCap}) is not above ${given}, so every configuration would be drawn at random; raise run_cap, lower n_startup_trials (bayes: { n_startup_trials: ${Math.max(1, Math.floor(runCap / 2))} }) or use method: random`,
    );
  }
  return settings;
}

/** A run option every trial shares: its one value in the file, or the default; `swept` when it varies. */
function sharedRunValue(parameters: readonly Parameter[], key: RunConfigKey): { value: number; from: string } | { swept: Parameter } {
  const parameter = parameters.find((candidate) => candidate.key === key);
  if (!parameter) return { value: defaultRunConfig()[key] as number, from: 'the default' };
  if (domainSize(parameter) === 1) return { value: domainValueAt(parameter, 0) as number, from: `set at ${parameter.at}` };
  return { swept: parameter };
}

/** The largest value a run option takes in the sweep (its default when not a parameter). */
function largestRunValue(parameters: readonly Parameter[], key: RunConfigKey): number {
  const parameter = parameters.find((candidate) => candidate.key === key);
  if (!parameter) return defaultRunConfig()[key] as number;
  if (parameter.kind === 'value') return parameter.value as number;
  if (parameter.kind === 'values') return Math.max(...(parameter.values as number[]));
  return parameter.max;
}

/**
 * early_terminate: { type: asha | hyperband, ... } normalised to rungs in environment steps.
 * `parameters` is undefined when they had problems: then only the block's own keys are checked.
 */
function parseEarlyTerminate(check: Checker, entry: Entry, doc: Document, parameters: readonly Parameter[] | undefined): EarlyTerminate | undefined {
  const at = check.at(entry.keyNode);
  const problemsBefore = check.problems.length;
  const entries = blockEntries(check, entry, '"early_terminate"', '{ type: asha, min_steps: 20000, reduction_factor: 3 }', EARLY_TERMINATE_KEYS);
  if (!isMap(entry.valueNode)) return undefined;
  const node = (key: string): Node | null | undefined => entries.get(key)?.valueNode;
  const count = (key: string, min: number, why = ''): number | undefined => {
    if (!entries.has(key)) return undefined;
    const value = integerIn(check, node(key)!, doc, `"early_terminate.${key}"`, min);
    if (value === undefined && why) check.problems[check.problems.length - 1] += ` (${why})`;
    return value;
  };

  const typeEntry = entries.get('type');
  const type = typeEntry ? oneOfStrings(check, typeEntry.valueNode, doc, '"early_terminate.type"', EARLY_TERMINATE_TYPES) : undefined;
  if (!typeEntry) check.fail(entry.valueNode, `"early_terminate" needs a type: ${EARLY_TERMINATE_TYPES.join(' or ')}, e.g. { type: asha, min_steps: 20000, reduction_factor: 3 }`);

  // One spelling each: ours in environment steps, or W&B's in iterations (evaluations).
  const oneOf = (ours: string, wandb: string): void => {
    if (entries.has(ours) && entries.has(wandb))
      check.fail(entries.get(wandb)!.keyNode, `"early_terminate" gives both ${ours} and ${wandb}; give one (${wandb} is W&B's spelling of the same setting)`);
  };
  oneOf('min_steps', 'min_iter');
  oneOf('max_steps', 'max_iter');
  oneOf('reduction_factor', 'eta');
  const integerEta = 'an integer, so that every rung lies on an evaluation';
  const reductionFactor = count('reduction_factor', 2, integerEta) ?? count('eta', 2, integerEta) ?? DEFAULT_REDUCTION_FACTOR;
  const minSteps = count('min_steps', 1);
  const minIter = count('min_iter', 1);
  const maxSteps = count('max_steps', 1);
  const maxIter = count('max_iter', 1);
  const s = count('s', 1);
  const brackets = count('brackets', 1);
  const hasMin = entries.has('min_steps') || entries.has('min_iter');
  const hasMax = entries.has('max_steps') || entries.has('max_iter');
  if (entries.has('s') && (!hasMax || hasMin)) {
    check.fail(entries.get('s')!.keyNode, `"early_terminate.s" counts the rungs down from max_iter (W&B's spelling); give max_iter with s, or min_iter (min_steps) without s`);
  }
  if (!hasMin && !entries.has('s')) {
    check.fail(entry.valueNode, '"early_terminate" needs its lowest rung: min_steps (environment steps), or W&B\'s min_iter (evaluations), or max_iter with s');
  }
  const strictEntry = entries.get('strict');
  if (strictEntry && plain(strictEntry.valueNode, doc) !== true) {
    const value = plain(strictEntry.valueNode, doc);
    check.fail(
      strictEntry.valueNode,
      value === false
        ? '"early_terminate.strict: false" (W&B\'s lenient mode) is not supported: rlsweep always compares configurations by their metric at the rung; remove it'
        : `"early_terminate.strict" must be true or false, got ${describe(value)}`,
    );
  }
  if (check.problems.length > problemsBefore || !type || !parameters) return undefined;

  // The run values the rungs must fit: one length and one evaluation period for every trial.
  const steps = sharedRunValue(parameters, 'steps');
  const evalEvery = sharedRunValue(parameters, 'evalEvery');
  for (const [key, shared] of [
    ['steps', steps],
    ['evalEvery', evalEvery],
  ] as const) {
    if ('swept' in shared) {
      const why = key === 'steps' ? 'the rungs are steps of one run length' : 'each rung is an evaluation, at the same step for every configuration';
      check.fail(entry.keyNode, `"early_terminate" needs one ${key} for every trial, but ${key} is swept (${shared.swept.at}): ${why}; give ${key} one value`);
    }
  }
  if ('swept' in steps || 'swept' in evalEvery) return undefined;
  const period = evalEvery.value;
  if (period === 0) {
    check.fail(
      entry.keyNode,
      `"early_terminate" compares configurations at evaluations, but evalEvery is 0 (${evalEvery.from}), which evaluates only at the end; set it under parameters, e.g. evalEvery: { value: ${minSteps ?? 10000} }`,
    );
    return undefined;
  }
  const runLength = `the trials' steps (${steps.value}, ${steps.from})`;
  const iterSteps = (key: string, iterations: number): string => `${key} ${iterations} (evaluations, one every evalEvery = ${period} steps: step ${iterations * period})`;
  const top = maxSteps ?? (maxIter !== undefined ? maxIter * period : steps.value);
  const topWhat = maxSteps !== undefined ? `max_steps ${maxSteps}` : maxIter !== undefined ? iterSteps('max_iter', maxIter) : runLength;
  // The lowest rung, in steps, what the file said, and how to write a rung at step `at` in the file's own terms.
  let lowest: number;
  let lowestWhat: string;
  let lowestKey: 'min_steps' | 'min_iter' | 's';
  if (minSteps !== undefined) {
    [lowest, lowestWhat, lowestKey] = [minSteps, `min_steps ${minSteps}`, 'min_steps'];
  } else if (minIter !== undefined) {
    [lowest, lowestWhat, lowestKey] = [minIter * period, iterSteps('min_iter', minIter), 'min_iter'];
  } else {
    // W&B's max_iter with s: s rungs, at top / eta^k for k = s, ..., 1.
    lowest = top / reductionFactor ** s!;
    lowestWhat = `${maxIter !== undefined ? `max_iter ${maxIter} (step ${top})` : `max_steps ${maxSteps}`} / eta^s (${reductionFactor}^${s}) = step ${Number(lowest.toPrecision(6))}`;
    lowestKey = 's';
  }
  const rungAt = (step: number): string => (lowestKey === 'min_steps' ? `min_steps: ${step}` : `min_iter: ${step / period}${lowestKey === 's' ? ' instead of s' : ''}`);
  const lowestNode = node(lowestKey)!;
  if (top > steps.value) {
    check.fail(node(maxSteps !== undefined ? 'max_steps' : 'max_iter')!, `"early_terminate": ${topWhat} is above ${runLength}; a rung there is never reached: lower it, or raise steps`);
    return undefined;
  }
  if (lowest >= top) {
    const fit = Math.max(period, Math.floor(top / reductionFactor / period) * period);
    check.fail(lowestNode, `"early_terminate": the lowest rung, ${lowestWhat}, is not below ${topWhat}, so no rung would stop anything; lower it (e.g. ${rungAt(fit)})`);
    return undefined;
  }
  if (!Number.isInteger(lowest) || lowest % period !== 0) {
    const nearest = Math.max(1, Math.round(lowest / period)) * period;
    check.fail(
      lowestNode,
      `"early_terminate": the lowest rung, ${lowestWhat}, is not a multiple of evalEvery (${period}, ${evalEvery.from}): a rung's metric is the evaluation at that step, and trials evaluate every ${period} steps; ` +
        `put the rung on an evaluation (e.g. ${rungAt(nearest)}) or give evalEvery a value that divides it`,
    );
    return undefined;
  }
  const trainStart = largestRunValue(parameters, 'trainStart');
  if (lowest < trainStart) {
    const first = Math.ceil(trainStart / period) * period;
    check.fail(
      lowestNode,
      `"early_terminate": the lowest rung, ${lowestWhat}, comes before trainStart (${trainStart}): trials evaluate only from trainStart on, so the rung has no metric; raise it (e.g. ${rungAt(first)}) or lower trainStart`,
    );
    return undefined;
  }
  const schedule = { minSteps: lowest, maxSteps: top, reductionFactor };
  const rungs = rungSteps(schedule);
  const maxBrackets = rungs.length + 1;
  if (brackets !== undefined && brackets > maxBrackets) {
    check.fail(
      node('brackets')!,
      `"early_terminate.brackets" (${brackets}) is more than this ladder allows: ${rungs.length} rung${rungs.length === 1 ? '' : 's'} (steps ${rungs.join(', ')}) give at most ${maxBrackets} brackets (the last runs straight to the end)`,
    );
    return undefined;
  }
  return { type, ...schedule, brackets: brackets ?? (type === 'asha' ? 1 : maxBrackets), at };
}

const METRIC_KEYS = ['name', 'goal', 'summary', 'k', 'threshold'] as const;
const METRIC_EXAMPLE = '{ name: eval/return_mean, goal: maximize, summary: final }';

/**
 * The "metric" map: the tag, the goal, and the summary of its curve that scores a trial
 * (metric-summary.ts), with k for mean_last_k and threshold for steps_to_threshold. A key that
 * does not go with the summary, or a goal that contradicts it, is an error rather than ignored.
 */
function parseMetric(check: Checker, node: Node | null, doc: Document): SweepSpec['metric'] | undefined {
  const pairs = pairsOf(check, node, '"metric"', METRIC_EXAMPLE);
  const entries = new Map<string, Pair>();
  for (const pair of pairs) {
    const key = keyName(pair);
    if ((METRIC_KEYS as readonly string[]).includes(key)) entries.set(key, pair);
    else check.fail(pair.key as Node, `"metric": unknown key "${key}"${suggestKey(key, METRIC_KEYS)}; a metric has ${METRIC_KEYS.join(', ')}`);
  }
  if (pairs.length > 0 && !entries.has('name')) check.fail(node, `"metric" needs a name: one of ${SWEEP_METRICS.join(', ')}`);
  const valueNode = (key: string): Node | null => (entries.get(key)?.value as Node | null | undefined) ?? null;
  const keyNode = (key: string): Node => entries.get(key)!.key as Node;
  const name = entries.has('name') ? oneOfStrings(check, valueNode('name'), doc, '"metric.name"', SWEEP_METRICS) : undefined;
  const summary = entries.has('summary') ? oneOfStrings(check, valueNode('summary'), doc, '"metric.summary"', METRIC_SUMMARIES) : 'final';
  const givenGoal = entries.has('goal') ? oneOfStrings(check, valueNode('goal'), doc, '"metric.goal"', METRIC_GOALS) : undefined;
  if (entries.has('goal') && givenGoal === undefined) return undefined;
  if (!name || !summary) return undefined;
  let ok = true;
  let goal: MetricGoal = givenGoal ?? 'maximize';
  if (summary === 'steps_to_threshold') {
    if (!(THRESHOLD_METRICS as readonly string[]).includes(name)) {
      check.fail(valueNode('name'), `"metric.summary" steps_to_threshold counts the steps until a return reaches a threshold; "metric.name" must be ${THRESHOLD_METRICS.join(' or ')}, got "${name}"`);
      ok = false;
    }
    if (givenGoal === 'maximize') {
      check.fail(valueNode('goal'), '"metric.goal" maximize contradicts summary steps_to_threshold: the score is a number of steps, and fewer is better; write goal: minimize, or leave goal out');
      ok = false;
    }
    goal = 'minimize';
  }
  let k: number | undefined;
  if (entries.has('k')) {
    if (summary !== 'mean_last_k') {
      check.fail(keyNode('k'), `"metric.k" goes with summary: mean_last_k (the number of last values to average); summary is ${summary}: remove k or set summary: mean_last_k`);
      ok = false;
    } else {
      k = integerIn(check, valueNode('k'), doc, '"metric.k"', 1);
      ok &&= k !== undefined;
    }
  }
  let threshold: number | undefined;
  if (entries.has('threshold')) {
    const value = plain(valueNode('threshold'), doc);
    if (summary !== 'steps_to_threshold') {
      check.fail(keyNode('threshold'), `"metric.threshold" goes with summary: steps_to_threshold; summary is ${summary}: remove threshold or set summary: steps_to_threshold`);
      ok = false;
    } else if (typeof value !== 'number' || !Number.isFinite(value)) {
      check.fail(valueNode('threshold'), `"metric.threshold" must be a number (the value of ${name} to reach, e.g. 475 for CartPole-v1), got ${describe(value)}`);
      ok = false;
    } else {
      threshold = value;
    }
  }
  if (!ok) return undefined;
  return { name, goal, summary, ...(k !== undefined ? { k } : {}), ...(threshold !== undefined ? { threshold } : {}) };
}

/** A merge key, "<<: *defaults" (YAML 1.1, common with anchors). */
function isMergePair(pair: Pair): boolean {
  return isScalar(pair.key) && pair.key.value === '<<';
}

/**
 * Merges the maps of the "<<" keys of `map` into it, where they stand: a key the map gives
 * itself wins, then the earlier merged map.
 */
function expandMerges(check: Checker, map: YAMLMap): void {
  if (!map.items.some((pair) => isMergePair(pair as Pair))) return;
  const pairs = map.items as Pair[];
  const keys = new Set(pairs.filter((pair) => !isMergePair(pair)).map(keyName));
  const merged: Pair[] = [];
  for (const pair of pairs) {
    if (!isMergePair(pair)) {
      merged.push(pair);
      continue;
    }
    const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
    for (const source of sources) {
      if (!isMap(source)) {
        check.fail((source as Node | null) ?? (pair.key as Node), 'a merge key "<<" takes a map or an alias of one, e.g. <<: *defaults');
        continue;
      }
      expandMerges(check, source);
      for (const item of source.items as Pair[]) {
        if (keys.has(keyName(item))) continue;
        keys.add(keyName(item));
        merged.push(item.clone());
      }
    }
  }
  map.items = merged;
}

/**
 * Anchors, aliases and merge keys are valid YAML: resolve them, so that the checks see plain
 * maps, lists and scalars (a problem in an aliased value is reported at its anchor). Integers
 * (read as bigints) become numbers, except those a number cannot hold exactly.
 */
function resolveDocument(check: Checker, doc: Document): void {
  visit(doc, {
    Alias(_, alias, ancestors) {
      const target = alias.resolve(doc);
      if (!target) {
        check.fail(alias, `alias *${alias.source} names no anchor set before it: write &${alias.source} on the value it should repeat (above this line), or write the value itself`);
        return visit.REMOVE;
      }
      if (ancestors.includes(target as Node)) {
        check.fail(alias, `alias *${alias.source} refers to a value that contains it`);
        return visit.REMOVE;
      }
      return target.clone() as Node;
    },
  });
  visit(doc, {
    Map: (_, map) => {
      expandMerges(check, map);
    },
  });
  for (const { node, reason } of numbersFromBigInts(doc)) check.fail(node, reason);
}

/** The one document of a sweep file: more than one is an error, naming where the second starts. */
function singleDocument(file: string, text: string, lines: LineCounter): Document | undefined {
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true, intAsBigInt: true });
  if (!Array.isArray(docs)) return undefined;
  // An empty document after the first (a trailing "---") holds nothing to lose.
  const isEmpty = (doc: Document): boolean => doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null);
  const withContent = docs.filter((doc, i) => i === 0 || !isEmpty(doc) || doc.errors.length > 0);
  if (withContent.length > 1) {
    const second = lines.linePos(withContent[1]!.range[0]);
    throw new SweepSpecError([
      `${file}:${second.line}:${second.col}: the file holds ${withContent.length} YAML documents (a "---" line starts each one after the first); ` +
        'a sweep file is one document: put each sweep in its own file',
    ]);
  }
  return docs[0];
}

function yamlProblems(file: string, doc: Document): string[] {
  return [...doc.errors, ...doc.warnings].map((error) => {
    const pos = error.linePos?.[0];
    // The pretty message is "<text> at line L, column C:\n\n<context>"; keep the text and the context.
    const [head, ...context] = error.message.split('\n');
    const text = head!.replace(/ at line \d+, column \d+:?$/, '');
    const kind = doc.errors.includes(error) ? 'YAML syntax error' : 'YAML warning';
    const snippet = context.join('\n').replace(/^\n+|\n+$/g, '');
    return `${file}${pos ? `:${pos.line}:${pos.col}` : ''}: ${kind}: ${text}${snippet ? `\n${snippet}` : ''}`;
  });
}

/** Parses and validates a sweep file's text. Throws SweepSpecError listing every problem found. */
export function parseSweepSpec(text: string, file = 'sweep.yaml'): SweepSpec {
  const lines = new LineCounter();
  const doc = singleDocument(file, text, lines);
  const syntax = doc ? yamlProblems(file, doc) : [];
  if (syntax.length > 0) throw new SweepSpecError(syntax);
  const check = new Checker(file, lines);
  if (doc) resolveDocument(check, doc);
  if (check.problems.length > 0) throw new SweepSpecError(check.problems);
  const root = doc?.contents ?? null;
  if (!doc || root === null || (isScalar(root) && (root.value === null || root.value === ''))) {
    throw new SweepSpecError([`${file}: the file is empty; a sweep needs at least name and parameters (see sweeps/smoke.yaml)`]);
  }
  const top = new Map<string, { keyNode: Node; valueNode: Node | null }>();
  for (const pair of pairsOf(check, root, 'a sweep file', 'name, method, metric, seeds and parameters (see sweeps/smoke.yaml)')) {
    const name = keyName(pair);
    if (WANDB_ONLY_KEYS[name]) {
      check.fail(pair.key as Node, `"${name}" is a W&B setting that rlsweep does not use: ${WANDB_ONLY_KEYS[name]}`);
    } else if (!(TOP_LEVEL_KEYS as readonly string[]).includes(name)) {
      const asParameter = (runConfigKeys as string[]).includes(name) ? ` ("${name}" is a run option: put it under parameters as ${name}: { value: ... })` : suggestKey(name, TOP_LEVEL_KEYS);
      check.fail(pair.key as Node, `unknown key "${name}"${asParameter}; a sweep has ${TOP_LEVEL_KEYS.join(', ')}`);
    } else {
      top.set(name, { keyNode: pair.key as Node, valueNode: pair.value as Node | null });
    }
  }
  if (check.problems.length > 0 && top.size === 0) throw new SweepSpecError(check.problems);

  // name
  let name = '';
  const nameEntry = top.get('name');
  if (!nameEntry) {
    check.fail(root, 'missing "name" (the sweep\'s folder under --logdir), e.g. name: cartpole-lr');
  } else {
    const value = plain(nameEntry.valueNode, doc);
    if (typeof value !== 'string' && typeof value !== 'number') {
      check.fail(nameEntry.valueNode, `"name" must be a folder name, got ${describe(value)}`);
    } else if (!SWEEP_NAME.test(String(value)) || String(value).length > 100) {
      check.fail(nameEntry.valueNode, `"name" ${describe(value)} must be a folder name of at most 100 letters, digits and . _ = , + @ - (no slashes or spaces, not starting with . or -)`);
    } else {
      name = String(value);
    }
  }

  let description: string | undefined;
  const descriptionEntry = top.get('description');
  if (descriptionEntry) {
    const value = plain(descriptionEntry.valueNode, doc);
    if (typeof value === 'string') description = value;
    else check.fail(descriptionEntry.valueNode, `"description" must be text, got ${describe(value)}`);
  }

  // method
  let method: SweepMethod | undefined = 'grid';
  const methodEntry = top.get('method');
  if (methodEntry) method = oneOfStrings(check, methodEntry.valueNode, doc, '"method"', SWEEP_METHODS);

  // metric
  let metric: SweepSpec['metric'] = { name: 'eval/return_mean', goal: 'maximize', summary: 'final' };
  const metricEntry = top.get('metric');
  if (metricEntry) {
    const parsed = parseMetric(check, metricEntry.valueNode, doc);
    if (parsed) metric = parsed;
  }

  // seeds
  let seeds = [0];
  const seedsEntry = top.get('seeds');
  if (seedsEntry) {
    const node = seedsEntry.valueNode;
    if (!isSeq(node) || node.items.length === 0) {
      const value = plain(node, doc);
      const hint =
        typeof value === 'number' && Number.isInteger(value) && value > 0
          ? ` (for ${value} replicates write seeds: [${Array.from({ length: Math.min(value, 5) }, (_, i) => i).join(', ')}${value > 5 ? ', ...' : ''}])`
          : '';
      check.fail(node, `"seeds" must be a non-empty list of integers, e.g. seeds: [0, 1, 2], got ${describe(value)}${hint}`);
    } else {
      seeds = [];
      const seen = new Map<number, Node>();
      for (const item of node.items as Node[]) {
        let seed: unknown;
        if (
          !check.config(() => {
            seed = parseField('seed', plain(item, doc), check.at(item));
          })
        )
          continue;
        if (seen.has(seed as number)) {
          check.fail(item, `seed ${seed} is listed twice (first at ${check.at(seen.get(seed as number))})`);
          continue;
        }
        seen.set(seed as number, item);
        seeds.push(seed as number);
      }
    }
  }

  const concurrencyEntry = top.get('concurrency');
  const concurrency = concurrencyEntry ? integerIn(check, concurrencyEntry.valueNode, doc, '"concurrency"', 1) : undefined;
  const runCapEntry = top.get('run_cap');
  const runCap = runCapEntry ? integerIn(check, runCapEntry.valueNode, doc, '"run_cap"', 1) : undefined;
  const sweepSeedEntry = top.get('sweep_seed');
  const sweepSeed = sweepSeedEntry ? (integerIn(check, sweepSeedEntry.valueNode, doc, '"sweep_seed"', 0) ?? 0) : 0;
  if (method === 'random' && !runCapEntry) {
    check.fail(methodEntry?.valueNode ?? root, 'random search needs "run_cap": how many trials to draw (configurations x seeds)');
  }
  if (method === 'bayes' && !runCapEntry) {
    check.fail(methodEntry?.valueNode ?? root, `bayes search needs "run_cap": how many configurations to try (each runs once per seed), e.g. run_cap: 40`);
  }
  if (method === 'random' && runCap !== undefined && runCap < seeds.length) {
    check.fail(runCapEntry!.valueNode, `"run_cap" (${runCap}) is smaller than the number of seeds (${seeds.length}); every configuration runs once per seed`);
  }
  if (method === 'grid' && runCapEntry) {
    check.fail(runCapEntry.keyNode, '"run_cap" caps random search; a grid runs every configuration (remove it, or use method: random)');
  }
  if (method === 'grid' && sweepSeedEntry) {
    check.fail(sweepSeedEntry.keyNode, '"sweep_seed" seeds random search; a grid has nothing to draw (remove it or use method: random)');
  }
  const bayesEntry = top.get('bayes');
  const bayes = method === 'bayes' ? parseBayes(check, bayesEntry, doc, runCapEntry, runCap) : undefined;
  if (bayesEntry && method && method !== 'bayes') {
    check.fail(bayesEntry.keyNode, `"bayes" sets up method: bayes, but this sweep's method is ${method}; remove it or write method: bayes`);
  }

  // parameters
  const problemsBeforeParameters = check.problems.length;
  const parameters: Parameter[] = [];
  const parametersEntry = top.get('parameters');
  if (!parametersEntry) {
    check.fail(root, 'missing "parameters": the run options of the sweep, e.g. parameters: { env: { value: CartPole-v1 } }');
  } else if (
    parametersEntry.valueNode === null ||
    (isScalar(parametersEntry.valueNode) && parametersEntry.valueNode.value === null) ||
    (isMap(parametersEntry.valueNode) && parametersEntry.valueNode.items.length === 0)
  ) {
    // Without options every trial would be a default run (MountainCar-v0, 200000 steps).
    check.fail(parametersEntry.valueNode ?? parametersEntry.keyNode, '"parameters" is empty: give the run options of the sweep, e.g. parameters: { env: { value: CartPole-v1 } }');
  } else {
    for (const pair of pairsOf(check, parametersEntry.valueNode, '"parameters"', '{ learningRate: { values: [0.001, 0.0005] } }')) {
      const key = keyName(pair);
      const keyNode = pair.key as Node;
      if (!(runConfigKeys as string[]).includes(key)) {
        check.fail(keyNode, `"${key}" is not a run option${suggestKey(key, runConfigKeys)}; options: ${runConfigKeys.filter((k) => !RESERVED_PARAMETERS[k]).join(', ')}`);
        continue;
      }
      const reserved = RESERVED_PARAMETERS[key as RunConfigKey];
      if (reserved) {
        check.fail(keyNode, `"${key}" cannot be a sweep parameter: ${reserved}`);
        continue;
      }
      if (!isMap(pair.value)) {
        const value = plain(pair.value, doc);
        check.fail((pair.value as Node) ?? keyNode, `parameter "${key}" must be a map: write ${key}: { value: ${describe(value)} } for one value, or ${key}: { values: [...] } to sweep`);
        continue;
      }
      const parameter = parseParameter(check, keyNode, key as RunConfigKey, pair.value, doc, method);
      if (parameter) parameters.push(parameter);
    }
  }

  const earlyTerminateEntry = top.get('early_terminate');
  // The rungs are checked against the trials' steps and evaluations, which only sound parameters give.
  const parametersSound = parametersEntry !== undefined && check.problems.length === problemsBeforeParameters;
  const earlyTerminate = earlyTerminateEntry ? parseEarlyTerminate(check, earlyTerminateEntry, doc, parametersSound ? parameters : undefined) : undefined;

  if (check.problems.length > 0 || !method) throw new SweepSpecError(check.problems);
  const spec: SweepSpec = { file, name, method, metric, seeds, sweepSeed, parameters };
  if (description !== undefined) spec.description = description;
  if (concurrency !== undefined) spec.concurrency = concurrency;
  if (runCap !== undefined) spec.runCap = runCap;
  if (bayes) spec.bayes = bayes;
  if (earlyTerminate) spec.earlyTerminate = earlyTerminate;
  return spec;
}

/** Reads and parses a sweep file; a missing file is a SweepSpecError too. */
export async function loadSweepSpec(file: string): Promise<SweepSpec> {
  let text: string;
  try {
    text = await readUtf8File(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EILSEQ') throw new SweepSpecError([(error as Error).message]);
    throw new SweepSpecError([`cannot read sweep file ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (error as Error).message}`]);
  }
  return parseSweepSpec(text, file);
}
