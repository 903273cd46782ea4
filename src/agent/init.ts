import { Rng } from '../util/random.js';
import { type NetworkSpec, type Weights, type WeightInit, weightShapes } from './learner.js';

/**
 * Initial weights drawn from our seeded Rng, so both engines start from identical weights
 * for the same seed. 'glorot' is Keras' default (Glorot-uniform kernels, zero biases; the
 * tutorial's network); 'pytorch' is torch.nn.Linear's (kernel and bias uniform in
 * +-1/sqrt(fanIn), as SB3 and CleanRL start). Non-zero biases matter on unnormalised inputs:
 * with zero biases every first-layer ReLU's kink passes through the origin.
 */
export function initialWeights(spec: NetworkSpec, seed: number, scheme: WeightInit = 'glorot'): Weights {
  const rng = new Rng(seed);
  const shapes = weightShapes(spec);
  return shapes.map((shape, index) => {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    // Kernels are [fanIn, units]; a bias's fanIn is its kernel's (the tensor before it).
    const fanIn = shape.length === 2 ? shape[0]! : shapes[index - 1]![0]!;
    const limit = scheme === 'pytorch' ? 1 / Math.sqrt(fanIn) : shape.length === 2 ? Math.sqrt(6 / (shape[0]! + shape[1]!)) : 0;
    if (limit > 0) for (let i = 0; i < values.length; i++) values[i] = rng.uniform(-limit, limit);
    return values;
  });
}
