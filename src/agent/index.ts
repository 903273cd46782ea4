/**
 * Engine selection. The tfjs engine is imported lazily so a run on the fused engine
 * never pays for loading TensorFlow.js.
 */
import { createFusedLearner, fusedSupports } from './fused.js';
import type { LearnerOptions, NetworkSpec, QLearner } from './learner.js';

export type EngineChoice = 'fused' | 'tfjs' | 'auto';

/** The engine a choice means for a network: 'auto' picks fused whenever it supports the network, else tfjs. */
export function resolveEngine(spec: NetworkSpec, engine: EngineChoice): 'fused' | 'tfjs' {
  return engine === 'fused' || (engine === 'auto' && fusedSupports(spec)) ? 'fused' : 'tfjs';
}

export async function createLearner(options: LearnerOptions, engine: EngineChoice): Promise<QLearner> {
  if (resolveEngine(options, engine) === 'fused') return createFusedLearner(options);
  const { createTfjsLearner } = await import('./tfjs-learner.js');
  return createTfjsLearner(options);
}

export { fusedSupports } from './fused.js';
export { fusedKernelsDescription } from './simd-kernels.js';
