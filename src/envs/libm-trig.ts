/**
 * sin and cos with the exact results of glibc's libm on x86-64 with FMA (its `__sin_fma` /
 * `__cos_fma` variants, glibc 2.28 and later), which is what Gymnasium's physics gets from
 * Python's `math` module and from NumPy on a typical Linux machine.
 *
 * Why not Math.sin/Math.cos: V8 uses fdlibm, whose results differ from glibc's in the last bit
 * for a few percent of arguments. Acrobot is chaotic, so one such bit grows into a visible
 * difference within about a hundred steps. glibc is not correctly rounded either (it errs by up
 * to 0.55 ulp), so matching it means following its method: reduction by pi/2, then a table of
 * sin/cos at multiples of 1/128 corrected by short polynomials, with the same constants and the
 * same fused multiply-adds. The fused operations are emulated exactly in double arithmetic.
 *
 * Arguments with |x| >= 105414336 (where glibc switches to a multi-precision reduction) fall
 * back to Math.sin/Math.cos; the envs never get near them.
 */

// --- exact fused multiply-add --------------------------------------------------------------

/** 2^27 + 1: splits a double into two halves whose products are exact (Dekker). */
const SPLITTER = 134217729;
const bitsView = new Float64Array(1);
const wordsView = new Uint32Array(bitsView.buffer);
/** Index of the 32-bit word holding the low mantissa bits. */
const LOW_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;
const HIGH_WORD = 1 - LOW_WORD;

/**
 * The double with an odd last mantissa bit next to `sum`, on the side of `error`: the sum
 * rounded to odd when `sum` (even) is the nearest double and `error` (non-zero) the remainder.
 */
function oddNeighbour(sum: number, error: number): number {
  bitsView[0] = sum;
  if (error > 0 === sum > 0) {
    wordsView[LOW_WORD]! += 1; // the low bit is 0, so this cannot carry
  } else {
    if (wordsView[LOW_WORD] === 0) wordsView[HIGH_WORD]! -= 1;
    wordsView[LOW_WORD]! -= 1; // wraps to 0xffffffff after the borrow
  }
  return bitsView[0]!;
}

/**
 * a * b + c with a single rounding, as the FMA instruction computes it. Boldo and Melquiond's
 * emulation: the exact product as two doubles, their exact sum with c, then the two low parts
 * added with rounding to odd so that the final rounding is not a double rounding. Exact for
 * all operands whose product neither overflows nor underflows.
 */
export function fusedMultiplyAdd(a: number, b: number, c: number): number {
  const product = a * b;
  let t = SPLITTER * a;
  const aHigh = t - (t - a);
  const aLow = a - aHigh;
  t = SPLITTER * b;
  const bHigh = t - (t - b);
  const bLow = b - bHigh;
  const productError = aHigh * bHigh - product + aHigh * bLow + aLow * bHigh + aLow * bLow;

  const sum = c + product;
  const productVirtual = sum - c;
  const sumError = c - (sum - productVirtual) + (product - productVirtual);

  let low = sumError + productError;
  const lowVirtual = low - sumError;
  const lowError = sumError - (low - lowVirtual) + (productError - lowVirtual);
  if (lowError !== 0) {
    bitsView[0] = low;
    if ((wordsView[LOW_WORD]! & 1) === 0) low = oddNeighbour(low, lowError);
  }
  return sum + low;
}

const fma = fusedMultiplyAdd;

// --- constants -----------------------------------------------------------------------------

/** The double whose high 32 bits are `highWord` and low 32 bits zero (glibc compares high words). */
function fromHighWord(highWord: number): number {
  bitsView[0] = 0;
  wordsView[HIGH_WORD] = highWord;
  return bitsView[0]!;
}

/** Below this sin(x) is x, and below COS_IS_ONE cos(x) is 1. */
const SIN_IS_IDENTITY = fromHighWord(0x3e500000); // 2^-26
const COS_IS_ONE = fromHighWord(0x3e400000); // 2^-27
/** Up to here the table is used directly; up to MID_RANGE_END via pi/2 - |x|. */
const TABLE_RANGE_END = fromHighWord(0x3feb6000); // 0.85546875
const MID_RANGE_END = fromHighWord(0x400368fd); // ~2.426265
const REDUCTION_RANGE_END = fromHighWord(0x419921fb); // 105414336
/** Below this |x| a plain polynomial beats the table. */
const TAYLOR_RANGE_END = 0.126;

/** 1.5 * 2^45: adding it rounds a value in [0, 1) to a multiple of 1/128, the table step. */
const TABLE_ROUNDER = 52776558133248;
const TABLE_STEPS_PER_UNIT = 128;
/** 1.5 * 2^52: adding it rounds to an integer. */
const INTEGER_ROUNDER = 6755399441055744;

/** pi/2 as a double-double (hp0 + hp1). */
const HALF_PI_HIGH = 1.5707963267948966;
const HALF_PI_LOW = 6.123233995736766e-17;
/** 2/pi rounded. */
const TWO_OVER_PI = 0.6366197723675814;
/** pi/2 split for the reduction: MP1 + MP2 + PP3 + PP4, the first three with short mantissas. */
const MP1 = 1.5707963407039642;
const MP2 = -1.3909067564377153e-8;
const PP3 = -4.97899623147991e-17;
const PP4 = -1.9034889620193266e-25;

/** Odd polynomial for sin on |x| < 0.126: x + x^3 (S1 + S2 x^2 + ... + S5 x^8). */
const S1 = -0.16666666666666666;
const S2 = 0.008333333333332329;
const S3 = -0.00019841269834414642;
const S4 = 2.755729806860771e-6;
const S5 = -2.5022014848318398e-8;
/** Short polynomials for sin and cos of the offset from a table point (|r| <= 1/256). */
const SIN3 = -0.16666666666666488;
const SIN5 = 0.008333332142857223;
const COS2 = 0.5;
const COS4 = -0.04166666666666644;
const COS6 = 0.001388888740079376;

// --- the table: sin and cos of k/128 as double-doubles --------------------------------------

const TABLE_SIZE = 110; // k/128 up to 0.8594, past TABLE_RANGE_END and pi/2 - TABLE_RANGE_END
/** Per k: sin high, sin low, cos high, cos low. */
const SIN_COS_TABLE = buildSinCosTable(TABLE_SIZE);

/**
 * sin and cos of k/128 rounded to double-doubles, computed with 256-bit fixed-point Taylor
 * series (error far below 2^-200), so the rounding of both halves is exact.
 */
function buildSinCosTable(size: number): Float64Array {
  const fractionBits = 256n;
  const one = 1n << fractionBits;
  const scale = 2 ** 256;
  const table = new Float64Array(4 * size);
  const toDoubleDouble = (value: bigint, offset: number): void => {
    const high = Number(value) / scale; // Number(bigint) rounds to nearest
    const rest = value - BigInt(high * scale); // high * scale is an exact integer
    table[offset] = high;
    table[offset + 1] = Number(rest) / scale;
  };
  for (let k = 0; k < size; k++) {
    const x = (BigInt(k) << fractionBits) / 128n;
    const xSquared = (x * x) >> fractionBits;
    let sin = 0n;
    let cos = 0n;
    let sinTerm = x;
    let cosTerm = one;
    for (let n = 1n; sinTerm !== 0n || cosTerm !== 0n; n += 2n) {
      sin += sinTerm;
      cos += cosTerm;
      sinTerm = -((sinTerm * xSquared) >> fractionBits) / ((n + 1n) * (n + 2n));
      cosTerm = -((cosTerm * xSquared) >> fractionBits) / (n * (n + 1n));
    }
    toDoubleDouble(sin, 4 * k);
    toDoubleDouble(cos, 4 * k + 2);
  }
  return table;
}

// --- kernels, each on an argument split as x + dx -------------------------------------------

/** sin(x + dx) for |x| < TAYLOR_RANGE_END. */
function sinTaylor(x: number, dx: number): number {
  const xx = x * x;
  const poly = fma(fma(fma(fma(S5, xx, S4), xx, S3), xx, S2), xx, S1);
  return x + fma(xx, fma(poly, x, -(0.5 * dx)), dx);
}

/** sin(x + dx) for |x| < ~0.86: table point plus polynomial correction. */
function sinFromTable(x: number, dx: number): number {
  if (Math.abs(x) < TAYLOR_RANGE_END) return sinTaylor(x, dx);
  const offsetLow = x <= 0 ? -dx : dx; // the work below is on |x|
  const absX = Math.abs(x);
  const rounded = TABLE_ROUNDER + absX;
  const point = rounded - TABLE_ROUNDER;
  const r = absX - point;
  const i = (4 * point * TABLE_STEPS_PER_UNIT) | 0;
  const sinPoint = SIN_COS_TABLE[i]!;
  const sinPointLow = SIN_COS_TABLE[i + 1]!;
  const cosPoint = SIN_COS_TABLE[i + 2]!;
  const cosPointLow = SIN_COS_TABLE[i + 3]!;
  const rr = r * r;
  const sinR = r + fma(r * rr, fma(rr, SIN5, SIN3), offsetLow);
  const oneMinusCosR = fma(r, offsetLow, rr * fma(rr, fma(rr, COS6, COS4), COS2));
  // sin(p + r) = sin p + (sin p_low + sin r cos p_low - sin p (1 - cos r) + cos p sin r)
  const correction = fma(sinR, cosPoint, fma(-oneMinusCosR, sinPoint, fma(sinR, cosPointLow, sinPointLow)));
  const result = sinPoint + correction;
  return x < 0 ? -result : result;
}

/** cos(x + dx) for |x| < ~0.86: table point plus polynomial correction. */
function cosFromTable(x: number, dx: number): number {
  const offsetLow = x < 0 ? -dx : dx;
  const absX = Math.abs(x);
  const rounded = TABLE_ROUNDER + absX;
  const point = rounded - TABLE_ROUNDER;
  const r = absX - point + offsetLow;
  const i = (4 * point * TABLE_STEPS_PER_UNIT) | 0;
  const sinPoint = SIN_COS_TABLE[i]!;
  const sinPointLow = SIN_COS_TABLE[i + 1]!;
  const cosPoint = SIN_COS_TABLE[i + 2]!;
  const cosPointLow = SIN_COS_TABLE[i + 3]!;
  const rr = r * r;
  const sinR = fma(r * rr, fma(rr, SIN5, SIN3), r);
  const oneMinusCosR = rr * fma(rr, fma(rr, COS6, COS4), COS2);
  // cos(p + r) = cos p + (cos p_low - sin r sin p_low - cos p (1 - cos r) - sin p sin r)
  const correction = fma(-sinPoint, sinR, fma(-oneMinusCosR, cosPoint, fma(-sinR, sinPointLow, cosPointLow)));
  return cosPoint + correction;
}

/** x - n pi/2 as reducedHigh + reducedLow; returns n. */
let reducedHigh = 0;
let reducedLow = 0;
function reduceByHalfPi(x: number): number {
  const n = fma(x, TWO_OVER_PI, INTEGER_ROUNDER) - INTEGER_ROUNDER;
  const y = fma(-n, MP2, fma(-n, MP1, x));
  const t = fma(-n, PP3, y);
  let low = fma(-n, PP3, y - t);
  const high = fma(-n, PP4, t);
  low += fma(-n, PP4, t - high);
  reducedHigh = high;
  reducedLow = low;
  return n;
}

/** sin(a + da + quadrant pi/2). */
function sinOfQuadrant(a: number, da: number, quadrant: number): number {
  const value = (quadrant & 1) === 1 ? cosFromTable(a, da) : sinFromTable(a, da);
  return (quadrant & 2) === 2 ? -value : value;
}

// --- public functions ----------------------------------------------------------------------

/** sin(x), bit-identical to glibc's on x86-64 with FMA. */
export function libmSin(x: number): number {
  const absX = Math.abs(x);
  if (absX < SIN_IS_IDENTITY) return x;
  if (absX < TABLE_RANGE_END) return sinFromTable(x, 0);
  if (absX < MID_RANGE_END) {
    // sin x = cos(pi/2 - |x|) with the sign of x.
    const value = cosFromTable(HALF_PI_HIGH - absX, HALF_PI_LOW);
    return x < 0 ? -value : value;
  }
  if (absX < REDUCTION_RANGE_END) {
    const n = reduceByHalfPi(x);
    return sinOfQuadrant(reducedHigh, reducedLow, n & 3);
  }
  return Math.sin(x); // huge, infinite or NaN
}

/** cos(x), bit-identical to glibc's on x86-64 with FMA. */
export function libmCos(x: number): number {
  const absX = Math.abs(x);
  if (absX < COS_IS_ONE) return 1;
  if (absX < TABLE_RANGE_END) return cosFromTable(x, 0);
  if (absX < MID_RANGE_END) {
    // cos x = sin(pi/2 - |x|), with pi/2 - |x| kept as a double-double.
    const y = HALF_PI_HIGH - absX;
    const a = y + HALF_PI_LOW;
    return sinFromTable(a, y - a + HALF_PI_LOW);
  }
  if (absX < REDUCTION_RANGE_END) {
    const n = reduceByHalfPi(x);
    return sinOfQuadrant(reducedHigh, reducedLow, (n + 1) & 3);
  }
  return Math.cos(x);
}
