/**
 * Expansion: SweepSpec -> Trial[]. Pure: the same spec (and logdir) always gives
 * the same trials, in the same order, with the same names. The configurations come from
 * the grid and random searchers (search/); trialsOf turns one configuration into its
 * trials, the one way an adaptive controller makes them too.
 *
 * Order: seeds outermost, then configurations (grid: the product of the
 * parameters in file order, the last varying fastest), so a sweep that is
 * stopped early has covered the whole grid with the first seed.
 */
import { ConfigError, type RunConfig, type RunConfigKey, configToHparams, configWarnings, fieldOf, hparamValue, listText, parseField, resolveConfig } from '../train/config.js';
import type { HParamInfo, HParamValue } from '../tensorboard/index.js';
import { createSearcher } from './search/searcher.js';
import type { Assignment } from './search/searcher.js';
import { assignmentKey, assignmentProblems, configurationBudget, domainSize, domainValues, spaceSize, sweptParameters } from './search/space.js';
import { type Parameter, type ParamValue, type SweepSpec, SweepSpecError } from './spec.js';

export { sweptParameters } from './search/space.js';

export interface Trial {
  /** 0-based position in the sweep, the order trials start in. */
  index: number;
  /** Folder name under the sweep folder: the swept values and the seed, e.g. learningRate=0.001,seed=0. */
  name: string;
  /** The configuration without the seed, shared by its replicates (e.g. learningRate=0.001). */
  configName: string;
  /** 0-based position of the configuration. */
  configIndex: number;
  seed: number;
  /** Swept parameter values (more than one value in the sweep), in file order; the seed is apart. */
  swept: Record<string, ParamValue>;
  /** What TensorBoard's HParams dashboard shows for the trial: the swept values and the seed. */
  hparams: Record<string, HParamValue>;
  /** The trial's whole run configuration, including name and logdir. */
  config: RunConfig;
}

export interface ExpandOptions {
  /** The sweep's folder, which becomes every trial's logdir: <--logdir>/<sweep name>. */
  sweepDir: string;
}

/** Past this many trials `sweep run` asks for --yes. */
export const DEFAULT_TRIAL_LIMIT = 500;
/** Never expanded, --yes or not: almost surely a mistake (e.g. int_uniform over 1..1e9 in a grid). */
export const HARD_TRIAL_LIMIT = 100_000;
/** Trial names are folder names; stay well below the usual 255-byte limit. */
const MAX_NAME_LENGTH = 200;

export interface TrialCount {
  configurations: number;
  trials: number;
}

/**
 * What a sweep accepts but is almost surely not meant, one line each: the trials' config
 * warnings (configWarnings), each once with how many trials it concerns, and a concurrency
 * above this machine's CPUs (`concurrency` undefined: not run here, nothing to say).
 */
export function sweepWarnings(spec: SweepSpec, trials: readonly Trial[], machine: { concurrency?: number; cpus: number }): string[] {
  const trialsOf = new Map<string, Trial[]>();
  for (const trial of trials) {
    for (const warning of configWarnings(trial.config)) {
      const concerned = trialsOf.get(warning);
      if (concerned) concerned.push(trial);
      else trialsOf.set(warning, [trial]);
    }
  }
  const warnings = [...trialsOf].map(([warning, concerned]) => {
    const which = concerned.length === trials.length ? 'every trial' : `${concerned.length} of ${trials.length} trials (e.g. ${concerned[0]!.name})`;
    return `${spec.file}: ${which}: ${warning}`;
  });
  const { concurrency, cpus } = machine;
  if (concurrency !== undefined && Math.min(concurrency, trials.length) > cpus) {
    warnings.push(`concurrency ${concurrency} is more than this machine's ${cpus} CPUs: the trials share them, each runs slower and the sweep ends no sooner; use --concurrency ${cpus} or less`);
  }
  return warnings;
}

/** Counts configurations and trials without expanding (so an absurd grid costs nothing). */
export function countTrials(spec: SweepSpec): TrialCount {
  const empty = spec.parameters.find((parameter) => domainSize(parameter) === 0);
  if (empty) {
    const range = empty as Extract<Parameter, { kind: 'range' }>;
    throw new SweepSpecError([`${empty.at}: parameter "${empty.key}" has no multiple of q (${range.q}) between min (${range.min}) and max (${range.max}), so the grid is empty`]);
  }
  const configurations = configurationBudget(spec);
  const space = spaceSize(spec);
  if (spec.method === 'random' && space < configurations) {
    throw new SweepSpecError([
      `${spec.file}: random search: run_cap ${spec.runCap} asks for ${configurations} configurations x ${spec.seeds.length} seeds, ` +
        `but the parameters allow only ${space} distinct configurations; lower run_cap to ${space * spec.seeds.length} or use method: grid`,
    ]);
  }
  if (spec.method === 'bayes' && space < configurations) {
    // bayes never tries a configuration twice: the same configuration and seed give the same run.
    throw new SweepSpecError([
      `${spec.file}: bayes search: run_cap ${spec.runCap} asks for ${configurations} configurations, but the parameters allow only ${space} distinct configurations; ` +
        `lower run_cap to ${space}, or use method: grid to run them all`,
    ]);
  }
  return { configurations, trials: configurations * spec.seeds.length };
}

/**
 * Refuses an empty sweep, and one larger than `limit` trials unless `yes` (the
 * CLI's --yes); nothing is ever expanded past HARD_TRIAL_LIMIT.
 */
export function checkTrialCount(spec: SweepSpec, options: { yes?: boolean; limit?: number } = {}): TrialCount {
  const count = countTrials(spec);
  const limit = options.limit ?? DEFAULT_TRIAL_LIMIT;
  const sizes =
    spec.method === 'grid'
      ? sweptParameters(spec)
          .map((parameter) => `${domainSize(parameter)} ${parameter.key}`)
          .join(' x ')
      : `${count.configurations} ${spec.method} configurations`;
  const what = `${count.trials} trials (${sizes || '1 configuration'} x ${spec.seeds.length} seeds)`;
  if (count.trials === 0) throw new SweepSpecError([`${spec.file}: the sweep is empty: ${what}`]);
  if (count.trials > HARD_TRIAL_LIMIT) {
    throw new SweepSpecError([`${spec.file}: the sweep has ${what}, more than the ${HARD_TRIAL_LIMIT} rlsweep will ever expand; narrow the grid (fewer values, or a random search with run_cap)`]);
  }
  if (count.trials > limit && !options.yes) {
    throw new SweepSpecError([`${spec.file}: the sweep has ${what}, more than ${limit}; check the file, and pass --yes to run them anyway`]);
  }
  return count;
}

/** Text of a value in a trial name: lists as 64x64, and only letters, digits and . _ + - */
export function formatNameValue(value: ParamValue): string {
  const text = Array.isArray(value) ? (value.length === 0 ? 'none' : listText(value)) : String(value);
  const safe = text.replace(/[^A-Za-z0-9._+-]/g, '_');
  return safe === '' ? '_' : safe;
}

function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** Keeps names unique (case-insensitively, for macOS and Windows) and short enough for a folder. */
class NameRegistry {
  private readonly taken = new Set<string>();
  claim(wanted: string): string {
    let name = wanted.length > MAX_NAME_LENGTH ? `${wanted.slice(0, MAX_NAME_LENGTH - 9)}@${fnv1a(wanted)}` : wanted;
    for (let n = 2; this.taken.has(name.toLowerCase()); n++) name = `${wanted.slice(0, MAX_NAME_LENGTH - 8)}@${n}`;
    this.taken.add(name.toLowerCase());
    return name;
  }
}

/**
 * Names configurations and trials: a configuration after its swept values, a trial after its
 * configuration and seed, unique and short enough for a folder. Names depend on the order
 * they are asked for, so one namer serves a whole sweep, asked in configIndex order (a
 * controller replaying its journal asks again in the same order); asking twice for the same
 * configuration or trial gives the same name.
 */
export class TrialNamer {
  private readonly configNames = new NameRegistry();
  private readonly trialNames = new NameRegistry();
  private readonly configNameOf = new Map<string, string>();
  private readonly trialNameOf = new Map<string, string>();

  /** "learningRate=0.001,gamma=0.99" for the swept values in file order; '' when nothing is swept. */
  configName(swept: readonly Parameter[], assignment: Assignment): string {
    const key = assignmentKey(swept, assignment);
    let name = this.configNameOf.get(key);
    if (name === undefined) {
      const parts = swept.map((parameter) => `${parameter.key}=${formatNameValue(assignment[parameter.key]!)}`);
      name = parts.length > 0 ? this.configNames.claim(parts.join(',')) : '';
      this.configNameOf.set(key, name);
    }
    return name;
  }

  /** "<configName>,seed=<seed>", or "seed=<seed>" when nothing is swept. */
  trialName(configName: string, seed: number): string {
    const key = JSON.stringify([configName, seed]);
    let name = this.trialNameOf.get(key);
    if (name === undefined) {
      name = this.trialNames.claim(configName ? `${configName},seed=${seed}` : `seed=${seed}`);
      this.trialNameOf.set(key, name);
    }
    return name;
  }
}

export interface TrialsOfOptions extends ExpandOptions {
  /** The sweep's namer (see TrialNamer); a fresh one when absent, right for a single configuration. */
  namer?: TrialNamer;
}

interface TrialProblem {
  /** The trial's name. */
  name: string;
  /** Why its configuration is invalid. */
  reason: string;
}

/** The trial of each seed, in the file's seed order, or why it cannot be made. */
function buildTrials(spec: SweepSpec, configIndex: number, assignment: Assignment, options: TrialsOfOptions): (Trial | TrialProblem)[] {
  const wrong = assignmentProblems(spec, assignment);
  if (wrong.length > 0) throw new SweepSpecError(wrong.map((problem) => `${spec.file}: configuration ${configIndex}: ${problem}`));
  const namer = options.namer ?? new TrialNamer();
  const swept = sweptParameters(spec);
  const configName = namer.configName(swept, assignment);
  const sweptValues: Record<string, ParamValue> = {};
  for (const parameter of swept) sweptValues[parameter.key] = assignment[parameter.key]!;
  // Every parameter's value: the assignment's for the swept ones, the only one for the others.
  const overrides: Record<string, unknown> = {};
  for (const parameter of spec.parameters) overrides[parameter.key] = sweptValues[parameter.key] ?? domainValues(parameter)[0];
  return spec.seeds.map((seed, seedPosition): Trial | TrialProblem => {
    const name = namer.trialName(configName, seed);
    let config: RunConfig;
    const source = `${spec.file} (trial ${name})`;
    try {
      // Drawn and enumerated values go through the same check as the file's own values.
      for (const [key, value] of Object.entries(overrides)) parseField(key as RunConfigKey, value, source);
      // One HParams session group per configuration, so TensorBoard aggregates its seeds.
      config = resolveConfig({ values: { ...overrides, seed, name, logdir: options.sweepDir, group: configName || 'default' }, source });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const reason = error.message.startsWith(`${source}: `) ? error.message.slice(source.length + 2) : error.message;
      return { name, reason };
    }
    const all = configToHparams(config);
    const hparams: Record<string, HParamValue> = {};
    for (const key of Object.keys(sweptValues)) hparams[key] = all[key]!;
    hparams.seed = seed;
    const index = configIndex * spec.seeds.length + seedPosition;
    return { index, name, configName: configName || 'default', configIndex, seed, swept: { ...sweptValues }, hparams, config };
  });
}

function isProblem(outcome: Trial | TrialProblem): outcome is TrialProblem {
  return 'reason' in outcome;
}

/** One SweepSpecError line per distinct reason, naming the first trial and how many more share it (five reasons at most). */
function problemsError(spec: SweepSpec, problems: readonly TrialProblem[]): SweepSpecError {
  const byReason = new Map<string, string[]>();
  for (const { name, reason } of problems) byReason.set(reason, [...(byReason.get(reason) ?? []), name]);
  return new SweepSpecError([...byReason].slice(0, 5).map(([reason, names]) => `${spec.file}: trial ${names[0]}${names.length > 1 ? ` (and ${names.length - 1} more)` : ''}: ${reason}`));
}

/**
 * The trials of the `configIndex`-th configuration, given its swept values (a searcher's
 * suggestion): one per seed, in the file's seed order, named as expandSweep names them. Their
 * `index` is configuration-major (configIndex * seeds + seed position), the order an adaptive
 * sweep runs them in; expandSweep renumbers its trials seeds-outermost. Throws SweepSpecError
 * when the assignment does not fit the spec or a trial's configuration is invalid.
 */
export function trialsOf(spec: SweepSpec, configIndex: number, assignment: Assignment, options: TrialsOfOptions): Trial[] {
  const outcomes = buildTrials(spec, configIndex, assignment, options);
  const problems = outcomes.filter(isProblem);
  if (problems.length > 0) throw problemsError(spec, problems);
  return outcomes as Trial[];
}

/**
 * Expands a grid or random spec into its trials. Throws SweepSpecError when a trial's
 * configuration is invalid, and for method bayes, whose configurations depend on results.
 */
export function expandSweep(spec: SweepSpec, options: ExpandOptions): Trial[] {
  if (spec.method === 'bayes') {
    throw new SweepSpecError([
      `${spec.file}: method bayes chooses each configuration from the results of the ones before it, so its trials cannot be listed in advance: they are made one configuration at a time as results come in`,
    ]);
  }
  const count = countTrials(spec);
  if (count.trials > HARD_TRIAL_LIMIT) checkTrialCount(spec, { yes: true });
  const searcher = createSearcher(spec);
  const assignments: Assignment[] = [];
  for (let configIndex = 0; configIndex < count.configurations; configIndex++) assignments.push(searcher.suggest(configIndex, [])!);
  const namer = new TrialNamer();
  const swept = sweptParameters(spec);
  // Names are claimed in the order they always were: every configuration, then the trials seeds-outermost.
  const configNames = assignments.map((assignment) => namer.configName(swept, assignment));
  for (const seed of spec.seeds) for (const configName of configNames) namer.trialName(configName, seed);
  const built = assignments.map((assignment, configIndex) => buildTrials(spec, configIndex, assignment, { ...options, namer }));

  const trials: Trial[] = [];
  const problems: TrialProblem[] = [];
  spec.seeds.forEach((_, seedPosition) => {
    for (const outcomes of built) {
      const outcome = outcomes[seedPosition]!;
      if (isProblem(outcome)) problems.push(outcome);
      else trials.push({ ...outcome, index: trials.length });
    }
  });
  if (problems.length > 0) throw problemsError(spec, problems);
  return trials;
}

/** The hparams experiment of the sweep: every swept parameter with its domain, and the seed. */
export function experimentHParams(spec: SweepSpec): HParamInfo[] {
  const infos: HParamInfo[] = [];
  for (const parameter of sweptParameters(spec)) {
    const description = fieldOf(parameter.key).description;
    if (parameter.kind === 'range' && (spec.method !== 'grid' || !Number.isFinite(domainSize(parameter)))) {
      infos.push({ name: parameter.key, description, type: 'float64', interval: { min: parameter.min, max: parameter.max } });
      continue;
    }
    // As configToHparams writes them in each trial's session: lists as "64x64".
    const values = domainValues(parameter).map(hparamValue);
    infos.push({ name: parameter.key, description, values });
  }
  infos.push({ name: 'seed', description: fieldOf('seed').description, values: [...spec.seeds].sort((a, b) => a - b) });
  return infos;
}
