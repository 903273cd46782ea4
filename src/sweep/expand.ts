/**
 * Expansion: SweepSpec -> Trial[]. Pure: the same spec (and logdir) always gives
 * the same trials, in the same order, with the same names. Random search draws
 * from an Rng seeded with the spec's sweep_seed.
 *
 * Order: seeds outermost, then configurations (grid: the product of the
 * parameters in file order, the last varying fastest), so a sweep that is
 * stopped early has covered the whole grid with the first seed.
 */
import { ConfigError, type RunConfig, type RunConfigKey, configToHparams, configWarnings, fieldOf, hparamValue, listText, parseField, resolveConfig } from '../train/config.js';
import type { HParamInfo, HParamValue } from '../tensorboard/index.js';
import { Rng } from '../util/random.js';
import { type Parameter, type ParamValue, type SweepSpec, SweepSpecError } from './spec.js';

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
/** Significant digits kept of continuous random draws (names stay readable, values exact). */
const DRAW_DIGITS = 5;

/** Rounds away binary noise such as 0.30000000000000004. */
function tidy(value: number): number {
  return Number(value.toPrecision(12));
}

function qGrid(min: number, max: number, q: number): { first: number; last: number } {
  return { first: Math.ceil(tidy(min / q)), last: Math.floor(tidy(max / q)) };
}

/** How many values a parameter takes in a grid (Infinity for a continuous range). */
function domainSize(parameter: Parameter): number {
  switch (parameter.kind) {
    case 'value':
      return 1;
    case 'values':
      return parameter.values.length;
    case 'range':
      if (parameter.distribution === 'int_uniform') return parameter.max - parameter.min + 1;
      if (parameter.distribution === 'q_uniform') {
        const { first, last } = qGrid(parameter.min, parameter.max, parameter.q!);
        return Math.max(0, last - first + 1);
      }
      return Infinity;
  }
}

/** The values of a discrete parameter (call only when domainSize is finite and small). */
function domainValues(parameter: Parameter): ParamValue[] {
  switch (parameter.kind) {
    case 'value':
      return [parameter.value];
    case 'values':
      return parameter.values;
    case 'range': {
      const { min, max } = parameter;
      if (parameter.distribution === 'int_uniform') return Array.from({ length: max - min + 1 }, (_, i) => min + i);
      const q = parameter.q!;
      const { first, last } = qGrid(min, max, q);
      return Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => tidy((first + i) * q));
    }
  }
}

/** Parameters that take more than one value: they name the trials and are the hparams. */
export function sweptParameters(spec: SweepSpec): Parameter[] {
  return spec.parameters.filter((parameter) => domainSize(parameter) > 1);
}

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
  let configurations: number;
  if (spec.method === 'grid') {
    configurations = spec.parameters.reduce((product, parameter) => product * domainSize(parameter), 1);
  } else {
    configurations = Math.floor((spec.runCap ?? 0) / spec.seeds.length);
    const space = spec.parameters.reduce((product, parameter) => product * domainSize(parameter), 1);
    if (space < configurations) {
      throw new SweepSpecError([
        `${spec.file}: random search: run_cap ${spec.runCap} asks for ${configurations} configurations x ${spec.seeds.length} seeds, ` +
          `but the parameters allow only ${space} distinct configurations; lower run_cap to ${space * spec.seeds.length} or use method: grid`,
      ]);
    }
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
      : `${count.configurations} random configurations`;
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

/** A continuous draw rounded to DRAW_DIGITS significant digits, kept inside [min, max]. */
function roundDraw(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Number(value.toPrecision(DRAW_DIGITS))));
}

function draw(parameter: Parameter, rng: Rng): ParamValue {
  switch (parameter.kind) {
    case 'value':
      return parameter.value;
    case 'values':
      return parameter.values[rng.nextInt(parameter.values.length)]!;
    case 'range': {
      const { min, max } = parameter;
      switch (parameter.distribution) {
        case 'uniform':
          return roundDraw(rng.uniform(min, max), min, max);
        case 'log_uniform_values':
          return roundDraw(Math.exp(rng.uniform(Math.log(min), Math.log(max))), min, max);
        case 'int_uniform':
          return min + rng.nextInt(max - min + 1);
        case 'q_uniform': {
          // Uniform over the multiples of q in [min, max] (the values the grid would take).
          const { first, last } = qGrid(min, max, parameter.q!);
          return tidy((first + rng.nextInt(last - first + 1)) * parameter.q!);
        }
      }
    }
  }
}

/** Every configuration's parameter values, in file order. */
function configurations(spec: SweepSpec, count: number): ParamValue[][] {
  const { parameters } = spec;
  if (spec.method === 'grid') {
    const domains = parameters.map(domainValues);
    const result: ParamValue[][] = [];
    const current: ParamValue[] = [];
    const visit = (depth: number): void => {
      if (depth === domains.length) {
        result.push([...current]);
        return;
      }
      for (const value of domains[depth]!) {
        current[depth] = value;
        visit(depth + 1);
      }
    };
    visit(0);
    return result;
  }
  const rng = new Rng(spec.sweepSeed);
  const seen = new Set<string>();
  const result: ParamValue[][] = [];
  const maxAttempts = count * 50 + 1000;
  for (let attempt = 0; result.length < count && attempt < maxAttempts; attempt++) {
    const values = parameters.map((parameter) => draw(parameter, rng));
    const id = JSON.stringify(values);
    if (seen.has(id)) continue;
    seen.add(id);
    result.push(values);
  }
  if (result.length < count) {
    throw new SweepSpecError([`${spec.file}: random search drew only ${result.length} distinct configurations of the ${count} asked for; lower run_cap or widen the parameters`]);
  }
  return result;
}

/** Expands a spec into its trials. Throws SweepSpecError when a trial's configuration is invalid. */
export function expandSweep(spec: SweepSpec, options: ExpandOptions): Trial[] {
  const count = countTrials(spec);
  if (count.trials > HARD_TRIAL_LIMIT) checkTrialCount(spec, { yes: true });
  const swept = new Set(sweptParameters(spec).map((parameter) => parameter.key));
  const configs = configurations(spec, count.configurations);
  const configNames = new NameRegistry();
  const named = configs.map((values) => {
    const sweptValues: Record<string, ParamValue> = {};
    const parts: string[] = [];
    spec.parameters.forEach((parameter, i) => {
      if (!swept.has(parameter.key)) return;
      sweptValues[parameter.key] = values[i]!;
      parts.push(`${parameter.key}=${formatNameValue(values[i]!)}`);
    });
    return { values, sweptValues, configName: parts.length > 0 ? configNames.claim(parts.join(',')) : '' };
  });

  const trialNames = new NameRegistry();
  const trials: Trial[] = [];
  const problems = new Map<string, string[]>();
  for (const seed of spec.seeds) {
    named.forEach(({ values, sweptValues, configName }, configIndex) => {
      const name = trialNames.claim(configName ? `${configName},seed=${seed}` : `seed=${seed}`);
      const overrides: Record<string, unknown> = {};
      spec.parameters.forEach((parameter, i) => {
        overrides[parameter.key] = values[i];
      });
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
        problems.set(reason, [...(problems.get(reason) ?? []), name]);
        return;
      }
      const all = configToHparams(config);
      const hparams: Record<string, HParamValue> = {};
      for (const key of Object.keys(sweptValues)) hparams[key] = all[key]!;
      hparams.seed = seed;
      trials.push({ index: trials.length, name, configName: configName || 'default', configIndex, seed, swept: sweptValues, hparams, config });
    });
  }
  if (problems.size > 0) {
    throw new SweepSpecError([...problems].slice(0, 5).map(([reason, names]) => `${spec.file}: trial ${names[0]}${names.length > 1 ? ` (and ${names.length - 1} more)` : ''}: ${reason}`));
  }
  return trials;
}

/** The hparams experiment of the sweep: every swept parameter with its domain, and the seed. */
export function experimentHParams(spec: SweepSpec): HParamInfo[] {
  const infos: HParamInfo[] = [];
  for (const parameter of sweptParameters(spec)) {
    const description = fieldOf(parameter.key).description;
    if (parameter.kind === 'range' && (spec.method === 'random' || !Number.isFinite(domainSize(parameter)))) {
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
