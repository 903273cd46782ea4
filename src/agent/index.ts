/**
 * Engine selection. The tfjs engine is imported lazily so a run on the fused engine
 * never pays for loading TensorFlow.js.
 */
import { createFusedLearner, fusedSupports } from './fused.js';
import type { LearnerOptions, QLearner } from './learner.js';

export type EngineChoice = 'fused' | 'tfjs' | 'auto';

/** 'auto' picks fused whenever it supports the network, else tfjs. */
export async function createLearner(options: LearnerOptions, engine: EngineChoice): Promise<QLearner> {
  const useFused = engine === 'fused' || (engine === 'auto' && fusedSupports(options));
  if (useFused) return createFusedLearner(options);
  const { createTfjsLearner } = await import('./tfjs-learner.js');
  return createTfjsLearner(options);
}

export { fusedSupports } from './fused.js';
