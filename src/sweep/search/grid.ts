/**
 * Grid search as a searcher: the configIndex-th configuration of the product of the
 * parameters in file order, the last varying fastest (the order expandSweep always had).
 */
import type { Parameter, SweepSpec } from '../spec.js';
import type { Assignment, Searcher } from './searcher.js';
import { domainSize, domainValueAt, sweptParameters } from './space.js';

export class GridSearcher implements Searcher {
  private readonly swept: Parameter[];
  private readonly sizes: number[];
  /** How many configurations the grid has. */
  readonly size: number;

  constructor(spec: SweepSpec) {
    this.swept = sweptParameters(spec);
    this.sizes = this.swept.map(domainSize);
    this.size = this.sizes.reduce((product, size) => product * size, 1);
  }

  suggest(configIndex: number): Assignment | null {
    if (!Number.isSafeInteger(configIndex) || configIndex < 0 || configIndex >= this.size) return null;
    // Mixed-radix digits of the index, the last parameter the least significant.
    const assignment: Assignment = {};
    let rest = configIndex;
    for (let i = this.swept.length - 1; i >= 0; i--) {
      const size = this.sizes[i]!;
      assignment[this.swept[i]!.key] = domainValueAt(this.swept[i]!, rest % size);
      rest = Math.floor(rest / size);
    }
    // Keys in file order, as every other assignment has them.
    return Object.fromEntries(this.swept.map((parameter) => [parameter.key, assignment[parameter.key]!]));
  }
}
