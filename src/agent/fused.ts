/**
 * The `fused` engine: a hand-written dense MLP Q-learner over Float32Arrays.
 *
 * For the small networks of classic control, TensorFlow.js spends most of a train step
 * on per-op bookkeeping rather than arithmetic; doing forward, backward and Adam in
 * plain loops over preallocated buffers is many times faster and allocates nothing.
 *
 * The arithmetic deliberately mirrors tfjs-backend-cpu op for op, so both engines
 * produce (nearly) the same weights: every intermediate that tfjs stores in a float32
 * tensor is rounded with Math.fround here, dot products accumulate in doubles and are
 * rounded at the same 48-element block edges as tfjs' matMul, and Adam keeps its
 * beta powers as float32 running products exactly like tfjs' AdamOptimizer. The dense-layer
 * loops live in dense-kernels.ts; this file holds the weights, the TD loss, clipping and Adam.
 */
import { initialWeights } from './init.js';
import { type Activation, type LearnerOptions, type NetworkSpec, type OptimizerState, type QLearner, type TransitionBatch, type Weights, weightShapes } from './learner.js';
import { type DenseLayer, type KernelScratch, type NonzeroRows, LINEAR, RELU, TANH, denseBackward, kernelScratch, mlpForward, nonzeroRows } from './dense-kernels.js';

/** Batch capacity allocated up front; a bigger batch grows the buffers once. */
const DEFAULT_BATCH_CAPACITY = 64;

/** Slots of FusedLearner's `scalars`. */
const BETA1_POWER = 0;
const BETA2_POWER = 1;
const LOSS = 2;
const SCALAR_COUNT = 3;

/** Keeps the global-norm divisor away from zero, as PyTorch's clip_grad_norm_. */
const GLOBAL_NORM_EPSILON = 1e-6;

/** The fused engine handles any dense MLP with a supported hidden activation. */
export function fusedSupports(spec: NetworkSpec): boolean {
  const sizes = [spec.observationSize, ...spec.hiddenLayers, spec.actionCount];
  const sizesValid = sizes.every((size) => Number.isInteger(size) && size > 0);
  return sizesValid && (spec.activation === 'relu' || spec.activation === 'tanh');
}

/**
 * beta^(iterations + 1) as TensorFlow.js' Adam holds it: a float32 variable that starts
 * at beta and is multiplied by beta (rounded to float32) after every step. Both engines
 * restore it this way so a restored optimizer continues bit for bit.
 */
export function adamBetaPower(beta: number, iterations: number): number {
  const beta32 = Math.fround(beta);
  let power = beta32;
  for (let step = 0; step < iterations; step++) power = Math.fround(power * beta32);
  return power;
}

export function createFusedLearner(options: LearnerOptions, batchCapacity = DEFAULT_BATCH_CAPACITY): QLearner {
  if (!fusedSupports(options)) {
    throw new Error(`fused engine: unsupported network (activation '${options.activation}', layers must be positive integers)`);
  }
  return new FusedLearner(options, batchCapacity);
}

function activationCode(activation: Activation): number {
  return activation === 'relu' ? RELU : TANH;
}

function zeroWeights(spec: NetworkSpec): Weights {
  return weightShapes(spec).map((shape) => new Float32Array(shape.reduce((a, b) => a * b, 1)));
}

function copyWeightsInto(target: Weights, source: Weights, what: string): void {
  if (source.length !== target.length) {
    throw new Error(`${what}: expected ${target.length} tensors, got ${source.length}`);
  }
  for (let t = 0; t < target.length; t++) {
    if (source[t]!.length !== target[t]!.length) {
      throw new Error(`${what}: tensor ${t} has ${source[t]!.length} values, expected ${target[t]!.length}`);
    }
    target[t]!.set(source[t]!);
  }
}

/** The dense layers of a network whose tensors (Keras order) are `weights`; they share its arrays. */
function denseLayers(sizes: readonly number[], weights: Weights, hiddenActivation: number): DenseLayer[] {
  const layerCount = sizes.length - 1;
  return Array.from({ length: layerCount }, (_, l) => ({
    inputSize: sizes[l]!,
    units: sizes[l + 1]!,
    activation: l === layerCount - 1 ? LINEAR : hiddenActivation,
    kernel: weights[2 * l]!,
    bias: weights[2 * l + 1]!,
  }));
}

/** Per-row activation buffers of one forward pass: `outputs[l]` holds layer l's output. */
function layerBuffers(widths: readonly number[], rows: number): Float32Array[] {
  return widths.map((width) => new Float32Array(rows * width));
}

/** Index of the largest of `count` values from `offset`; ties go to the lowest index. */
function argmaxRow(values: Float32Array, offset: number, count: number): number {
  let best = 0;
  let bestValue = values[offset]!;
  for (let a = 1; a < count; a++) {
    const value = values[offset + a]!;
    if (value > bestValue) {
      bestValue = value;
      best = a;
    }
  }
  return best;
}

/*
 * Doubles cross the helpers below through typed arrays, never as arguments or return
 * values: where V8 does not inline a call, each double passed would be a heap allocation.
 */

/** squaredNorms[t] = the sum of squares of tensor t, rounded as tfjs' sum(square(g)). */
function squaredNorms32(tensors: Weights, squaredNorms: Float64Array): void {
  for (let t = 0; t < tensors.length; t++) {
    const values = tensors[t]!;
    let sum = 0;
    for (let i = 0; i < values.length; i++) sum += Math.fround(values[i]! * values[i]!);
    squaredNorms[t] = Math.fround(sum);
  }
}

/** Multiplies tensor t by factors[t]; a factor of 1 leaves the tensor as it is, so it is skipped. */
function scaleTensors(tensors: Weights, factors: Float64Array): void {
  for (let t = 0; t < tensors.length; t++) {
    const values = tensors[t]!;
    const factor = factors[t]!;
    if (factor === 1) continue;
    for (let i = 0; i < values.length; i++) values[i] = values[i]! * factor;
  }
}

/** The exported class exposes `lossAndGradients` for gradient checks; the engine is used through QLearner. */
export class FusedLearner implements QLearner {
  readonly engine = 'fused' as const;
  readonly spec: NetworkSpec;

  private readonly options: LearnerOptions;
  /** [observationSize, ...hiddenLayers, actionCount]. */
  private readonly sizes: readonly number[];
  private readonly layerCount: number;
  private readonly hiddenActivation: number;

  private readonly online: Weights;
  private readonly target: Weights;
  /** Views of `online` and `target` as dense layers. */
  private readonly onlineLayers: DenseLayer[];
  private readonly targetLayers: DenseLayer[];
  private readonly gradients: Weights;
  private readonly firstMoments: Weights;
  private readonly secondMoments: Weights;
  private iterations = 0;
  /**
   * Mutable double state (Adam's float32 beta powers, the last loss) lives in a typed
   * array: V8 boxes a double stored in an object field, which would allocate per step.
   */
  private readonly scalars = new Float64Array(SCALAR_COUNT);
  /** Per gradient tensor: its squared norm, then the factor that clips it. */
  private readonly squaredNorms: Float64Array;
  private readonly clipFactors: Float64Array;

  // Float32 images of the hyperparameters, as tfjs turns them into float32 scalars.
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly oneMinusBeta1: number;
  private readonly oneMinusBeta2: number;
  private readonly epsilon: number;
  private negativeLearningRate: number;
  private readonly gamma: number;
  private readonly clipNorm: number;
  private readonly clipGlobalNorm: number;

  private capacity = 0;
  /** Online forward on the batch's states and the nonzero lists of each layer's input, kept for the backward pass. */
  private stateOutputs: Float32Array[] = [];
  private stateLists: NonzeroRows[] = [];
  private nextOnlineOutputs: Float32Array[] = [];
  private nextTargetOutputs: Float32Array[] = [];
  /** dLoss/d(pre-activation) of each layer's output. */
  private deltas: Float32Array[] = [];
  private readonly singleOutputs: Float32Array[];
  private readonly scratch: KernelScratch;

  constructor(options: LearnerOptions, batchCapacity: number) {
    this.options = options;
    this.spec = {
      observationSize: options.observationSize,
      actionCount: options.actionCount,
      hiddenLayers: [...options.hiddenLayers],
      activation: options.activation,
    };
    this.sizes = [options.observationSize, ...options.hiddenLayers, options.actionCount];
    this.layerCount = this.sizes.length - 1;
    this.hiddenActivation = activationCode(options.activation);

    this.online = initialWeights(this.spec, options.initSeed, options.weightInit);
    this.target = this.online.map((tensor) => tensor.slice());
    this.onlineLayers = denseLayers(this.sizes, this.online, this.hiddenActivation);
    this.targetLayers = denseLayers(this.sizes, this.target, this.hiddenActivation);
    this.gradients = zeroWeights(this.spec);
    this.firstMoments = zeroWeights(this.spec);
    this.secondMoments = zeroWeights(this.spec);
    this.squaredNorms = new Float64Array(this.gradients.length);
    this.clipFactors = new Float64Array(this.gradients.length);
    this.scalars[BETA1_POWER] = adamBetaPower(options.adamBeta1, 0);
    this.scalars[BETA2_POWER] = adamBetaPower(options.adamBeta2, 0);

    this.beta1 = Math.fround(options.adamBeta1);
    this.beta2 = Math.fround(options.adamBeta2);
    this.oneMinusBeta1 = Math.fround(1 - options.adamBeta1);
    this.oneMinusBeta2 = Math.fround(1 - options.adamBeta2);
    this.epsilon = Math.fround(options.adamEpsilon);
    this.negativeLearningRate = Math.fround(-options.learningRate);
    this.gamma = Math.fround(options.gamma);
    this.clipNorm = Math.fround(options.clipNorm);
    this.clipGlobalNorm = Math.fround(options.clipGlobalNorm);

    this.scratch = kernelScratch(this.onlineLayers);
    this.singleOutputs = layerBuffers(this.sizes.slice(1), 1);
    this.ensureCapacity(Math.max(1, Math.floor(batchCapacity)));
  }

  qValues(states: Float32Array, count: number, out: Float32Array): void {
    if (count <= 0) return;
    if (states.length < count * this.spec.observationSize || out.length < count * this.spec.actionCount) {
      const { observationSize, actionCount } = this.spec;
      throw new RangeError(`qValues: ${count} states need ${count * observationSize} inputs and ${count * actionCount} outputs`);
    }
    // In chunks of the batch capacity: rows are independent, so the results are the same.
    const { observationSize, actionCount } = this.spec;
    const hiddenOutputs = this.stateOutputs.slice(0, -1);
    for (let start = 0; start < count; start += this.capacity) {
      const end = Math.min(count, start + this.capacity);
      const chunkStates = states.subarray(start * observationSize, end * observationSize);
      const chunkOut = out.subarray(start * actionCount, end * actionCount);
      mlpForward(this.onlineLayers, chunkStates, end - start, [...hiddenOutputs, chunkOut], null, this.scratch);
    }
  }

  greedyAction(state: Float32Array): number {
    if (state.length < this.spec.observationSize) throw new RangeError(`greedyAction: state has ${state.length} values`);
    const outputs = this.singleOutputs;
    mlpForward(this.onlineLayers, state, 1, outputs, null, this.scratch);
    return argmaxRow(outputs[this.layerCount - 1]!, 0, this.spec.actionCount);
  }

  trainStep(batch: TransitionBatch): number {
    this.computeGradients(batch);
    this.clipGradients();
    this.applyAdam();
    return this.scalars[LOSS]!;
  }

  /** The TD loss of a batch and its gradients for every weight tensor (copies; for checks, not for training). */
  lossAndGradients(batch: TransitionBatch): { loss: number; gradients: Weights } {
    this.computeGradients(batch);
    return { loss: this.scalars[LOSS]!, gradients: this.gradients.map((tensor) => tensor.slice()) };
  }

  setLearningRate(learningRate: number): void {
    this.negativeLearningRate = Math.fround(-learningRate);
  }

  updateTarget(tau: number): void {
    if (tau === 1) {
      copyWeightsInto(this.target, this.online, 'updateTarget');
      return;
    }
    const tau32 = Math.fround(tau);
    const keep32 = Math.fround(1 - tau);
    for (let t = 0; t < this.target.length; t++) {
      const target = this.target[t]!;
      const online = this.online[t]!;
      for (let i = 0; i < target.length; i++) {
        target[i] = Math.fround(online[i]! * tau32) + Math.fround(target[i]! * keep32);
      }
    }
  }

  getWeights(which: 'online' | 'target'): Weights {
    return this.weightsOf(which).map((tensor) => tensor.slice());
  }

  setWeights(which: 'online' | 'target', weights: Weights): void {
    copyWeightsInto(this.weightsOf(which), weights, `setWeights(${which})`);
  }

  getOptimizerState(): OptimizerState {
    return {
      iterations: this.iterations,
      firstMoments: this.firstMoments.map((tensor) => tensor.slice()),
      secondMoments: this.secondMoments.map((tensor) => tensor.slice()),
    };
  }

  setOptimizerState(state: OptimizerState): void {
    if (!Number.isInteger(state.iterations) || state.iterations < 0) {
      throw new Error(`setOptimizerState: iterations must be a non-negative integer, got ${state.iterations}`);
    }
    copyWeightsInto(this.firstMoments, state.firstMoments, 'setOptimizerState(firstMoments)');
    copyWeightsInto(this.secondMoments, state.secondMoments, 'setOptimizerState(secondMoments)');
    this.iterations = state.iterations;
    this.scalars[BETA1_POWER] = adamBetaPower(this.options.adamBeta1, state.iterations);
    this.scalars[BETA2_POWER] = adamBetaPower(this.options.adamBeta2, state.iterations);
  }

  dispose(): void {
    // Plain typed arrays: the garbage collector reclaims them.
  }

  private weightsOf(which: 'online' | 'target'): Weights {
    return which === 'online' ? this.online : this.target;
  }

  private assertBatchShape(batch: TransitionBatch): void {
    const rows = batch.size;
    if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`trainStep: batch size must be >= 1, got ${rows}`);
    const inputs = rows * this.spec.observationSize;
    const shortArray = batch.states.length < inputs || batch.nextStates.length < inputs || batch.actions.length < rows || batch.rewards.length < rows || batch.terminals.length < rows;
    if (shortArray) throw new RangeError(`trainStep: batch arrays are shorter than its size ${rows}`);
  }

  /** (Re)allocate the batch buffers for `rows` rows; a no-op once large enough. */
  private ensureCapacity(rows: number): void {
    if (rows <= this.capacity) return;
    const widths = this.sizes.slice(1);
    this.stateOutputs = layerBuffers(widths, rows);
    this.nextOnlineOutputs = layerBuffers(widths, rows);
    this.nextTargetOutputs = layerBuffers(widths, rows);
    this.deltas = layerBuffers(widths, rows);
    this.stateLists = this.sizes.slice(0, -1).map((width) => nonzeroRows(rows, width));
    this.capacity = rows;
  }

  /** Forward, TD targets, loss (into scalars[LOSS]) and backward into `this.gradients`. */
  private computeGradients(batch: TransitionBatch): void {
    const rows = batch.size;
    this.assertBatchShape(batch);
    this.ensureCapacity(rows);
    mlpForward(this.onlineLayers, batch.states, rows, this.stateOutputs, this.stateLists, this.scratch);
    mlpForward(this.targetLayers, batch.nextStates, rows, this.nextTargetOutputs, null, this.scratch);
    if (this.options.doubleDqn) {
      mlpForward(this.onlineLayers, batch.nextStates, rows, this.nextOnlineOutputs, null, this.scratch);
    }

    this.tdLossAndHeadDelta(batch, rows);
    this.backward(batch.states, rows);
  }

  /**
   * Fills the head's delta (nonzero only at each row's taken action) and stores the
   * mean loss in scalars[LOSS]. The per-element formulas follow the tfjs graph of tfjs-learner.ts:
   * mean(square(q - y)), or Huber mean(where(|d| <= 1, 0.5 d^2, |d| - 0.5)) whose
   * gradient is clip(d, -1, 1).
   */
  private tdLossAndHeadDelta(batch: TransitionBatch, rows: number): void {
    const actionCount = this.spec.actionCount;
    const last = this.layerCount - 1;
    const q = this.stateOutputs[last]!;
    const nextTargetQ = this.nextTargetOutputs[last]!;
    const nextOnlineQ = this.nextOnlineOutputs[last]!;
    const headDelta = this.deltas[last]!;
    const doubleDqn = this.options.doubleDqn;
    const huber = this.options.loss === 'huber';
    const gradPerSample = Math.fround(1 / rows); // d mean / d element

    let lossSum = 0;
    for (let b = 0; b < rows; b++) {
      const offset = b * actionCount;
      const nextValue = doubleDqn ? nextTargetQ[offset + argmaxRow(nextOnlineQ, offset, actionCount)]! : nextTargetQ[offset + argmaxRow(nextTargetQ, offset, actionCount)]!;
      const notDone = Math.fround(1 - batch.terminals[b]!);
      const target = Math.fround(batch.rewards[b]! + Math.fround(Math.fround(nextValue * this.gamma) * notDone));
      const action = batch.actions[b]!;
      if (!(action >= 0 && action < actionCount)) throw new RangeError(`trainStep: action ${action} out of range`);

      const diff = Math.fround(q[offset + action]! - target);
      const absDiff = Math.abs(diff);
      let perSample: number;
      let diffGrad: number;
      if (!huber) {
        perSample = Math.fround(diff * diff);
        diffGrad = Math.fround(gradPerSample * Math.fround(2 * diff));
      } else {
        perSample = absDiff <= 1 ? Math.fround(Math.fround(diff * diff) * 0.5) : Math.fround(absDiff - 0.5);
        diffGrad = Math.fround(gradPerSample * (diff > 1 ? 1 : diff < -1 ? -1 : diff));
      }
      lossSum += Math.fround(perSample / rows);
      for (let a = 0; a < actionCount; a++) headDelta[offset + a] = 0;
      headDelta[offset + action] = diffGrad;
    }
    this.scalars[LOSS] = Math.fround(lossSum);
  }

  /** Backpropagates the head delta through all layers into `this.gradients`. */
  private backward(states: Float32Array, rows: number): void {
    for (let l = this.layerCount - 1; l >= 0; l--) {
      denseBackward(
        this.onlineLayers[l]!,
        l === 0 ? states : this.stateOutputs[l - 1]!,
        this.stateLists[l]!,
        rows,
        this.deltas[l]!,
        this.gradients[2 * l]!,
        this.gradients[2 * l + 1]!,
        l > 0 ? this.deltas[l - 1]! : null,
        this.hiddenActivation,
        this.scratch,
      );
    }
  }

  /** Keras clipnorm per tensor, then (optionally) one scale for the global norm. */
  private clipGradients(): void {
    const { gradients, squaredNorms, clipFactors, clipNorm, clipGlobalNorm } = this;
    if (clipNorm > 0) {
      squaredNorms32(gradients, squaredNorms);
      for (let t = 0; t < gradients.length; t++) {
        const norm = Math.fround(Math.sqrt(squaredNorms[t]!));
        clipFactors[t] = norm > clipNorm ? Math.fround(clipNorm / norm) : 1;
      }
      scaleTensors(gradients, clipFactors);
    }
    if (clipGlobalNorm > 0) {
      squaredNorms32(gradients, squaredNorms);
      let total = 0;
      for (let t = 0; t < gradients.length; t++) total = Math.fround(total + squaredNorms[t]!);
      const norm = Math.fround(Math.sqrt(total));
      const coefficient = Math.fround(clipGlobalNorm / Math.fround(norm + Math.fround(GLOBAL_NORM_EPSILON)));
      if (coefficient < 1) {
        for (let t = 0; t < gradients.length; t++) clipFactors[t] = coefficient;
        scaleTensors(gradients, clipFactors);
      }
    }
  }

  /** One Adam step, op for op as tfjs' AdamOptimizer.applyGradients (float32 at every stage). */
  private applyAdam(): void {
    const f = Math.fround;
    const beta1 = this.beta1;
    const beta2 = this.beta2;
    const oneMinusBeta1 = this.oneMinusBeta1;
    const oneMinusBeta2 = this.oneMinusBeta2;
    const epsilon = this.epsilon;
    const negativeLearningRate = this.negativeLearningRate;
    const scalars = this.scalars;
    const firstCorrection = f(1 - scalars[BETA1_POWER]!);
    const secondCorrection = f(1 - scalars[BETA2_POWER]!);
    for (let t = 0; t < this.online.length; t++) {
      const weights = this.online[t]!;
      const gradient = this.gradients[t]!;
      const m = this.firstMoments[t]!;
      const v = this.secondMoments[t]!;
      for (let i = 0; i < weights.length; i++) {
        const g = gradient[i]!;
        const newM = f(f(m[i]! * beta1) + f(g * oneMinusBeta1));
        const newV = f(f(v[i]! * beta2) + f(f(g * g) * oneMinusBeta2));
        m[i] = newM;
        v[i] = newV;
        const correctedM = f(newM / firstCorrection);
        const correctedV = f(newV / secondCorrection);
        const step = f(f(correctedM / f(f(Math.sqrt(correctedV)) + epsilon)) * negativeLearningRate);
        weights[i] = step + weights[i]!;
      }
    }
    scalars[BETA1_POWER] = f(scalars[BETA1_POWER]! * beta1);
    scalars[BETA2_POWER] = f(scalars[BETA2_POWER]! * beta2);
    this.iterations++;
  }
}
