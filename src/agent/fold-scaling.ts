import type { ObservationScaling } from '../envs/scaling.js';
import type { Weights } from './learner.js';

/**
 * Weights that take raw observations, from weights trained on scaled ones: the affine
 * scaling is folded into the first dense layer (kernel [inputs, units], row-major), so a
 * snapshot needs no preprocessing and loads as a plain model:
 *   W'[i][u] = W[i][u] * scale[i],   b'[u] = b[u] - sum_i W[i][u] * scale[i] * shift[i].
 */
export function foldObservationScaling(weights: Weights, scaling: ObservationScaling): Weights {
  const [kernel, bias, ...rest] = weights;
  if (kernel === undefined || bias === undefined) throw new Error('foldObservationScaling: the network has no dense layer');
  const inputs = scaling.scale.length;
  const units = bias.length;
  if (kernel.length !== inputs * units) {
    throw new Error(`foldObservationScaling: first kernel has ${kernel.length} values, expected ${inputs} x ${units}`);
  }
  const foldedKernel = new Float32Array(kernel.length);
  const foldedBias = new Float64Array(bias);
  for (let i = 0; i < inputs; i++) {
    const scale = scaling.scale[i]!;
    const shift = scaling.shift[i]!;
    for (let u = 0; u < units; u++) {
      const scaled = kernel[i * units + u]! * scale;
      foldedKernel[i * units + u] = scaled;
      foldedBias[u]! -= scaled * shift;
    }
  }
  return [foldedKernel, Float32Array.from(foldedBias), ...rest.map((tensor) => tensor.slice())];
}
