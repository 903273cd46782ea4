/**
 * The contract between the training loop and a Q-learning engine. Two engines
 * implement it: `fused` (hand-written forward/backward/Adam over Float32Arrays,
 * fast for small MLPs) and `tfjs` (TensorFlow.js layers, any backend). The loop
 * never knows which one it drives.
 */

export type Activation = 'relu' | 'tanh';
export type LossKind = 'mse' | 'huber';
export type WeightInit = 'glorot' | 'pytorch';

/** An MLP Q-network: observation -> hidden layers -> linear head with one output per action. */
export interface NetworkSpec {
  readonly observationSize: number;
  readonly actionCount: number;
  readonly hiddenLayers: readonly number[];
  readonly activation: Activation;
}

export interface LearnerOptions extends NetworkSpec {
  readonly learningRate: number;
  readonly gamma: number;
  /** Loss on the taken action's TD error, averaged over the batch. Huber uses delta 1. */
  readonly loss: LossKind;
  /** Double DQN: the online network picks the next action, the target network values it. */
  readonly doubleDqn: boolean;
  /** Keras-style per-tensor gradient norm clipping (0 = off). The tutorial uses 1.0. */
  readonly clipNorm: number;
  /** Clip all gradients together by their global norm (0 = off), as PyTorch's clip_grad_norm_. */
  readonly clipGlobalNorm: number;
  readonly adamBeta1: number;
  readonly adamBeta2: number;
  readonly adamEpsilon: number;
  /** Seed of the weight initialisation. */
  readonly initSeed: number;
  /** Initialisation scheme: Keras' (Glorot-uniform kernels, zero biases) or torch.nn.Linear's. */
  readonly weightInit: WeightInit;
}

/**
 * A batch of transitions, row-major. `terminals[i]` is 1 when the next state's value
 * must not be bootstrapped (a true termination), else 0.
 */
export interface TransitionBatch {
  size: number;
  readonly states: Float32Array;
  readonly actions: Int32Array;
  readonly rewards: Float32Array;
  readonly nextStates: Float32Array;
  readonly terminals: Float32Array;
}

/**
 * Weights in Keras order: for each dense layer its kernel ([inputs, units], row-major)
 * then its bias ([units]).
 */
export type Weights = Float32Array[];

export interface OptimizerState {
  /** Adam's step counter. */
  iterations: number;
  /** First then second moments, one per weight tensor, in weight order. */
  firstMoments: Float32Array[];
  secondMoments: Float32Array[];
}

export interface QLearner {
  readonly engine: 'fused' | 'tfjs';
  readonly spec: NetworkSpec;
  /** Q-values of the online network for `count` states (row-major) into `out` (count x actionCount). */
  qValues(states: Float32Array, count: number, out: Float32Array): void;
  /** argmax_a Q(state, a) of the online network; ties go to the lowest index. */
  greedyAction(state: Float32Array): number;
  /** One gradient step on the TD loss against the target network; returns the batch loss. */
  trainStep(batch: TransitionBatch): number;
  /** target <- tau * online + (1 - tau) * target; tau = 1 copies. */
  updateTarget(tau: number): void;
  /** Adam's learning rate from the next trainStep on (learning-rate schedules). */
  setLearningRate(learningRate: number): void;
  getWeights(which: 'online' | 'target'): Weights;
  setWeights(which: 'online' | 'target', weights: Weights): void;
  getOptimizerState(): OptimizerState;
  setOptimizerState(state: OptimizerState): void;
  dispose(): void;
}

/** Shapes of the weight tensors of a network, in Keras order. */
export function weightShapes(spec: NetworkSpec): number[][] {
  const shapes: number[][] = [];
  let inputs = spec.observationSize;
  for (const units of [...spec.hiddenLayers, spec.actionCount]) {
    shapes.push([inputs, units], [units]);
    inputs = units;
  }
  return shapes;
}
