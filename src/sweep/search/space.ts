/**
 * The search space of a sweep file as data: each parameter's domain, the values a grid
 * enumerates, a draw from the prior (what random search samples), and whether a value lies
 * in the domain. Grid, random and bayes all read the space through these functions.
 */
import type { Rng } from '../../util/random.js';
import type { Parameter, ParamValue, SweepSpec } from '../spec.js';
import type { Assignment } from './searcher.js';

/** Significant digits kept of continuous draws (names stay readable, values exact). */
const DRAW_DIGITS = 5;

/** Rounds away binary noise such as 0.30000000000000004. */
export function tidy(value: number): number {
  return Number(value.toPrecision(12));
}

/** The multiples of q in [min, max], as the integers first..last (value = index * q). */
export function qGrid(min: number, max: number, q: number): { first: number; last: number } {
  return { first: Math.ceil(tidy(min / q)), last: Math.floor(tidy(max / q)) };
}

/** How many values a parameter takes in a grid (Infinity for a continuous range). */
export function domainSize(parameter: Parameter): number {
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
export function domainValues(parameter: Parameter): ParamValue[] {
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

/** The value of the i-th (0-based) grid point of a discrete parameter, without listing them all. */
export function domainValueAt(parameter: Parameter, i: number): ParamValue {
  switch (parameter.kind) {
    case 'value':
      return parameter.value;
    case 'values':
      return parameter.values[i]!;
    case 'range':
      if (parameter.distribution === 'int_uniform') return parameter.min + i;
      return tidy((qGrid(parameter.min, parameter.max, parameter.q!).first + i) * parameter.q!);
  }
}

/** Parameters that take more than one value: they name the trials, are the hparams and what a searcher chooses. */
export function sweptParameters(spec: SweepSpec): Parameter[] {
  return spec.parameters.filter((parameter) => domainSize(parameter) > 1);
}

/** How many distinct configurations the parameters allow (Infinity with a continuous range). */
export function spaceSize(spec: SweepSpec): number {
  return spec.parameters.reduce((product, parameter) => product * domainSize(parameter), 1);
}

/**
 * How many configurations the method tries: the whole grid; random: run_cap trials make
 * floor(run_cap / seeds) configurations (run_cap counts trials there, as it always has);
 * bayes: run_cap configurations. Not checked against the space (countTrials does that).
 */
export function configurationBudget(spec: SweepSpec): number {
  switch (spec.method) {
    case 'grid':
      return spaceSize(spec);
    case 'random':
      return Math.floor((spec.runCap ?? 0) / spec.seeds.length);
    case 'bayes':
      return spec.runCap ?? 0;
  }
}

/** A continuous draw rounded to DRAW_DIGITS significant digits, kept inside [min, max]. */
export function roundDraw(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Number(value.toPrecision(DRAW_DIGITS))));
}

/** One value from the parameter's prior: uniform over values, the range, its log, or its grid. */
export function drawValue(parameter: Parameter, rng: Rng): ParamValue {
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

/** Whether `value` is one the parameter can take (lists compare by content). */
export function inDomain(parameter: Parameter, value: ParamValue): boolean {
  switch (parameter.kind) {
    case 'value':
      return sameValue(parameter.value, value);
    case 'values':
      return parameter.values.some((candidate) => sameValue(candidate, value));
    case 'range': {
      if (typeof value !== 'number' || !(value >= parameter.min && value <= parameter.max)) return false;
      if (parameter.distribution === 'int_uniform') return Number.isInteger(value);
      if (parameter.distribution === 'q_uniform') return tidy(Math.round(value / parameter.q!) * parameter.q!) === value;
      return true;
    }
  }
}

export function sameValue(a: ParamValue, b: ParamValue): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** A configuration's identity: its swept values in file order (two equal assignments, one key). */
export function assignmentKey(swept: readonly Parameter[], assignment: Assignment): string {
  return JSON.stringify(swept.map((parameter) => assignment[parameter.key] ?? null));
}

/**
 * What is wrong with an assignment for this spec (a journal read back, a searcher's answer):
 * a swept parameter missing or out of its domain, a key that is not swept. Empty when it is fine.
 */
export function assignmentProblems(spec: SweepSpec, assignment: Assignment): string[] {
  const swept = sweptParameters(spec);
  const problems: string[] = [];
  for (const parameter of swept) {
    const value = assignment[parameter.key];
    if (value === undefined) problems.push(`no value for the swept parameter "${parameter.key}"`);
    else if (!inDomain(parameter, value)) problems.push(`"${parameter.key}" ${JSON.stringify(value)} is outside its domain in ${parameter.at}`);
  }
  for (const key of Object.keys(assignment)) {
    if (!swept.some((parameter) => parameter.key === key)) problems.push(`"${key}" is not a swept parameter of ${spec.file}`);
  }
  return problems;
}
