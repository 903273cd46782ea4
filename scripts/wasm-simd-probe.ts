/**
 * Probe (not part of the engine): would WebAssembly SIMD speed up the fused engine's
 * forward dot products while staying bit-identical? A hand-assembled module runs the
 * 8-units-at-a-time loop of dense-kernels.ts with f64x2 lanes (float32 kernel values
 * promoted to double, double multiply and add: the same IEEE operations in the same
 * order per output unit), on one 64-row batch through a 32x32 relu-sparse layer.
 *
 *   npx tsx scripts/wasm-simd-probe.ts
 *
 * Prints whether the results are bit-identical and µs per layer for JS and WASM.
 */

type Bytes = number[];

/** The little of the WebAssembly JS API used here (the project's lib settings do not declare it). */
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};

const unsignedLeb = (value: number): Bytes => {
  const out: Bytes = [];
  let rest = value >>> 0;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    out.push(byte);
  } while (rest !== 0);
  return out;
};

const signedLeb = (value: number): Bytes => {
  const out: Bytes = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    if ((rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
};

const vector = (items: Bytes[]): Bytes => [...unsignedLeb(items.length), ...items.flat()];
const section = (id: number, bytes: Bytes): Bytes => [id, ...unsignedLeb(bytes.length), ...bytes];
const name = (text: string): Bytes => vector([...text].map((c) => [c.charCodeAt(0)]));
const simd = (opcode: number): Bytes => [0xfd, ...unsignedLeb(opcode)];
const memarg = (alignLog2: number, offset: number): Bytes => [...unsignedLeb(alignLog2), ...unsignedLeb(offset)];
const localGet = (i: number): Bytes => [0x20, ...unsignedLeb(i)];
const localSet = (i: number): Bytes => [0x21, ...unsignedLeb(i)];
const i32Const = (n: number): Bytes => [0x41, ...signedLeb(n)];

const I32 = 0x7f;
const V128 = 0x7b;
const I32_ADD = 0x6a;
const I32_MUL = 0x6c;
const I32_SHL = 0x74;
const I32_GT_S = 0x4a;
const I32_GE_S = 0x4e;
const F64_LOAD = 0x2b;
const I32_LOAD = 0x28;
const V128_CONST = 0x0c;
const V128_LOAD64_ZERO = 0x5d;
const V128_STORE64_LANE = 0x5b;
const F64X2_SPLAT = 0x14;
const F64X2_PROMOTE_LOW_F32X4 = 0x5f;
const F32X4_DEMOTE_F64X2_ZERO = 0x5e;
const F64X2_ADD = 0xf0;
const F64X2_MUL = 0xf2;

// dot(kernel, units, index, value, count, out): byte offsets; for j in steps of 8:
// out[j..j+8) = float32(sum over t of value[t] * kernel[index[t] * units + j ..]).
const [KERNEL, UNITS, INDEX, VALUE, COUNT, OUT, J, T, AT, X] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
const ACCUMULATOR = 10; // four f64x2 accumulators: locals 10..13

const accumulate = (k: number): Bytes => [
  ...localGet(ACCUMULATOR + k),
  ...localGet(X),
  ...localGet(AT),
  ...simd(V128_LOAD64_ZERO),
  ...memarg(3, 8 * k),
  ...simd(F64X2_PROMOTE_LOW_F32X4),
  ...simd(F64X2_MUL),
  ...simd(F64X2_ADD),
  ...localSet(ACCUMULATOR + k),
];
const storeAccumulator = (k: number): Bytes => [
  ...localGet(OUT),
  ...localGet(J),
  ...i32Const(2),
  I32_SHL,
  I32_ADD,
  ...localGet(ACCUMULATOR + k),
  ...simd(F32X4_DEMOTE_F64X2_ZERO),
  ...simd(V128_STORE64_LANE),
  ...memarg(3, 8 * k),
  0,
];
const zeroAccumulator = (k: number): Bytes => [...simd(V128_CONST), ...new Array<number>(16).fill(0), ...localSet(ACCUMULATOR + k)];

const body: Bytes = [
  ...i32Const(0),
  ...localSet(J),
  0x02,
  0x40,
  0x03,
  0x40, // block, loop over j
  ...localGet(J),
  ...i32Const(8),
  I32_ADD,
  ...localGet(UNITS),
  I32_GT_S,
  0x0d,
  1,
  ...[0, 1, 2, 3].flatMap(zeroAccumulator),
  ...i32Const(0),
  ...localSet(T),
  0x02,
  0x40,
  0x03,
  0x40, // block, loop over t
  ...localGet(T),
  ...localGet(COUNT),
  I32_GE_S,
  0x0d,
  1,
  ...localGet(VALUE),
  ...localGet(T),
  ...i32Const(3),
  I32_SHL,
  I32_ADD,
  F64_LOAD,
  ...memarg(3, 0),
  ...simd(F64X2_SPLAT),
  ...localSet(X),
  ...localGet(KERNEL),
  ...localGet(INDEX),
  ...localGet(T),
  ...i32Const(2),
  I32_SHL,
  I32_ADD,
  I32_LOAD,
  ...memarg(2, 0),
  ...localGet(UNITS),
  I32_MUL,
  ...localGet(J),
  I32_ADD,
  ...i32Const(2),
  I32_SHL,
  I32_ADD,
  ...localSet(AT),
  ...[0, 1, 2, 3].flatMap(accumulate),
  ...localGet(T),
  ...i32Const(1),
  I32_ADD,
  ...localSet(T),
  0x0c,
  0,
  0x0b,
  0x0b,
  ...[0, 1, 2, 3].flatMap(storeAccumulator),
  ...localGet(J),
  ...i32Const(8),
  I32_ADD,
  ...localSet(J),
  0x0c,
  0,
  0x0b,
  0x0b,
  0x0b,
];
const locals = vector([
  [...unsignedLeb(3), I32],
  [...unsignedLeb(5), V128],
]);
const code = [...locals, ...body];
const moduleBytes = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  1,
  0,
  0,
  0,
  ...section(1, vector([[0x60, ...vector([[I32], [I32], [I32], [I32], [I32], [I32]]), ...vector([])]])),
  ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, 1]])),
  ...section(3, vector([[0]])),
  ...section(7, vector([[...name('dot'), 0x00, 0]])),
  ...section(10, vector([[...unsignedLeb(code.length), ...code]])),
]);

const memory = new WebAssembly.Memory({ initial: 4 });
const instance = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes), { env: { memory } });
const wasmDot = instance.exports.dot as (kernel: number, units: number, index: number, value: number, count: number, out: number) => void;

const UNIT_COUNT = 32;
const INPUT_COUNT = 32;
const ROWS = 64;
const [KERNEL_AT, INDEX_AT, VALUE_AT, OUT_AT] = [0, 8192, 16384, 65536];
const kernel = new Float32Array(memory.buffer, KERNEL_AT, INPUT_COUNT * UNIT_COUNT);
const index = new Int32Array(memory.buffer, INDEX_AT, INPUT_COUNT * ROWS);
const value = new Float64Array(memory.buffer, VALUE_AT, INPUT_COUNT * ROWS);
const wasmOut = new Float32Array(memory.buffer, OUT_AT, ROWS * UNIT_COUNT);
const jsOut = new Float32Array(ROWS * UNIT_COUNT);
const counts = new Int32Array(ROWS);

let seed = 1;
const uniform = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
for (let i = 0; i < kernel.length; i++) kernel[i] = uniform() * 0.3;
for (let r = 0; r < ROWS; r++) {
  // About half the inputs nonzero, as after a relu.
  let count = 0;
  for (let k = 0; k < INPUT_COUNT; k++) {
    if (uniform() > 0) {
      index[r * INPUT_COUNT + count] = k;
      value[r * INPUT_COUNT + count++] = Math.fround(uniform() * 2 + 2);
    }
  }
  counts[r] = count;
}

/** The 8-wide loop of dense-kernels.ts' dotProductBlock (arrays passed in, as there). */
function jsDot(kernel: Float32Array, index: Int32Array, value: Float64Array, first: number, end: number, out: Float32Array, outStart: number): void {
  for (let j = 0; j + 8 <= UNIT_COUNT; j += 8) {
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
      const at = index[t]! * UNIT_COUNT + j;
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
    out[o] = s0;
    out[o + 1] = s1;
    out[o + 2] = s2;
    out[o + 3] = s3;
    out[o + 4] = s4;
    out[o + 5] = s5;
    out[o + 6] = s6;
    out[o + 7] = s7;
  }
}

const runJs = (): void => {
  for (let r = 0; r < ROWS; r++) jsDot(kernel, index, value, r * INPUT_COUNT, r * INPUT_COUNT + counts[r]!, jsOut, r * UNIT_COUNT);
};
const runWasm = (): void => {
  for (let r = 0; r < ROWS; r++) wasmDot(KERNEL_AT, UNIT_COUNT, INDEX_AT + 4 * r * INPUT_COUNT, VALUE_AT + 8 * r * INPUT_COUNT, counts[r]!, OUT_AT + 4 * r * UNIT_COUNT);
};

runJs();
runWasm();
const identical = jsOut.every((v, i) => Object.is(v, wasmOut[i]));
console.log(`bit-identical: ${identical}`);
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const REPEATS = 20_000;
for (let round = 0; round < 3; round++) {
  for (const [label, run] of [
    ['js', runJs],
    ['wasm', runWasm],
  ] as const) {
    for (let i = 0; i < 2000; i++) run();
    const start = cpuMs();
    for (let i = 0; i < REPEATS; i++) run();
    console.log(`${label.padEnd(4)} ${(((cpuMs() - start) / REPEATS) * 1000).toFixed(2)} µs per 64-row 32x32 layer`);
  }
}
