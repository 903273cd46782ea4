/**
 * The JavaScript loops of the fused engine: an MLP's forward pass and one dense layer's
 * backward pass, over row-major Float32Arrays.
 *
 * They reproduce tfjs-backend-cpu's rounding exactly: a dot product accumulates in a
 * double over blocks of MATMUL_BLOCK terms, in ascending order, and each block's sum is
 * rounded into the float32 result. A product of two float32 values is exact in a
 * double, so only the order of the additions matters, and that order is kept.
 *
 * Zero terms are skipped: a sum starts at +0 and never becomes -0, so adding a zero
 * product (+0 or -0) never changes it. Relu zeroes about half of every hidden layer and
 * the head's delta is nonzero only at the taken action, so each row's nonzero terms are
 * listed first (position and value) and the loops run over those lists. The forward pass
 * builds the list of a layer's output while applying its activation, and keeps the lists
 * of a training batch for the backward pass.
 *
 * Why the loops look as they do (each measured on the default network):
 * - eight (forward) or four (backward) sums at a time stay in registers and share each
 *   list entry's loads;
 * - the kernel gradient is a sum of outer products of each row's nonzero inputs and
 *   deltas, so it skips zeros on both sides (for the head: all but one delta per row);
 * - bias and activation run in a separate pass over the row's sums, which keeps the dot
 *   product loop small enough for V8 to compile well;
 * - no double is passed to or returned from a helper call: where V8 does not inline
 *   the call, every such double is a heap allocation.
 *
 * Measured and dropped: a float64 copy of the kernels (no float32 -> double conversion per
 * load; no gain), and branch-free list building with a branch-free relu (3-6% slower).
 * These loops are the reference and the fallback: dense-simd.wat computes the same bits
 * with WebAssembly SIMD (f64x2 lanes across outputs), several times faster.
 */
import { maxOf } from '../util/extent.js';

/** tfjs-backend-cpu's matMul block size: partial dot products are rounded to float32 at its edges. */
export const MATMUL_BLOCK = 48;

/** Activation codes: small integers keep the hot loops monomorphic. */
export const LINEAR = 0;
export const RELU = 1;
export const TANH = 2;

/** One dense layer: `kernel` is [inputSize, units] row-major. */
export interface DenseLayer {
  readonly inputSize: number;
  readonly units: number;
  readonly activation: number;
  readonly kernel: Float32Array;
  readonly bias: Float32Array;
}

/**
 * The nonzero values of each row of a layer's input: row r has `count[r]` of them, their
 * positions in `index` and values in `value`, both from offset r * width.
 */
export interface NonzeroRows {
  readonly width: number;
  readonly count: Int32Array;
  readonly index: Int32Array;
  readonly value: Float64Array;
}

export function nonzeroRows(rows: number, width: number): NonzeroRows {
  return {
    width,
    count: new Int32Array(rows),
    index: new Int32Array(rows * width),
    value: new Float64Array(rows * width),
  };
}

/** Preallocated lists and sums shared by all layers of one learner. */
export interface KernelScratch {
  /** One row's lists per layer input, for forward passes whose lists are not kept. */
  readonly rowLists: NonzeroRows[];
  /** The nonzero deltas of one row: unit and value. */
  readonly deltaIndex: Int32Array;
  readonly deltaValue: Float64Array;
  /** 0, 1, 2, ...: the inputs whose delta is computed when every input is live (tanh). */
  readonly allInputs: Int32Array;
  /** Double sums of one 48-row block of a kernel gradient, and of the whole bias gradient. */
  readonly kernelSums: Float64Array;
  readonly biasSums: Float64Array;
}

export function kernelScratch(layers: readonly DenseLayer[]): KernelScratch {
  const widest = maxOf(layers.map((layer) => Math.max(layer.inputSize, layer.units)));
  const allInputs = new Int32Array(widest);
  for (let i = 0; i < widest; i++) allInputs[i] = i;
  return {
    rowLists: layers.map((layer) => nonzeroRows(1, layer.inputSize)),
    deltaIndex: new Int32Array(widest),
    deltaValue: new Float64Array(widest),
    allInputs,
    kernelSums: new Float64Array(maxOf(layers.map((layer) => layer.inputSize * layer.units))),
    biasSums: new Float64Array(widest),
  };
}

/**
 * Lists the nonzero values of `input[offset .. offset + count)` into (`index`, `value`)
 * from `listStart`; returns how many there are.
 */
function listNonzero(input: Float32Array, offset: number, count: number, index: Int32Array, value: Float64Array, listStart: number): number {
  let found = 0;
  for (let k = 0; k < count; k++) {
    const x = input[offset + k]!;
    if (x !== 0) {
      index[listStart + found] = k;
      value[listStart + found++] = x;
    }
  }
  return found;
}

/** The end of the list entries from `first` whose position is below `limit` (positions ascend). */
function listEndBelow(index: Int32Array, first: number, end: number, limit: number): number {
  let at = first;
  while (at < end && index[at]! < limit) at++;
  return at;
}

/**
 * Runs the MLP `layers` on `rows` inputs, row by row through all layers: layer l's output
 * goes to outputs[l] ([rows, units]). With `keptLists` (one per layer), each layer's input
 * lists are kept there for the backward pass; otherwise one-row scratch lists are used.
 */
export function mlpForward(layers: readonly DenseLayer[], input: Float32Array, rows: number, outputs: readonly Float32Array[], keptLists: readonly NonzeroRows[] | null, scratch: KernelScratch): void {
  const lists = keptLists ?? scratch.rowLists;
  const inputSize = layers[0]!.inputSize;
  for (let r = 0; r < rows; r++) {
    const slot = keptLists === null ? 0 : r;
    const first = lists[0]!;
    first.count[slot] = listNonzero(input, r * inputSize, inputSize, first.index, first.value, slot * inputSize);
    for (let l = 0; l < layers.length; l++) {
      const layer = layers[l]!;
      const out = outputs[l]!;
      dotProducts(layer, lists[l]!, slot, out, r * layer.units);
      const next = l + 1 < layers.length ? lists[l + 1]! : null;
      finishRow(layer, out, r * layer.units, next, slot);
    }
  }
}

/**
 * The raw dot products of one row (before bias and activation) into out[outStart ..],
 * block by block: the first block's double sums are stored (rounded), later ones added.
 */
function dotProducts(layer: DenseLayer, list: NonzeroRows, slot: number, out: Float32Array, outStart: number): void {
  const listStart = slot * list.width;
  const listEnd = listStart + list.count[slot]!;
  let blockFirst = listStart;
  for (let k0 = 0; k0 < layer.inputSize; k0 += MATMUL_BLOCK) {
    const blockEnd = k0 + MATMUL_BLOCK >= layer.inputSize ? listEnd : listEndBelow(list.index, blockFirst, listEnd, k0 + MATMUL_BLOCK);
    dotProductBlock(layer.kernel, layer.units, list.index, list.value, blockFirst, blockEnd, out, outStart, k0 === 0);
    blockFirst = blockEnd;
  }
}

/** One block of the dot products of a row, from list entries [first, end). */
function dotProductBlock(kernel: Float32Array, units: number, index: Int32Array, value: Float64Array, first: number, end: number, out: Float32Array, outStart: number, firstBlock: boolean): void {
  let j = 0;
  for (; j + 8 <= units; j += 8) {
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0,
      s4 = 0,
      s5 = 0,
      s6 = 0,
      s7 = 0;
    for (let t = first; t < end; t++) {
      const x = value[t]!;
      const at = index[t]! * units + j;
      s0 += x * kernel[at]!;
      s1 += x * kernel[at + 1]!;
      s2 += x * kernel[at + 2]!;
      s3 += x * kernel[at + 3]!;
      s4 += x * kernel[at + 4]!;
      s5 += x * kernel[at + 5]!;
      s6 += x * kernel[at + 6]!;
      s7 += x * kernel[at + 7]!;
    }
    const o = outStart + j;
    if (firstBlock) {
      out[o] = s0;
      out[o + 1] = s1;
      out[o + 2] = s2;
      out[o + 3] = s3;
      out[o + 4] = s4;
      out[o + 5] = s5;
      out[o + 6] = s6;
      out[o + 7] = s7;
    } else {
      out[o] += s0;
      out[o + 1] += s1;
      out[o + 2] += s2;
      out[o + 3] += s3;
      out[o + 4] += s4;
      out[o + 5] += s5;
      out[o + 6] += s6;
      out[o + 7] += s7;
    }
  }
  // The rest (a Q-head's 2 or 3 actions) up to three at a time.
  for (; j < units; j += 3) {
    const width = Math.min(3, units - j);
    let s0 = 0,
      s1 = 0,
      s2 = 0;
    for (let t = first; t < end; t++) {
      const x = value[t]!;
      const at = index[t]! * units + j;
      s0 += x * kernel[at]!;
      if (width > 1) s1 += x * kernel[at + 1]!;
      if (width > 2) s2 += x * kernel[at + 2]!;
    }
    const o = outStart + j;
    out[o] = firstBlock ? s0 : out[o]! + s0;
    if (width > 1) out[o + 1] = firstBlock ? s1 : out[o + 1]! + s1;
    if (width > 2) out[o + 2] = firstBlock ? s2 : out[o + 2]! + s2;
  }
}

/**
 * out = activation(out + bias) over one row, each step rounded to float32; the nonzero
 * outputs are listed into `next` (the next layer's input lists) at `slot`. The activation
 * is written out in each loop, not called: a double passed to or returned from a call
 * that V8 does not inline is a heap allocation.
 */
function finishRow(layer: DenseLayer, out: Float32Array, rowStart: number, next: NonzeroRows | null, slot: number): void {
  const { bias, units, activation } = layer;
  if (next === null) {
    for (let j = 0; j < units; j++) {
      const z = Math.fround(out[rowStart + j]! + bias[j]!);
      out[rowStart + j] = activation === RELU ? (z < 0 ? 0 : z) : activation === TANH ? Math.tanh(z) : z;
    }
    return;
  }
  const index = next.index;
  const value = next.value;
  const listStart = slot * next.width;
  let found = 0;
  for (let j = 0; j < units; j++) {
    const z = Math.fround(out[rowStart + j]! + bias[j]!);
    const y = activation === RELU ? (z < 0 ? 0 : z) : activation === TANH ? Math.fround(Math.tanh(z)) : z;
    out[rowStart + j] = y;
    if (y !== 0) {
      index[listStart + found] = j;
      value[listStart + found++] = y;
    }
  }
  next.count[slot] = found;
}

/**
 * The gradients of one dense layer, in one pass over the rows, from `delta`
 * (dLoss/d pre-activation, [rows, units]) and the lists of its input kept by mlpForward:
 * - kernelGrad = input^T . delta, summed over rows in 48-row blocks (tfjs' matMul);
 * - biasGrad = the sum of delta over all rows (one double sum, tfjs' sum);
 * - inputDelta = (delta . kernel^T) times the derivative of the activation that produced
 *   the input (relu: dead inputs get 0 without a dot product; tanh: 1 - input^2), or
 *   nothing when `inputDelta` is null (the first layer).
 */
export function denseBackward(
  layer: DenseLayer,
  input: Float32Array,
  inputLists: NonzeroRows,
  rows: number,
  delta: Float32Array,
  kernelGrad: Float32Array,
  biasGrad: Float32Array,
  inputDelta: Float32Array | null,
  inputActivation: number,
  scratch: KernelScratch,
): void {
  const { inputSize, units } = layer;
  const { deltaIndex, deltaValue, kernelSums, biasSums } = scratch;
  const kernelSize = inputSize * units;
  kernelSums.fill(0, 0, kernelSize);
  biasSums.fill(0, 0, units);
  for (let b = 0; b < rows; b++) {
    const deltaCount = listNonzero(delta, b * units, units, deltaIndex, deltaValue, 0);
    for (let t = 0; t < deltaCount; t++) biasSums[deltaIndex[t]!] += deltaValue[t]!;
    addOuterProduct(kernelSums, units, inputLists, b, deltaCount, deltaIndex, deltaValue);
    const blockEnds = (b + 1) % MATMUL_BLOCK === 0 || b + 1 === rows;
    if (blockEnds) flushBlockSums(kernelSums, kernelGrad, kernelSize, b < MATMUL_BLOCK);
    if (inputDelta !== null) {
      // A relu output is live exactly where it is nonzero (it is never -0).
      const relu = inputActivation === RELU;
      const live = relu ? inputLists.index : scratch.allInputs;
      const liveStart = relu ? b * inputSize : 0;
      const liveCount = relu ? inputLists.count[b]! : inputSize;
      inputDeltaRow(layer, deltaCount, deltaIndex, deltaValue, live, liveStart, liveCount, inputDelta, b * inputSize);
      if (inputActivation === TANH) tanhDerivativeRow(input, inputDelta, b * inputSize, inputSize);
    }
  }
  for (let j = 0; j < units; j++) biasGrad[j] = biasSums[j]!;
}

/** sums[i][j] += x_i * d_j over the nonzero inputs and deltas of row `row`. */
function addOuterProduct(sums: Float64Array, units: number, inputLists: NonzeroRows, row: number, deltaCount: number, deltaIndex: Int32Array, deltaValue: Float64Array): void {
  const { index, value } = inputLists;
  const first = row * inputLists.width;
  const end = first + inputLists.count[row]!;
  let t = 0;
  // Four deltas at a time stay in registers while the inputs stream past.
  for (; t + 4 <= deltaCount; t += 4) {
    const j0 = deltaIndex[t]!,
      j1 = deltaIndex[t + 1]!,
      j2 = deltaIndex[t + 2]!,
      j3 = deltaIndex[t + 3]!;
    const d0 = deltaValue[t]!,
      d1 = deltaValue[t + 1]!,
      d2 = deltaValue[t + 2]!,
      d3 = deltaValue[t + 3]!;
    for (let n = first; n < end; n++) {
      const x = value[n]!;
      const rowStart = index[n]! * units;
      sums[rowStart + j0] += x * d0;
      sums[rowStart + j1] += x * d1;
      sums[rowStart + j2] += x * d2;
      sums[rowStart + j3] += x * d3;
    }
  }
  for (; t < deltaCount; t++) {
    const j = deltaIndex[t]!;
    const d = deltaValue[t]!;
    for (let n = first; n < end; n++) sums[index[n]! * units + j] += value[n]! * d;
  }
}

/** Rounds a block's double sums into the float32 gradient (stored for the first block, added after) and clears them. */
function flushBlockSums(sums: Float64Array, gradient: Float32Array, size: number, first: boolean): void {
  if (first) {
    for (let k = 0; k < size; k++) gradient[k] = sums[k]!;
  } else {
    for (let k = 0; k < size; k++) gradient[k] = gradient[k]! + sums[k]!;
  }
  sums.fill(0, 0, size);
}

/**
 * One row of delta . kernel^T for the live inputs (live[liveStart ..], the others get 0):
 * the nonzero deltas are summed per 48-unit block, four inputs at a time.
 */
function inputDeltaRow(
  layer: DenseLayer,
  deltaCount: number,
  deltaIndex: Int32Array,
  deltaValue: Float64Array,
  live: Int32Array,
  liveStart: number,
  liveCount: number,
  inputDelta: Float32Array,
  rowStart: number,
): void {
  const { kernel, units, inputSize } = layer;
  inputDelta.fill(0, rowStart, rowStart + inputSize);
  const liveEnd = liveStart + liveCount;
  let blockFirst = 0;
  for (let j0 = 0; j0 < units; j0 += MATMUL_BLOCK) {
    const blockEnd = j0 + MATMUL_BLOCK >= units ? deltaCount : listEndBelow(deltaIndex, blockFirst, deltaCount, j0 + MATMUL_BLOCK);
    const first = j0 === 0;
    let n = liveStart;
    for (; n + 4 <= liveEnd; n += 4) {
      const row0 = live[n]! * units;
      const row1 = live[n + 1]! * units;
      const row2 = live[n + 2]! * units;
      const row3 = live[n + 3]! * units;
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0;
      for (let t = blockFirst; t < blockEnd; t++) {
        const d = deltaValue[t]!;
        const j = deltaIndex[t]!;
        s0 += d * kernel[row0 + j]!;
        s1 += d * kernel[row1 + j]!;
        s2 += d * kernel[row2 + j]!;
        s3 += d * kernel[row3 + j]!;
      }
      // The first block's sums are stored, later ones added to the float32 result (tfjs' `res += sum`).
      const i0 = rowStart + live[n]!,
        i1 = rowStart + live[n + 1]!,
        i2 = rowStart + live[n + 2]!,
        i3 = rowStart + live[n + 3]!;
      inputDelta[i0] = first ? s0 : inputDelta[i0]! + s0;
      inputDelta[i1] = first ? s1 : inputDelta[i1]! + s1;
      inputDelta[i2] = first ? s2 : inputDelta[i2]! + s2;
      inputDelta[i3] = first ? s3 : inputDelta[i3]! + s3;
    }
    for (; n < liveEnd; n++) {
      const row = live[n]! * units;
      let sum = 0;
      for (let t = blockFirst; t < blockEnd; t++) sum += deltaValue[t]! * kernel[row + deltaIndex[t]!]!;
      const i = rowStart + live[n]!;
      inputDelta[i] = first ? sum : inputDelta[i]! + sum;
    }
    blockFirst = blockEnd;
  }
}

/** inputDelta *= 1 - y^2 for one row, rounded as tfjs' tanh gradient. */
function tanhDerivativeRow(output: Float32Array, inputDelta: Float32Array, rowStart: number, size: number): void {
  for (let i = rowStart; i < rowStart + size; i++) {
    const y = output[i]!;
    inputDelta[i] = Math.fround(Math.fround(1 - Math.fround(y * y)) * inputDelta[i]!);
  }
}
