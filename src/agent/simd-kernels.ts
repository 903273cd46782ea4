/**
 * The WebAssembly SIMD kernels of the fused engine (dense-simd.wat, assembled into the
 * committed dense-simd.wasm by `npm run wasm:build`): loading, the choice between them and
 * the JavaScript loops, and the linear memory a learner keeps its arrays in.
 *
 * Both kinds compute the same bits (see dense-simd.wat); the JavaScript loops of
 * dense-kernels.ts stay as the reference and run where WebAssembly SIMD is unavailable or
 * RLSWEEP_SIMD=0 asks for them (benchmarks, tests). Which one runs is not a run option: it
 * cannot change a result, so it is no part of a run's configuration.
 */
import { readFileSync } from 'node:fs';

/** Which loops a fused learner runs. */
export type KernelKind = 'wasm-simd' | 'js';

/** The little of the WebAssembly JS API used here (the project's lib settings do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};

/** The exports of dense-simd.wat; every pointer is a byte offset into the learner's memory. */
export interface SimdExports {
  dense_forward(input: number, inSize: number, kernel64: number, bias: number, units: number, rows: number, out: number, activation: number, list: number): void;
  kernel_gradient(input: number, inSize: number, delta64: number, units: number, rows: number, gradient: number, list: number): void;
  bias_gradient(delta: number, units: number, rows: number, gradient: number): void;
  input_delta(delta: number, units: number, rows: number, kernelT64: number, inSize: number, input: number, inputDelta: number, activation: number, list: number): void;
  transpose(src: number, rows: number, cols: number, dst64: number): void;
  promote(src: number, count: number, dst64: number): void;
  adam(
    weights: number,
    gradient: number,
    m: number,
    v: number,
    count: number,
    beta1: number,
    beta2: number,
    oneMinusBeta1: number,
    oneMinusBeta2: number,
    epsilon: number,
    negativeLearningRate: number,
    firstCorrection: number,
    secondCorrection: number,
  ): void;
  scale(values: number, count: number, factor: number): void;
  squared_norm(values: number, count: number): number;
  polyak(target: number, online: number, count: number, tau: number, keep: number): void;
}

/** Set RLSWEEP_SIMD=0 to run the JavaScript loops even where WebAssembly SIMD works. */
export const SIMD_ENV_VARIABLE = 'RLSWEEP_SIMD';

const WASM_URL = new URL('./dense-simd.wasm', import.meta.url);
const PAGE_BYTES = 65536;

/** The compiled module, or why there is none; compiled once per process, on first use. */
let loaded: { module: object } | { unavailable: string } | undefined;

function loadModule(): { module: object } | { unavailable: string } {
  if (loaded !== undefined) return loaded;
  if (typeof WebAssembly !== 'object') {
    loaded = { unavailable: 'this JavaScript runtime has no WebAssembly' };
    return loaded;
  }
  const bytes = new Uint8Array(readFileSync(WASM_URL));
  // validate() is false where the runtime lacks the SIMD instructions the module uses.
  loaded = WebAssembly.validate(bytes) ? { module: new WebAssembly.Module(bytes) } : { unavailable: 'this runtime lacks WebAssembly SIMD' };
  return loaded;
}

/** Why the SIMD kernels do not run by default here, or null when they do. */
export function simdUnavailableReason(): string | null {
  if (process.env[SIMD_ENV_VARIABLE] === '0') return `${SIMD_ENV_VARIABLE}=0`;
  const module = loadModule();
  return 'unavailable' in module ? module.unavailable : null;
}

/** The kernels a fused learner runs unless told otherwise: SIMD where available. */
export function defaultKernelKind(): KernelKind {
  return simdUnavailableReason() === null ? 'wasm-simd' : 'js';
}

/** What a fused learner computes with by default, for the backend line: 'WebAssembly SIMD' or 'plain JavaScript: <why>'. */
export function fusedKernelsDescription(): string {
  const reason = simdUnavailableReason();
  return reason === null ? 'WebAssembly SIMD' : `plain JavaScript: ${reason}`;
}

/** Whether this runtime can run the SIMD kernels at all (whatever RLSWEEP_SIMD says). */
export function simdSupported(): boolean {
  return 'module' in loadModule();
}

/** Allocates zeroed float32 arrays for a learner; each is followed by padding (see dense-simd.wat). */
export type Float32Allocator = (length: number) => Float32Array;

/** Floats after each array: the SIMD loops may read or write up to 16 bytes past a row's end. */
const PADDING_FLOATS = 4;

/** An allocation's size in floats, rounded up to whole 16-byte lanes, plus the padding. */
function paddedLength(length: number): number {
  return Math.ceil(length / 4) * 4 + PADDING_FLOATS;
}

/** The floats a sequence of allocations takes: run `layout` with a counting allocator. */
export function measureFloats(layout: (allocate: Float32Allocator) => void): number {
  let total = 0;
  layout((length) => {
    total += paddedLength(length);
    return new Float32Array(length);
  });
  return total;
}

/** A learner's own instance of the kernels and the memory its arrays live in. */
export interface SimdInstance {
  readonly exports: SimdExports;
  readonly allocate: Float32Allocator;
}

/**
 * An instance whose memory holds `floats` floats (from measureFloats), allocated in order.
 * Throws when the SIMD kernels cannot run here; check simdSupported() first.
 */
export function simdInstance(floats: number): SimdInstance {
  const module = loadModule();
  if (!('module' in module)) throw new Error(`fused engine: the WebAssembly SIMD kernels cannot run: ${module.unavailable}`);
  const memory = new WebAssembly.Memory({ initial: Math.ceil((floats * 4) / PAGE_BYTES) + 1 });
  const instance = new WebAssembly.Instance(module.module, { env: { memory, tanh: Math.tanh } });
  // Offset 0 stays unused, so a pointer of 0 is never a real array.
  let next = 16;
  const allocate = (length: number): Float32Array => {
    const array = new Float32Array(memory.buffer, next, length);
    next += paddedLength(length) * 4;
    if (next > memory.buffer.byteLength) throw new Error(`fused engine: SIMD memory of ${memory.buffer.byteLength} bytes is too small (internal error)`);
    return array;
  };
  return { exports: instance.exports as unknown as SimdExports, allocate };
}

/** The JavaScript loops need no padding. */
export const plainAllocator: Float32Allocator = (length) => new Float32Array(length);
