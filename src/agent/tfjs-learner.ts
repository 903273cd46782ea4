/**
 * The `tfjs` engine: online and target `tf.sequential` MLPs trained with TensorFlow.js'
 * Adam. It runs on any tfjs backend and any network tfjs can build; for the small MLPs
 * of classic control the fused engine computes the same thing faster.
 *
 * The loss graph below is the specification the fused engine mirrors op for op; change
 * both together.
 */
import { tf, initTf, type Tf } from '../tf.js';
import { adamBetaPower } from './fused.js';
import { initialWeights } from './init.js';
import { type LearnerOptions, type NetworkSpec, type OptimizerState, type QLearner, type TransitionBatch, type Weights, weightShapes } from './learner.js';

type Tensor = InstanceType<Tf['Tensor']>;
type Variable = InstanceType<Tf['Variable']>;
type Scalar = ReturnType<Tf['scalar']>;
type Sequential = ReturnType<Tf['sequential']>;
type AdamOptimizer = ReturnType<Tf['train']['adam']>;

/** Keeps the global-norm divisor away from zero, as PyTorch's clip_grad_norm_ (same as fused). */
const GLOBAL_NORM_EPSILON = 1e-6;

/** Private fields of tfjs' AdamOptimizer (4.x) that hold its exact state. */
interface AdamInternals {
  accBeta1: Variable;
  accBeta2: Variable;
  accumulatedFirstMoment: { originalName: string; variable: Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: Variable }[];
  iterations_: number;
}

export async function createTfjsLearner(options: LearnerOptions): Promise<QLearner> {
  await initTf();
  return new TfjsLearner(options);
}

function buildModel(spec: NetworkSpec, weights: Weights): Sequential {
  const model = tf.sequential();
  const units = [...spec.hiddenLayers, spec.actionCount];
  units.forEach((layerUnits, index) => {
    const isHead = index === units.length - 1;
    model.add(
      tf.layers.dense({
        units: layerUnits,
        activation: isHead ? 'linear' : spec.activation,
        // Our seeded Glorot weights replace these; zeros avoid drawing from tfjs' RNG.
        kernelInitializer: 'zeros',
        ...(index === 0 ? { inputShape: [spec.observationSize] } : {}),
      }),
    );
  });
  assignAll(modelVariables(model), weights, 'buildModel');
  return model;
}

/** The tf.Variables behind a model's weights, in Keras order (kernel, bias per layer). */
function modelVariables(model: Sequential): Variable[] {
  return model.weights.map((layerVariable) => {
    const variable = layerVariable.read();
    if (!(variable instanceof tf.Variable)) throw new Error(`weight ${layerVariable.name} is not backed by a tf.Variable`);
    return variable;
  });
}

function assignAll(variables: Variable[], values: Weights, what: string): void {
  if (values.length !== variables.length) throw new Error(`${what}: expected ${variables.length} tensors, got ${values.length}`);
  tf.tidy(() => {
    variables.forEach((variable, index) => {
      const value = values[index]!;
      if (value.length !== variable.size) {
        throw new Error(`${what}: tensor ${index} has ${value.length} values, expected ${variable.size}`);
      }
      // Copy: the cpu backend would otherwise keep a reference to the caller's array.
      variable.assign(tf.tensor(Float32Array.from(value), variable.shape));
    });
  });
}

function readAll(tensors: Tensor[]): Weights {
  return tensors.map((tensor) => new Float32Array(tensor.dataSync()));
}

function adamInternals(optimizer: AdamOptimizer): AdamInternals {
  const internals = optimizer as unknown as Partial<AdamInternals>;
  const complete =
    internals.accBeta1 instanceof tf.Variable && internals.accBeta2 instanceof tf.Variable && Array.isArray(internals.accumulatedFirstMoment) && Array.isArray(internals.accumulatedSecondMoment);
  if (!complete) throw new Error('tfjs engine: this TensorFlow.js version has an unexpected AdamOptimizer layout');
  return internals as AdamInternals;
}

/** Euclidean norm of a tensor as a scalar: sqrt(sum(g^2)). */
function l2Norm(tensor: Tensor): Tensor {
  return tf.sqrt(tf.sum(tf.square(tensor)));
}

/**
 * Huber loss with delta 1: 0.5 d^2 inside |d| <= 1, |d| - 0.5 outside. Its gradient is
 * written out as clip(d, -1, 1): tfjs has no gradient for the comparison a `where`
 * needs, and the clipped form is also the numerically clean one.
 */
const huberLoss = tf.customGrad((input, save) => {
  const diff = input as Tensor;
  (save as (tensors: Tensor[]) => void)([diff]); // tensors the gradient reads must be saved, not captured
  const absDiff = tf.abs(diff);
  const value = tf.where(tf.lessEqual(absDiff, 1), tf.mul(tf.square(diff), 0.5), tf.sub(absDiff, 0.5));
  return { value, gradFunc: (dy: Tensor, saved: Tensor[]) => tf.mul(dy, tf.clipByValue(saved[0]!, -1, 1)) };
});

/** Index of the largest of `count` values; ties go to the lowest index. */
function argmax(values: Float32Array, count: number): number {
  let best = 0;
  for (let a = 1; a < count; a++) if (values[a]! > values[best]!) best = a;
  return best;
}

class TfjsLearner implements QLearner {
  readonly engine = 'tfjs' as const;
  readonly spec: NetworkSpec;

  private readonly options: LearnerOptions;
  private readonly online: Sequential;
  private readonly target: Sequential;
  private readonly onlineVariables: Variable[];
  private readonly targetVariables: Variable[];
  private readonly optimizer: AdamOptimizer;
  private readonly adam: AdamInternals;
  private readonly singleQValues: Float32Array;

  constructor(options: LearnerOptions) {
    this.options = options;
    this.spec = {
      observationSize: options.observationSize,
      actionCount: options.actionCount,
      hiddenLayers: [...options.hiddenLayers],
      activation: options.activation,
    };
    const weights = initialWeights(this.spec, options.initSeed, options.weightInit);
    this.online = buildModel(this.spec, weights);
    this.target = buildModel(this.spec, weights);
    this.onlineVariables = modelVariables(this.online);
    this.targetVariables = modelVariables(this.target);
    this.optimizer = tf.train.adam(options.learningRate, options.adamBeta1, options.adamBeta2, options.adamEpsilon);
    this.adam = adamInternals(this.optimizer);
    this.singleQValues = new Float32Array(options.actionCount);
    // Create Adam's moments now (zeros), so a train step never adds live tensors.
    this.setOptimizerState(this.zeroOptimizerState());
  }

  qValues(states: Float32Array, count: number, out: Float32Array): void {
    if (count <= 0) return;
    tf.tidy(() => {
      const input = tf.tensor2d(states.subarray(0, count * this.spec.observationSize), [count, this.spec.observationSize]);
      out.set(this.predict(this.online, input).dataSync());
    });
  }

  greedyAction(state: Float32Array): number {
    this.qValues(state, 1, this.singleQValues);
    return argmax(this.singleQValues, this.spec.actionCount);
  }

  trainStep(batch: TransitionBatch): number {
    const rows = batch.size;
    if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`trainStep: batch size must be >= 1, got ${rows}`);
    const observationSize = this.spec.observationSize;
    let loss = Number.NaN;
    tf.tidy(() => {
      const states = tf.tensor2d(batch.states.subarray(0, rows * observationSize), [rows, observationSize]);
      const nextStates = tf.tensor2d(batch.nextStates.subarray(0, rows * observationSize), [rows, observationSize]);
      const actionMask = tf.oneHot(tf.tensor1d(batch.actions.subarray(0, rows), 'int32'), this.spec.actionCount, 1, 0, 'float32');
      const targets = this.tdTargets(nextStates, batch.rewards.subarray(0, rows), batch.terminals.subarray(0, rows));
      const { value, grads } = tf.variableGrads(() => this.tdLoss(states, actionMask, targets), this.onlineVariables);
      const clipped = this.clipGradients(this.onlineVariables.map((variable) => grads[variable.name]!));
      const namedGradients = this.onlineVariables.map((variable, index) => ({ name: variable.name, tensor: clipped[index]! }));
      this.optimizer.applyGradients(namedGradients);
      loss = value.dataSync()[0]!;
    });
    return loss;
  }

  setLearningRate(learningRate: number): void {
    // tfjs' Adam reads its (protected) learningRate at every applyGradients.
    (this.optimizer as unknown as { learningRate: number }).learningRate = learningRate;
  }

  updateTarget(tau: number): void {
    tf.tidy(() => {
      this.targetVariables.forEach((target, index) => {
        const online = this.onlineVariables[index]!;
        target.assign(tau === 1 ? tf.clone(online) : tf.add(tf.mul(online, tau), tf.mul(target, 1 - tau)));
      });
    });
  }

  getWeights(which: 'online' | 'target'): Weights {
    return readAll(this.variablesOf(which));
  }

  setWeights(which: 'online' | 'target', weights: Weights): void {
    assignAll(this.variablesOf(which), weights, `setWeights(${which})`);
  }

  getOptimizerState(): OptimizerState {
    return {
      iterations: this.optimizer.iterations,
      firstMoments: readAll(this.adam.accumulatedFirstMoment.map((moment) => moment.variable)),
      secondMoments: readAll(this.adam.accumulatedSecondMoment.map((moment) => moment.variable)),
    };
  }

  /**
   * Replaces Adam's moments, step count and beta powers. The beta powers are rebuilt as
   * the float32 running product a live optimizer holds (tfjs' own setWeights uses pow,
   * which can differ in the last bit), so a restored learner continues identically.
   */
  setOptimizerState(state: OptimizerState): void {
    if (!Number.isInteger(state.iterations) || state.iterations < 0) {
      throw new Error(`setOptimizerState: iterations must be a non-negative integer, got ${state.iterations}`);
    }
    const shapes = weightShapes(this.spec);
    const sizes = shapes.map((shape) => shape.reduce((a, b) => a * b, 1));
    for (const moments of [state.firstMoments, state.secondMoments]) {
      const mismatch = moments.length !== sizes.length || moments.some((moment, index) => moment.length !== sizes[index]);
      if (mismatch) throw new Error(`setOptimizerState: moments do not match the network's weight shapes`);
    }
    const toMoments = (values: Weights, suffix: string): AdamInternals['accumulatedFirstMoment'] =>
      values.map((moment, index) => ({
        originalName: `${this.onlineVariables[index]!.name}/${suffix}`,
        variable: tf.tidy(() => tf.variable(tf.tensor(Float32Array.from(moment), shapes[index]!), false)),
      }));
    const firstMoments = toMoments(state.firstMoments, 'm');
    const secondMoments = toMoments(state.secondMoments, 'v');
    tf.dispose([...this.adam.accumulatedFirstMoment, ...this.adam.accumulatedSecondMoment].map((moment) => moment.variable));
    this.adam.accumulatedFirstMoment = firstMoments;
    this.adam.accumulatedSecondMoment = secondMoments;
    this.adam.iterations_ = state.iterations;
    tf.tidy(() => {
      this.adam.accBeta1.assign(tf.scalar(adamBetaPower(this.options.adamBeta1, state.iterations)));
      this.adam.accBeta2.assign(tf.scalar(adamBetaPower(this.options.adamBeta2, state.iterations)));
    });
  }

  dispose(): void {
    this.online.dispose();
    this.target.dispose();
    this.optimizer.dispose();
  }

  private variablesOf(which: 'online' | 'target'): Variable[] {
    return which === 'online' ? this.onlineVariables : this.targetVariables;
  }

  private zeroOptimizerState(): OptimizerState {
    const zeros = (): Weights => weightShapes(this.spec).map((shape) => new Float32Array(shape.reduce((a, b) => a * b, 1)));
    return { iterations: 0, firstMoments: zeros(), secondMoments: zeros() };
  }

  private predict(model: Sequential, input: Tensor): Tensor {
    return model.apply(input) as Tensor;
  }

  /** y = r + gamma * max_a' Q_target(s', a') * (1 - terminal); Double DQN lets the online net pick a'. */
  private tdTargets(nextStates: Tensor, rewards: Float32Array, terminals: Float32Array): Tensor {
    const nextTargetQ = this.predict(this.target, nextStates);
    let nextValue: Tensor;
    if (this.options.doubleDqn) {
      const bestNext = tf.argMax(this.predict(this.online, nextStates), 1);
      nextValue = tf.sum(tf.mul(nextTargetQ, tf.oneHot(bestNext, this.spec.actionCount, 1, 0, 'float32')), 1);
    } else {
      nextValue = tf.max(nextTargetQ, 1);
    }
    const notDone = tf.sub(1, tf.tensor1d(terminals));
    return tf.add(tf.tensor1d(rewards), tf.mul(tf.mul(nextValue, this.options.gamma), notDone));
  }

  /** Mean TD loss (MSE or Huber) on the taken actions. */
  private tdLoss(states: Tensor, actionMask: Tensor, targets: Tensor): Scalar {
    const takenQ = tf.sum(tf.mul(this.predict(this.online, states), actionMask), 1);
    const diff = tf.sub(takenQ, targets);
    const perSample = this.options.loss === 'mse' ? tf.square(diff) : huberLoss(diff);
    return tf.mean<Scalar>(perSample);
  }

  /** Keras clipnorm per tensor (g * c / max(|g|, c)), then optionally one scale for the global norm. */
  private clipGradients(gradients: Tensor[]): Tensor[] {
    let clipped = gradients;
    const clipNorm = this.options.clipNorm;
    if (clipNorm > 0) {
      clipped = clipped.map((gradient) => tf.mul(gradient, tf.div(clipNorm, tf.maximum(l2Norm(gradient), clipNorm))));
    }
    const maxGlobalNorm = this.options.clipGlobalNorm;
    if (maxGlobalNorm > 0) {
      const squaredTotal = clipped.map((gradient) => tf.sum(tf.square(gradient))).reduce((sum, term) => tf.add(sum, term));
      const coefficient = tf.minimum(tf.div(maxGlobalNorm, tf.add(tf.sqrt(squaredTotal), GLOBAL_NORM_EPSILON)), 1);
      clipped = clipped.map((gradient) => tf.mul(gradient, coefficient));
    }
    return clipped;
  }
}
