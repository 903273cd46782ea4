import { Rng } from '../util/random.js';
import { type NetworkSpec, type Weights, weightShapes } from './learner.js';

/**
 * Keras' default initialisation (Glorot-uniform kernels, zero biases), drawn from our
 * seeded Rng so both engines start from identical weights for the same seed.
 */
export function initialWeights(spec: NetworkSpec, seed: number): Weights {
  const rng = new Rng(seed);
  return weightShapes(spec).map((shape) => {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (shape.length === 2) {
      const limit = Math.sqrt(6 / (shape[0]! + shape[1]!));
      for (let i = 0; i < values.length; i++) values[i] = rng.uniform(-limit, limit);
    }
    return values;
  });
}
