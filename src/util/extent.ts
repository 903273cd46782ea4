/**
 * Largest and smallest of many numbers. `Math.max(...values)` passes every value as an
 * argument on the call stack and throws "Maximum call stack size exceeded" beyond roughly
 * 100,000 of them (a large sweep's logged points); these loop instead.
 */

/** The largest value; -Infinity when there is none (as Math.max()). NaN is skipped. */
export function maxOf(values: Iterable<number>): number {
  let max = -Infinity;
  for (const value of values) if (value > max) max = value;
  return max;
}

/** The smallest value; Infinity when there is none (as Math.min()). NaN is skipped. */
export function minOf(values: Iterable<number>): number {
  let min = Infinity;
  for (const value of values) if (value < min) min = value;
  return min;
}
