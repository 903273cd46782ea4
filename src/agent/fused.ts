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
 * beta powers as float32 running products exactly like tfjs' AdamOptimizer.
 *
 * Two sets of loops compute the same bits: WebAssembly SIMD (dense-simd.wat, the default
 * where it runs) and plain JavaScript (dense-kernels.ts and the loops here: the reference,
 * and the fallback). For the SIMD loops every array the learner computes with lives in the
 * linear memory of its own WebAssembly instance; the TD loss and the choices of clipping
 * run in JavaScript on views of the same arrays.
 */
import { initialWeights } from './init.js';
import { type Activation, type LearnerOptions, type NetworkSpec, type OptimizerState, type QLearner, type TransitionBatch, type Weights, weightShapes } from './learner.js';
import { type DenseLayer, type KernelScratch, type NonzeroRows, LINEAR, MATMUL_BLOCK, RELU, TANH, denseBackward, kernelScratch, mlpForward, nonzeroRows } from './dense-kernels.js';
import { type Float32Allocator, type KernelKind, type SimdExports, defaultKernelKind, measureFloats, plainAllocator, simdInstance } from './simd-kernels.js';

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

/** How a fused learner is built; by default the SIMD loops where they run, with room for a 64-row batch. */
export interface FusedBuildOptions {
  readonly kernels?: KernelKind;
  readonly batchCapacity?: number;
}

export function createFusedLearner(options: LearnerOptions, build: FusedBuildOptions = {}): FusedLearner {
  if (!fusedSupports(options)) {
    throw new Error(`fused engine: unsupported network (activation '${options.activation}', layers must be positive integers)`);
  }
  return new FusedLearner(options, build.kernels ?? defaultKernelKind(), build.batchCapacity ?? DEFAULT_BATCH_CAPACITY);
}

function activationCode(activation: Activation): number {
  return activation === 'relu' ? RELU : TANH;
}

/**
 * A network's weight tensors (or their gradients or moments) in one array, each tensor at a
 * 16-byte boundary with zeros between: one SIMD call covers them all, and the zeros stay
 * zero under every element-wise step (Adam, clipping, the Polyak update).
 */
interface WeightGroup {
  readonly whole: Float32Array;
  readonly tensors: Weights;
}

function weightGroup(spec: NetworkSpec, allocate: Float32Allocator): WeightGroup {
  const lengths = weightShapes(spec).map((shape) => shape.reduce((a, b) => a * b, 1));
  const offsets: number[] = [];
  let total = 0;
  for (const length of lengths) {
    offsets.push(total);
    total += Math.ceil(length / 4) * 4;
  }
  const whole = allocate(total);
  return { whole, tensors: lengths.map((length, t) => whole.subarray(offsets[t]!, offsets[t]! + length)) };
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
function layerBuffers(widths: readonly number[], rows: number, allocate: Float32Allocator): Float32Array[] {
  return widths.map((width) => allocate(rows * width));
}

/** Every float32 array a learner computes with, for batches of up to `capacity` rows. */
interface FusedBuffers {
  readonly capacity: number;
  readonly online: WeightGroup;
  readonly target: WeightGroup;
  readonly gradients: WeightGroup;
  readonly firstMoments: WeightGroup;
  readonly secondMoments: WeightGroup;
  /** Views of `online` and `target` as dense layers. */
  readonly onlineLayers: DenseLayer[];
  readonly targetLayers: DenseLayer[];
  /** Online forward on the batch's states (kept for the backward pass), and on its next states; target forward on the next states. */
  readonly stateOutputs: Float32Array[];
  readonly nextOnlineOutputs: Float32Array[];
  readonly nextTargetOutputs: Float32Array[];
  /** dLoss/d(pre-activation) of each layer's output. */
  readonly deltas: Float32Array[];
  readonly singleOutputs: Float32Array[];
  // The SIMD loops' own arrays (empty for the JavaScript loops):
  /** The batch's states and next states, copied into the kernels' memory. */
  readonly states: Float32Array;
  readonly nextStates: Float32Array;
  /** Double copies of the online and target weights (kept in step by weightsChanged), and byte offsets of each layer's kernel there. */
  readonly online64: Float32Array;
  readonly target64: Float32Array;
  readonly onlineKernels64: number[];
  readonly targetKernels64: number[];
  /** Doubles: the kernel of layer l >= 1 transposed, for the input deltas (empty for layer 0); one layer's delta. */
  readonly transposedKernels64: Float32Array[];
  readonly delta64: Float32Array;
  /** List scratch: MATMUL_BLOCK entries of 16 bytes. */
  readonly list: Float32Array;
}

function allocateBuffers(spec: NetworkSpec, sizes: readonly number[], hiddenActivation: number, capacity: number, simd: boolean, allocate: Float32Allocator): FusedBuffers {
  const simdOnly = (length: number): Float32Array => (simd ? allocate(length) : new Float32Array(0));
  const online = weightGroup(spec, allocate);
  const target = weightGroup(spec, allocate);
  const widths = sizes.slice(1);
  // Doubles take two floats each; the groups' lengths are multiples of 4, as `promote` needs.
  const online64 = simdOnly(2 * online.whole.length);
  const target64 = simdOnly(2 * target.whole.length);
  const kernels64 = (group: WeightGroup, copy: Float32Array): number[] => widths.map((_, l) => copy.byteOffset + 2 * (group.tensors[2 * l]!.byteOffset - group.whole.byteOffset));
  return {
    capacity,
    online,
    target,
    gradients: weightGroup(spec, allocate),
    firstMoments: weightGroup(spec, allocate),
    secondMoments: weightGroup(spec, allocate),
    onlineLayers: denseLayers(sizes, online.tensors, hiddenActivation),
    targetLayers: denseLayers(sizes, target.tensors, hiddenActivation),
    stateOutputs: layerBuffers(widths, capacity, allocate),
    nextOnlineOutputs: layerBuffers(widths, capacity, allocate),
    nextTargetOutputs: layerBuffers(widths, capacity, allocate),
    deltas: layerBuffers(widths, capacity, allocate),
    singleOutputs: layerBuffers(widths, 1, allocate),
    states: simdOnly(capacity * sizes[0]!),
    nextStates: simdOnly(capacity * sizes[0]!),
    online64,
    target64,
    onlineKernels64: kernels64(online, online64),
    targetKernels64: kernels64(target, target64),
    transposedKernels64: widths.map((units, l) => (l === 0 ? new Float32Array(0) : simdOnly(2 * sizes[l]! * units))),
    delta64: simdOnly(2 * Math.ceil((capacity * Math.max(...widths)) / 4) * 4),
    list: simdOnly(MATMUL_BLOCK * 4),
  };
}

/** Byte offset of an array in the SIMD kernels' memory. */
const at = (array: Float32Array): number => array.byteOffset;

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

/** The exported class exposes `lossAndGradients` for gradient checks; the engine is used through QLearner. */
export class FusedLearner implements QLearner {
  readonly engine = 'fused' as const;
  readonly spec: NetworkSpec;
  /** Which loops compute: WebAssembly SIMD or plain JavaScript (the same bits either way). */
  readonly kernels: KernelKind;

  private readonly options: LearnerOptions;
  /** [observationSize, ...hiddenLayers, actionCount]. */
  private readonly sizes: readonly number[];
  private readonly layerCount: number;
  private readonly hiddenActivation: number;

  /** Every array computed with; replaced (state copied over) when a bigger batch arrives. */
  private buffers: FusedBuffers;
  /** The SIMD kernels of this learner's memory, or null for the JavaScript loops. */
  private simd: SimdExports | null = null;
  /** The JavaScript loops' nonzero lists of each layer's input, kept for the backward pass, and scratch. */
  private stateLists: NonzeroRows[] = [];
  private readonly scratch: KernelScratch;

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

  constructor(options: LearnerOptions, kernels: KernelKind, batchCapacity: number) {
    this.options = options;
    this.kernels = kernels;
    this.spec = {
      observationSize: options.observationSize,
      actionCount: options.actionCount,
      hiddenLayers: [...options.hiddenLayers],
      activation: options.activation,
    };
    this.sizes = [options.observationSize, ...options.hiddenLayers, options.actionCount];
    this.layerCount = this.sizes.length - 1;
    this.hiddenActivation = activationCode(options.activation);

    this.buffers = this.allocate(Math.max(1, Math.floor(batchCapacity)));
    const initial = initialWeights(this.spec, options.initSeed, options.weightInit);
    copyWeightsInto(this.buffers.online.tensors, initial, 'initial weights');
    copyWeightsInto(this.buffers.target.tensors, initial, 'initial weights');
    this.weightsChanged('online');
    this.weightsChanged('target');
    this.squaredNorms = new Float64Array(initial.length);
    this.clipFactors = new Float64Array(initial.length);
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

    this.scratch = kernelScratch(this.buffers.onlineLayers);
  }

  qValues(states: Float32Array, count: number, out: Float32Array): void {
    if (count <= 0) return;
    if (states.length < count * this.spec.observationSize || out.length < count * this.spec.actionCount) {
      const { observationSize, actionCount } = this.spec;
      throw new RangeError(`qValues: ${count} states need ${count * observationSize} inputs and ${count * actionCount} outputs`);
    }
    // In chunks of the batch capacity: rows are independent, so the results are the same.
    const { observationSize, actionCount } = this.spec;
    const { capacity, stateOutputs } = this.buffers;
    const head = stateOutputs[this.layerCount - 1]!;
    for (let start = 0; start < count; start += capacity) {
      const rows = Math.min(count, start + capacity) - start;
      this.forward('online', states.subarray(start * observationSize, (start + rows) * observationSize), rows, stateOutputs, false);
      out.set(head.subarray(0, rows * actionCount), start * actionCount);
    }
  }

  greedyAction(state: Float32Array): number {
    if (state.length < this.spec.observationSize) throw new RangeError(`greedyAction: state has ${state.length} values`);
    const outputs = this.buffers.singleOutputs;
    this.forward('online', state, 1, outputs, false);
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
    return { loss: this.scalars[LOSS]!, gradients: this.buffers.gradients.tensors.map((tensor) => tensor.slice()) };
  }

  setLearningRate(learningRate: number): void {
    this.negativeLearningRate = Math.fround(-learningRate);
  }

  updateTarget(tau: number): void {
    const { online, target } = this.buffers;
    if (tau === 1) {
      target.whole.set(online.whole);
      this.weightsChanged('target');
      return;
    }
    const tau32 = Math.fround(tau);
    const keep32 = Math.fround(1 - tau);
    if (this.simd !== null) {
      this.simd.polyak(at(target.whole), at(online.whole), target.whole.length, tau32, keep32);
      this.weightsChanged('target');
      return;
    }
    for (let t = 0; t < target.tensors.length; t++) {
      const targetValues = target.tensors[t]!;
      const onlineValues = online.tensors[t]!;
      for (let i = 0; i < targetValues.length; i++) {
        targetValues[i] = Math.fround(onlineValues[i]! * tau32) + Math.fround(targetValues[i]! * keep32);
      }
    }
  }

  getWeights(which: 'online' | 'target'): Weights {
    return this.weightsOf(which).map((tensor) => tensor.slice());
  }

  setWeights(which: 'online' | 'target', weights: Weights): void {
    copyWeightsInto(this.weightsOf(which), weights, `setWeights(${which})`);
    this.weightsChanged(which);
  }

  getOptimizerState(): OptimizerState {
    return {
      iterations: this.iterations,
      firstMoments: this.buffers.firstMoments.tensors.map((tensor) => tensor.slice()),
      secondMoments: this.buffers.secondMoments.tensors.map((tensor) => tensor.slice()),
    };
  }

  setOptimizerState(state: OptimizerState): void {
    if (!Number.isInteger(state.iterations) || state.iterations < 0) {
      throw new Error(`setOptimizerState: iterations must be a non-negative integer, got ${state.iterations}`);
    }
    copyWeightsInto(this.buffers.firstMoments.tensors, state.firstMoments, 'setOptimizerState(firstMoments)');
    copyWeightsInto(this.buffers.secondMoments.tensors, state.secondMoments, 'setOptimizerState(secondMoments)');
    this.iterations = state.iterations;
    this.scalars[BETA1_POWER] = adamBetaPower(this.options.adamBeta1, state.iterations);
    this.scalars[BETA2_POWER] = adamBetaPower(this.options.adamBeta2, state.iterations);
  }

  dispose(): void {
    // Typed arrays and a WebAssembly memory: the garbage collector reclaims them.
  }

  /** After a network's float32 weights change: the SIMD loops' double copy follows. */
  private weightsChanged(which: 'online' | 'target'): void {
    if (this.simd === null) return;
    const b = this.buffers;
    const [group, copy] = which === 'online' ? [b.online, b.online64] : [b.target, b.target64];
    this.simd.promote(at(group.whole), group.whole.length, at(copy));
  }

  private weightsOf(which: 'online' | 'target'): Weights {
    return which === 'online' ? this.buffers.online.tensors : this.buffers.target.tensors;
  }

  /**
   * Buffers for `capacity` rows: for the SIMD loops in a fresh instance's memory, sized by
   * a dry run of the same layout (a memory that grew would detach every view of it).
   */
  private allocate(capacity: number): FusedBuffers {
    const simd = this.kernels === 'wasm-simd';
    const layout = (allocate: Float32Allocator): FusedBuffers => allocateBuffers(this.spec, this.sizes, this.hiddenActivation, capacity, simd, allocate);
    if (simd) {
      const instance = simdInstance(measureFloats(layout));
      this.simd = instance.exports;
      return layout(instance.allocate);
    }
    this.stateLists = this.sizes.slice(0, -1).map((width) => nonzeroRows(capacity, width));
    return layout(plainAllocator);
  }

  private assertBatchShape(batch: TransitionBatch): void {
    const rows = batch.size;
    if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`trainStep: batch size must be >= 1, got ${rows}`);
    const inputs = rows * this.spec.observationSize;
    const shortArray = batch.states.length < inputs || batch.nextStates.length < inputs || batch.actions.length < rows || batch.rewards.length < rows || batch.terminals.length < rows;
    if (shortArray) throw new RangeError(`trainStep: batch arrays are shorter than its size ${rows}`);
  }

  /** Room for `rows` rows: a no-op once large enough, else new buffers that take over the weights and Adam's moments. */
  private ensureCapacity(rows: number): void {
    if (rows <= this.buffers.capacity) return;
    const old = this.buffers;
    const next = this.allocate(rows);
    for (const group of ['online', 'target', 'firstMoments', 'secondMoments'] as const) next[group].whole.set(old[group].whole);
    this.buffers = next;
    this.weightsChanged('online');
    this.weightsChanged('target');
  }

  /**
   * Runs the online or target network on `rows` input rows into `outputs` (one array per
   * layer). With `keepForBackward`, the JavaScript loops keep each layer's input lists and
   * the SIMD loops keep the input rows in their memory (the batch's states).
   */
  private forward(network: 'online' | 'target', input: Float32Array, rows: number, outputs: readonly Float32Array[], keepForBackward: boolean): void {
    const b = this.buffers;
    const layers = network === 'online' ? b.onlineLayers : b.targetLayers;
    const kernels64 = network === 'online' ? b.onlineKernels64 : b.targetKernels64;
    const simd = this.simd;
    if (simd === null) {
      mlpForward(layers, input, rows, outputs, keepForBackward ? this.stateLists : null, this.scratch);
      return;
    }
    const staged = keepForBackward ? b.states : b.nextStates;
    if (input.buffer !== staged.buffer || input.byteOffset !== staged.byteOffset) staged.set(input.subarray(0, rows * this.spec.observationSize));
    for (let l = 0; l < layers.length; l++) {
      const layer = layers[l]!;
      const layerInput = l === 0 ? staged : outputs[l - 1]!;
      simd.dense_forward(at(layerInput), layer.inputSize, kernels64[l]!, at(layer.bias), layer.units, rows, at(outputs[l]!), layer.activation, at(b.list));
    }
  }

  /** Forward, TD targets, loss (into scalars[LOSS]) and backward into the gradients. */
  private computeGradients(batch: TransitionBatch): void {
    const rows = batch.size;
    this.assertBatchShape(batch);
    this.ensureCapacity(rows);
    const b = this.buffers;
    this.forward('online', batch.states, rows, b.stateOutputs, true);
    this.forward('target', batch.nextStates, rows, b.nextTargetOutputs, false);
    if (this.options.doubleDqn) this.forward('online', batch.nextStates, rows, b.nextOnlineOutputs, false);

    this.tdLossAndHeadDelta(batch, rows);
    if (this.simd === null) this.backward(batch.states, rows);
    else this.backwardSimd(this.simd, rows);
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
    const b = this.buffers;
    const q = b.stateOutputs[last]!;
    const nextTargetQ = b.nextTargetOutputs[last]!;
    const nextOnlineQ = b.nextOnlineOutputs[last]!;
    const headDelta = b.deltas[last]!;
    const doubleDqn = this.options.doubleDqn;
    const huber = this.options.loss === 'huber';
    const gradPerSample = Math.fround(1 / rows); // d mean / d element

    let lossSum = 0;
    for (let r = 0; r < rows; r++) {
      const offset = r * actionCount;
      const nextValue = doubleDqn ? nextTargetQ[offset + argmaxRow(nextOnlineQ, offset, actionCount)]! : nextTargetQ[offset + argmaxRow(nextTargetQ, offset, actionCount)]!;
      const notDone = Math.fround(1 - batch.terminals[r]!);
      const target = Math.fround(batch.rewards[r]! + Math.fround(Math.fround(nextValue * this.gamma) * notDone));
      const action = batch.actions[r]!;
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

  /** Backpropagates the head delta through all layers into the gradients (JavaScript loops). */
  private backward(states: Float32Array, rows: number): void {
    const b = this.buffers;
    for (let l = this.layerCount - 1; l >= 0; l--) {
      denseBackward(
        b.onlineLayers[l]!,
        l === 0 ? states : b.stateOutputs[l - 1]!,
        this.stateLists[l]!,
        rows,
        b.deltas[l]!,
        b.gradients.tensors[2 * l]!,
        b.gradients.tensors[2 * l + 1]!,
        l > 0 ? b.deltas[l - 1]! : null,
        this.hiddenActivation,
        this.scratch,
      );
    }
  }

  /** The same backward pass in the SIMD loops; the states are those forward() kept in memory. */
  private backwardSimd(simd: SimdExports, rows: number): void {
    const b = this.buffers;
    for (let l = this.layerCount - 1; l >= 0; l--) {
      const layer = b.onlineLayers[l]!;
      const { inputSize, units } = layer;
      const input = l === 0 ? b.states : b.stateOutputs[l - 1]!;
      const delta = b.deltas[l]!;
      simd.promote(at(delta), rows * units, at(b.delta64));
      simd.kernel_gradient(at(input), inputSize, at(b.delta64), units, rows, at(b.gradients.tensors[2 * l]!), at(b.list));
      simd.bias_gradient(at(delta), units, rows, at(b.gradients.tensors[2 * l + 1]!));
      if (l > 0) {
        const transposed = b.transposedKernels64[l]!;
        simd.transpose(at(layer.kernel), inputSize, units, at(transposed));
        simd.input_delta(at(delta), units, rows, at(transposed), inputSize, at(input), at(b.deltas[l - 1]!), this.hiddenActivation, at(b.list));
      }
    }
  }

  /** squaredNorms[t] = the sum of squares of gradient tensor t, rounded as tfjs' sum(square(g)). */
  private gradientSquaredNorms(): void {
    const { tensors } = this.buffers.gradients;
    const { squaredNorms, simd } = this;
    for (let t = 0; t < tensors.length; t++) {
      const values = tensors[t]!;
      if (simd !== null) {
        squaredNorms[t] = simd.squared_norm(at(values), values.length);
        continue;
      }
      let sum = 0;
      for (let i = 0; i < values.length; i++) sum += Math.fround(values[i]! * values[i]!);
      squaredNorms[t] = Math.fround(sum);
    }
  }

  /** Multiplies gradient tensor t by clipFactors[t]; a factor of 1 leaves the tensor as it is, so it is skipped. */
  private scaleGradients(): void {
    const { tensors } = this.buffers.gradients;
    const { clipFactors, simd } = this;
    for (let t = 0; t < tensors.length; t++) {
      const values = tensors[t]!;
      const factor = clipFactors[t]!;
      if (factor === 1) continue;
      if (simd !== null) {
        // Whole 4-lane groups: the padding after a tensor is zero and stays zero.
        simd.scale(at(values), Math.ceil(values.length / 4) * 4, factor);
        continue;
      }
      for (let i = 0; i < values.length; i++) values[i] = values[i]! * factor;
    }
  }

  /** Keras clipnorm per tensor, then (optionally) one scale for the global norm. */
  private clipGradients(): void {
    const { squaredNorms, clipFactors, clipNorm, clipGlobalNorm } = this;
    const tensorCount = squaredNorms.length;
    if (clipNorm > 0) {
      this.gradientSquaredNorms();
      for (let t = 0; t < tensorCount; t++) {
        const norm = Math.fround(Math.sqrt(squaredNorms[t]!));
        clipFactors[t] = norm > clipNorm ? Math.fround(clipNorm / norm) : 1;
      }
      this.scaleGradients();
    }
    if (clipGlobalNorm > 0) {
      this.gradientSquaredNorms();
      let total = 0;
      for (let t = 0; t < tensorCount; t++) total = Math.fround(total + squaredNorms[t]!);
      const norm = Math.fround(Math.sqrt(total));
      const coefficient = Math.fround(clipGlobalNorm / Math.fround(norm + Math.fround(GLOBAL_NORM_EPSILON)));
      if (coefficient < 1) {
        for (let t = 0; t < tensorCount; t++) clipFactors[t] = coefficient;
        this.scaleGradients();
      }
    }
  }

  /** One Adam step, op for op as tfjs' AdamOptimizer.applyGradients (float32 at every stage). */
  private applyAdam(): void {
    const f = Math.fround;
    const { beta1, beta2, oneMinusBeta1, oneMinusBeta2, epsilon, negativeLearningRate, scalars } = this;
    const { online, gradients, firstMoments, secondMoments } = this.buffers;
    const firstCorrection = f(1 - scalars[BETA1_POWER]!);
    const secondCorrection = f(1 - scalars[BETA2_POWER]!);
    if (this.simd !== null) {
      this.simd.adam(
        at(online.whole),
        at(gradients.whole),
        at(firstMoments.whole),
        at(secondMoments.whole),
        online.whole.length,
        beta1,
        beta2,
        oneMinusBeta1,
        oneMinusBeta2,
        epsilon,
        negativeLearningRate,
        firstCorrection,
        secondCorrection,
      );
      this.weightsChanged('online');
    } else {
      for (let t = 0; t < online.tensors.length; t++) {
        const weights = online.tensors[t]!;
        const gradient = gradients.tensors[t]!;
        const m = firstMoments.tensors[t]!;
        const v = secondMoments.tensors[t]!;
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
    }
    scalars[BETA1_POWER] = f(scalars[BETA1_POWER]! * beta1);
    scalars[BETA2_POWER] = f(scalars[BETA2_POWER]! * beta2);
    this.iterations++;
  }
}
