/**
 * Random search as a searcher: the configIndex-th distinct draw of one Rng seeded with
 * sweep_seed, every parameter drawn in file order (the sequence expandSweep always drew, so
 * existing random sweeps keep their trials). The results do not steer it.
 */
import { Rng } from '../../util/random.js';
import { type ParamValue, type SweepSpec, SweepSpecError } from '../spec.js';
import type { Assignment, Searcher } from './searcher.js';
import { drawValue, sweptParameters } from './space.js';

export class RandomSearcher implements Searcher {
  private drawn: ParamValue[][] | undefined;

  /** `count`: how many configurations the search has (run_cap / seeds for random search). */
  constructor(
    private readonly spec: SweepSpec,
    readonly count: number,
  ) {}

  suggest(configIndex: number): Assignment | null {
    if (!Number.isSafeInteger(configIndex) || configIndex < 0 || configIndex >= this.count) return null;
    this.drawn ??= distinctDraws(this.spec, this.count);
    const values = this.drawn[configIndex]!;
    const swept = new Set(sweptParameters(this.spec));
    const assignment: Assignment = {};
    // Only the swept parameters: a fixed one (value, or a one-item values list) is no choice.
    this.spec.parameters.forEach((parameter, i) => {
      if (swept.has(parameter)) assignment[parameter.key] = values[i]!;
    });
    return assignment;
  }
}

/** `count` distinct configurations (all parameters' values, in file order), drawn in sequence. */
function distinctDraws(spec: SweepSpec, count: number): ParamValue[][] {
  const rng = new Rng(spec.sweepSeed);
  const seen = new Set<string>();
  const result: ParamValue[][] = [];
  const maxAttempts = count * 50 + 1000;
  for (let attempt = 0; result.length < count && attempt < maxAttempts; attempt++) {
    // Every parameter draws, a fixed one too (a one-item list still takes a number from the Rng).
    const values = spec.parameters.map((parameter) => drawValue(parameter, rng));
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
