import type { NetworkSpec } from '../agent/learner.js';
import { maxOf } from '../util/extent.js';

/** A Keras-style model summary: one row per dense layer with its output shape and parameters. */
export function modelSummary(spec: NetworkSpec): string {
  const rows: Array<[string, string, string]> = [];
  let inputs = spec.observationSize;
  let total = 0;
  const units = [...spec.hiddenLayers, spec.actionCount];
  units.forEach((layerUnits, i) => {
    const params = inputs * layerUnits + layerUnits;
    total += params;
    const activation = i === units.length - 1 ? 'linear' : spec.activation;
    rows.push([`dense_${i + 1} (Dense, ${activation})`, `[null,${layerUnits}]`, String(params)]);
    inputs = layerUnits;
  });
  const header: [string, string, string] = ['Layer (type)', 'Output shape', 'Param #'];
  const widths = [0, 1, 2].map((c) => maxOf([header, ...rows].map((row) => row[c]!.length)) + 2);
  const format = (row: [string, string, string]): string =>
    row
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('')
      .trimEnd();
  const rule = '_'.repeat(widths.reduce((a, b) => a + b, 0));
  return [rule, format(header), '='.repeat(rule.length), ...rows.map(format), '='.repeat(rule.length), `Input: [null,${spec.observationSize}]   Total params: ${total}`, rule].join('\n');
}
