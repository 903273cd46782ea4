/**
 * The value scales of the report's charts. A diverging run's loss or Q-values grow by orders
 * of magnitude and flatten every other curve on a linear axis; on a log axis (or a symmetric
 * log axis, for values that may be zero or negative) every curve keeps its shape. The mean
 * and spread over seeds are taken in the scale's own space (geometric on a log axis), so a
 * band never leaves the axis: no loss band below zero.
 */
export type ChartScale = 'linear' | 'log' | 'symlog';

/** The value a point is drawn at on the scale's axis. `log` needs values > 0. */
export function toScale(scale: ChartScale, value: number): number {
  switch (scale) {
    case 'linear':
      return value;
    case 'log':
      return Math.log10(value);
    // Linear near zero, logarithmic beyond ±1: sign(v) log10(1 + |v|).
    case 'symlog':
      return Math.sign(value) * Math.log10(1 + Math.abs(value));
  }
}

export function fromScale(scale: ChartScale, position: number): number {
  switch (scale) {
    case 'linear':
      return position;
    case 'log':
      return 10 ** position;
    case 'symlog':
      return Math.sign(position) * (10 ** Math.abs(position) - 1);
  }
}

/** The log-like scale that can show all these values: log when all are > 0, else symlog. */
export function logLikeScale(values: Iterable<number>): 'log' | 'symlog' {
  for (const value of values) if (!(value > 0)) return 'symlog';
  return 'log';
}

/**
 * Round tick values (1, 2 or 5 times a power of ten), about `count` of them, from the last tick
 * at or below `min` to the first at or above `max`: the axis starts and ends on a tick.
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const rough = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= rough)!;
  const first = Math.floor(min / step + 1e-9);
  const last = Math.ceil(max / step - 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/** At most this many ticks on a log-like axis: decades are thinned beyond it. */
const MAX_LOG_TICKS = 7;

/** Whole decades from one at or below `low` to one at or above `high` (positions on the log axis). */
function decades(low: number, high: number): number[] {
  const first = Math.floor(low + 1e-9);
  const last = Math.max(first + 1, Math.ceil(high - 1e-9));
  const every = Math.ceil((last - first) / (MAX_LOG_TICKS - 1));
  const ticks: number[] = [];
  for (let decade = first; decade <= last + every - 1; decade += every) ticks.push(decade);
  return ticks;
}

/** Values 0 and ±10^k (k a multiple of `every`) out to the first beyond each end of [min, max] (positions on the symlog axis). */
function symlogTickValues(min: number, max: number, every: number): number[] {
  const values = [0];
  for (const [side, reach] of [
    [-1, -min],
    [1, max],
  ] as const) {
    if (reach <= 0) continue;
    for (let decade = 0; ; decade += every) {
      values.push(side * 10 ** decade);
      if (toScale('symlog', 10 ** decade) >= reach - 1e-9) break;
    }
  }
  return values.sort((a, b) => a - b);
}

/**
 * Tick positions (in the scale's space) that enclose [min, max] (also in the scale's space):
 * round values on a linear axis, powers of ten on a log axis, 0 and ± powers of ten on a
 * symlog axis; at most MAX_LOG_TICKS on a log-like axis.
 */
export function scaleTicks(scale: ChartScale, min: number, max: number): number[] {
  if (scale === 'linear') return niceTicks(min, max);
  if (scale === 'log') return decades(min, max);
  let values = symlogTickValues(min, max, 1);
  for (let every = 2; values.length > MAX_LOG_TICKS; every++) values = symlogTickValues(min, max, every);
  const positions = values.map((value) => toScale('symlog', value));
  // Data away from zero: start at the last tick at or below it rather than at 0.
  let first = 0;
  while (first + 1 < positions.length && positions[first + 1]! <= min + 1e-9) first++;
  return positions.slice(first);
}
