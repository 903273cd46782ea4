;; WebAssembly SIMD loops of the fused engine (src/agent/fused.ts), written by hand.
;; `npm run wasm:build` assembles this file into dense-simd.wasm (committed; a test checks
;; that the committed binary is what the script makes of this source).
;;
;; Exactness: every function computes bit for bit what the JavaScript loops of
;; dense-kernels.ts and fused.ts compute (and so what tfjs-backend-cpu computes).
;; - Dot products: the lanes run over independent outputs, never over the terms of one
;;   sum, so each sum adds its terms in the same ascending order as the JavaScript loop.
;;   float32 values are promoted to double, multiplied and added in double (f64x2), and
;;   rounded to float32 at the edges of MATMUL_BLOCK (48) terms: the first block's sum is
;;   stored, later ones are added to the float32 result. A product of two float32 values
;;   is exact in double, so the same additions in the same order give the same sum.
;;   The operand streamed across the lanes (kernels, deltas) is read from a double copy
;;   (`promote`, `transpose`): promoting it in the loop would take an arithmetic slot
;;   from each multiply-add pair.
;; - Zero terms: the JavaScript loops skip zero inputs and zero deltas; here only zero
;;   inputs are skipped (listed out), zero deltas are added. Adding a zero product never
;;   changes a sum that starts at +0 (it never becomes -0), so both give the same bits.
;; - Element-wise float32 steps (bias, relu, tanh's derivative, Adam, clipping scales, the
;;   Polyak update): JavaScript rounds each double operation on float32 operands with
;;   Math.fround, which equals the float32 operation, so these run in f32x4.
;;
;; Memory: the caller owns one linear memory per learner and passes byte offsets. Every
;; array is followed by at least 16 bytes of padding: the 2-lane and 4-lane loops may read
;; (never use) one lane past a row, and the 4-lane element-wise loops may write past the
;; end of a row into the next row (which is computed afterwards) or into that padding.
;;
;; A "list" is scratch space of 16-byte entries: a double value at +0 and a byte offset at
;; +8 (the double row of the other operand that the value multiplies).
(module
  (import "env" "memory" (memory 1))
  ;; Math.tanh: WebAssembly has no tanh instruction, and the result must match V8's.
  (import "env" "tanh" (func $tanh (param f64) (result f64)))

  ;; Activation codes, as in dense-kernels.ts.
  (global $LINEAR i32 (i32.const 0))
  (global $RELU i32 (i32.const 1))
  (global $TANH i32 (i32.const 2))
  (global $BLOCK i32 (i32.const 48))

  ;; Lists the nonzero values among `count` float32 values read from `src` every
  ;; `srcStride` bytes: entry n holds the value (as double) and base + i * baseStride for
  ;; the value's position i. Branch-free: every value is written, only nonzeros advance.
  ;; NaN counts as nonzero, as `x !== 0` does in JavaScript. Returns the entry count.
  (func $list_nonzero (param $list i32) (param $src i32) (param $srcStride i32) (param $count i32) (param $base i32) (param $baseStride i32) (result i32)
    (local $i i32) (local $n i32) (local $x f32) (local $entry i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (local.get $count)))
        (local.set $x (f32.load (local.get $src)))
        (local.set $entry (i32.add (local.get $list) (i32.shl (local.get $n) (i32.const 4))))
        (f64.store (local.get $entry) (f64.promote_f32 (local.get $x)))
        (i32.store offset=8 (local.get $entry) (local.get $base))
        (local.set $n (i32.add (local.get $n) (f32.ne (local.get $x) (f32.const 0))))
        (local.set $src (i32.add (local.get $src) (local.get $srcStride)))
        (local.set $base (i32.add (local.get $base) (local.get $baseStride)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $n))

  ;; The core of every dot product: out[0 .. width) = (first ? 0 : out) + the sum over
  ;; the n list entries of value * (the double row at the entry's offset)[0 .. width),
  ;; eight outputs at a time in four f64x2 accumulators, then two at a time.
  ;; At the end of a block each pair of double sums becomes float32 results: the sums
  ;; rounded, or for a later block (first = 0) the stored results plus the sums, rounded
  ;; (written out at each store: V8 does not inline a call here). The sums are never -0,
  ;; so +0 + sums is the sums themselves.
  (func $accumulate_rows (param $list i32) (param $n i32) (param $width i32) (param $out i32) (param $first i32)
    (local $j i32) (local $entry i32) (local $end i32) (local $row i32) (local $x v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $at i32)
    (local.set $end (i32.add (local.get $list) (i32.shl (local.get $n) (i32.const 4))))
    (block $wide_done
      (loop $wide
        (br_if $wide_done (i32.gt_s (i32.add (local.get $j) (i32.const 8)) (local.get $width)))
        (local.set $s0 (v128.const f64x2 0 0))
        (local.set $s1 (v128.const f64x2 0 0))
        (local.set $s2 (v128.const f64x2 0 0))
        (local.set $s3 (v128.const f64x2 0 0))
        (local.set $entry (local.get $list))
        (block $terms_done
          (loop $terms
            (br_if $terms_done (i32.ge_u (local.get $entry) (local.get $end)))
            (local.set $x (f64x2.splat (f64.load (local.get $entry))))
            (local.set $row (i32.add (i32.load offset=8 (local.get $entry)) (i32.shl (local.get $j) (i32.const 3))))
            (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $x) (v128.load (local.get $row)))))
            (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $x) (v128.load offset=16 (local.get $row)))))
            (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (local.get $x) (v128.load offset=32 (local.get $row)))))
            (local.set $s3 (f64x2.add (local.get $s3) (f64x2.mul (local.get $x) (v128.load offset=48 (local.get $row)))))
            (local.set $entry (i32.add (local.get $entry) (i32.const 16)))
            (br $terms)))
        (local.set $at (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))))
        (v128.store64_lane 0 (local.get $at) (f32x4.demote_f64x2_zero (f64x2.add (select (result v128) (v128.const f64x2 0 0) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $at))) (local.get $first)) (local.get $s0))))
        (v128.store64_lane offset=8 0 (local.get $at) (f32x4.demote_f64x2_zero (f64x2.add (select (result v128) (v128.const f64x2 0 0) (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $at))) (local.get $first)) (local.get $s1))))
        (v128.store64_lane offset=16 0 (local.get $at) (f32x4.demote_f64x2_zero (f64x2.add (select (result v128) (v128.const f64x2 0 0) (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (local.get $at))) (local.get $first)) (local.get $s2))))
        (v128.store64_lane offset=24 0 (local.get $at) (f32x4.demote_f64x2_zero (f64x2.add (select (result v128) (v128.const f64x2 0 0) (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (local.get $at))) (local.get $first)) (local.get $s3))))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $wide)))
    ;; The rest two at a time; an odd last output computes a second lane it does not store.
    (block $narrow_done
      (loop $narrow
        (br_if $narrow_done (i32.ge_s (local.get $j) (local.get $width)))
        (local.set $s0 (v128.const f64x2 0 0))
        (local.set $entry (local.get $list))
        (block $terms_done
          (loop $terms
            (br_if $terms_done (i32.ge_u (local.get $entry) (local.get $end)))
            (local.set $row (i32.add (i32.load offset=8 (local.get $entry)) (i32.shl (local.get $j) (i32.const 3))))
            (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (f64x2.splat (f64.load (local.get $entry))) (v128.load (local.get $row)))))
            (local.set $entry (i32.add (local.get $entry) (i32.const 16)))
            (br $terms)))
        (local.set $at (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $x (f32x4.demote_f64x2_zero (f64x2.add (select (result v128) (v128.const f64x2 0 0) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $at))) (local.get $first)) (local.get $s0))))
        (if (i32.le_s (i32.add (local.get $j) (i32.const 2)) (local.get $width))
          (then (v128.store64_lane 0 (local.get $at) (local.get $x)))
          (else (f32.store (local.get $at) (f32x4.extract_lane 0 (local.get $x)))))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $narrow))))

  ;; out[0 .. units) = activation(out + bias), each step a float32 operation; relu is
  ;; `z < 0 ? 0 : z` (pmax), which keeps -0 and NaN as the JavaScript loop does.
  (func $finish_row (param $out i32) (param $bias i32) (param $units i32) (param $activation i32)
    (local $j i32) (local $z v128) (local $at i32)
    (if (i32.eq (local.get $activation) (global.get $TANH))
      (then
        (block $done
          (loop $next
            (br_if $done (i32.ge_s (local.get $j) (local.get $units)))
            (local.set $at (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))))
            (f32.store (local.get $at)
              (f32.demote_f64 (call $tanh (f64.promote_f32
                (f32.add (f32.load (local.get $at)) (f32.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))))))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $next)))
        (return)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $j) (local.get $units)))
        (local.set $at (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $z (f32x4.add (v128.load (local.get $at)) (v128.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))))))
        (if (i32.eq (local.get $activation) (global.get $RELU))
          (then (local.set $z (f32x4.pmax (local.get $z) (v128.const f32x4 0 0 0 0)))))
        (v128.store (local.get $at) (local.get $z))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $next))))

  ;; One dense layer on `rows` input rows: out = activation(input . kernel + bias), with
  ;; input [rows, inSize], bias [units] and out [rows, units] float32, kernel64 the
  ;; [inSize, units] kernel as doubles.
  (func (export "dense_forward")
    (param $input i32) (param $inSize i32) (param $kernel64 i32) (param $bias i32) (param $units i32)
    (param $rows i32) (param $out i32) (param $activation i32) (param $list i32)
    (local $r i32) (local $k0 i32) (local $blockSize i32) (local $inRow i32) (local $outRow i32) (local $kernelRowBytes i32)
    (local.set $kernelRowBytes (i32.shl (local.get $units) (i32.const 3)))
    (local.set $inRow (local.get $input))
    (local.set $outRow (local.get $out))
    (block $rows_done
      (loop $row
        (br_if $rows_done (i32.ge_s (local.get $r) (local.get $rows)))
        (local.set $k0 (i32.const 0))
        (block $blocks_done
          (loop $block
            (br_if $blocks_done (i32.ge_s (local.get $k0) (local.get $inSize)))
            (local.set $blockSize (i32.sub (local.get $inSize) (local.get $k0)))
            (if (i32.gt_s (local.get $blockSize) (global.get $BLOCK)) (then (local.set $blockSize (global.get $BLOCK))))
            (call $accumulate_rows
              (local.get $list)
              (call $list_nonzero
                (local.get $list)
                (i32.add (local.get $inRow) (i32.shl (local.get $k0) (i32.const 2))) (i32.const 4)
                (local.get $blockSize)
                (i32.add (local.get $kernel64) (i32.mul (local.get $k0) (local.get $kernelRowBytes))) (local.get $kernelRowBytes))
              (local.get $units) (local.get $outRow) (i32.eqz (local.get $k0)))
            (local.set $k0 (i32.add (local.get $k0) (global.get $BLOCK)))
            (br $block)))
        (call $finish_row (local.get $outRow) (local.get $bias) (local.get $units) (local.get $activation))
        (local.set $inRow (i32.add (local.get $inRow) (i32.shl (local.get $inSize) (i32.const 2))))
        (local.set $outRow (i32.add (local.get $outRow) (i32.shl (local.get $units) (i32.const 2))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; kernelGradient = input^T . delta ([inSize, units] float32), summed over the rows in
  ;; blocks of 48 rows (tfjs' matMul), from input [rows, inSize] (float32) and delta64,
  ;; the [rows, units] delta as doubles.
  (func (export "kernel_gradient")
    (param $input i32) (param $inSize i32) (param $delta64 i32) (param $units i32) (param $rows i32) (param $gradient i32) (param $list i32)
    (local $b0 i32) (local $blockSize i32) (local $k i32) (local $deltaRowBytes i32) (local $inputRowBytes i32)
    (local.set $deltaRowBytes (i32.shl (local.get $units) (i32.const 3)))
    (local.set $inputRowBytes (i32.shl (local.get $inSize) (i32.const 2)))
    (block $blocks_done
      (loop $block
        (br_if $blocks_done (i32.ge_s (local.get $b0) (local.get $rows)))
        (local.set $blockSize (i32.sub (local.get $rows) (local.get $b0)))
        (if (i32.gt_s (local.get $blockSize) (global.get $BLOCK)) (then (local.set $blockSize (global.get $BLOCK))))
        (local.set $k (i32.const 0))
        (block $inputs_done
          (loop $input_column
            (br_if $inputs_done (i32.ge_s (local.get $k) (local.get $inSize)))
            ;; The block's rows where input k is nonzero, each with its delta row.
            (call $accumulate_rows
              (local.get $list)
              (call $list_nonzero
                (local.get $list)
                (i32.add (local.get $input) (i32.shl (i32.add (i32.mul (local.get $b0) (local.get $inSize)) (local.get $k)) (i32.const 2)))
                (local.get $inputRowBytes)
                (local.get $blockSize)
                (i32.add (local.get $delta64) (i32.mul (local.get $b0) (local.get $deltaRowBytes))) (local.get $deltaRowBytes))
              (local.get $units)
              (i32.add (local.get $gradient) (i32.shl (i32.mul (local.get $k) (local.get $units)) (i32.const 2)))
              (i32.eqz (local.get $b0)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $input_column)))
        (local.set $b0 (i32.add (local.get $b0) (global.get $BLOCK)))
        (br $block))))

  ;; biasGradient[j] = the sum of delta[., j] over all rows in one double sum (tfjs' sum), rounded.
  (func (export "bias_gradient") (param $delta i32) (param $units i32) (param $rows i32) (param $gradient i32)
    (local $j i32) (local $b i32) (local $at i32) (local $sums v128) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $units) (i32.const 2)))
    (block $done
      (loop $pair
        (br_if $done (i32.ge_s (local.get $j) (local.get $units)))
        (local.set $sums (v128.const f64x2 0 0))
        (local.set $at (i32.add (local.get $delta) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $b (i32.const 0))
        (block $rows_done
          (loop $row
            (br_if $rows_done (i32.ge_s (local.get $b) (local.get $rows)))
            (local.set $sums (f64x2.add (local.get $sums) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $at)))))
            (local.set $at (i32.add (local.get $at) (local.get $rowBytes)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $row)))
        (local.set $at (i32.add (local.get $gradient) (i32.shl (local.get $j) (i32.const 2))))
        (if (i32.le_s (i32.add (local.get $j) (i32.const 2)) (local.get $units))
          (then (v128.store64_lane 0 (local.get $at) (f32x4.demote_f64x2_zero (local.get $sums))))
          (else (f32.store (local.get $at) (f32x4.extract_lane 0 (f32x4.demote_f64x2_zero (local.get $sums))))))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $pair))))

  ;; inputDelta = (delta . kernel^T) times the derivative of the activation that produced
  ;; the input: relu passes it where the input is nonzero (else +0), tanh multiplies by
  ;; 1 - input^2. kernelT64 is the kernel transposed, [units, inSize] doubles, so that the
  ;; lanes run over inputs; delta is [rows, units], input and inputDelta [rows, inSize].
  (func (export "input_delta")
    (param $delta i32) (param $units i32) (param $rows i32) (param $kernelT64 i32) (param $inSize i32)
    (param $input i32) (param $inputDelta i32) (param $activation i32) (param $list i32)
    (local $b i32) (local $j0 i32) (local $blockSize i32) (local $deltaRow i32) (local $outRow i32) (local $inRow i32)
    (local $rowBytes i32) (local $i i32) (local $at i32) (local $y v128) (local $d v128)
    (local.set $rowBytes (i32.shl (local.get $inSize) (i32.const 2)))
    (local.set $deltaRow (local.get $delta))
    (local.set $outRow (local.get $inputDelta))
    (local.set $inRow (local.get $input))
    (block $rows_done
      (loop $row
        (br_if $rows_done (i32.ge_s (local.get $b) (local.get $rows)))
        (local.set $j0 (i32.const 0))
        (block $blocks_done
          (loop $block
            (br_if $blocks_done (i32.ge_s (local.get $j0) (local.get $units)))
            (local.set $blockSize (i32.sub (local.get $units) (local.get $j0)))
            (if (i32.gt_s (local.get $blockSize) (global.get $BLOCK)) (then (local.set $blockSize (global.get $BLOCK))))
            (call $accumulate_rows
              (local.get $list)
              (call $list_nonzero
                (local.get $list)
                (i32.add (local.get $deltaRow) (i32.shl (local.get $j0) (i32.const 2))) (i32.const 4)
                (local.get $blockSize)
                (i32.add (local.get $kernelT64) (i32.mul (local.get $j0) (i32.shl (local.get $rowBytes) (i32.const 1)))) (i32.shl (local.get $rowBytes) (i32.const 1)))
              (local.get $inSize) (local.get $outRow) (i32.eqz (local.get $j0)))
            (local.set $j0 (i32.add (local.get $j0) (global.get $BLOCK)))
            (br $block)))
        ;; The activation's derivative, four inputs at a time.
        (local.set $i (i32.const 0))
        (block $mask_done
          (loop $mask
            (br_if $mask_done (i32.ge_s (local.get $i) (local.get $inSize)))
            (local.set $at (i32.shl (local.get $i) (i32.const 2)))
            (local.set $y (v128.load (i32.add (local.get $inRow) (local.get $at))))
            (local.set $d (v128.load (i32.add (local.get $outRow) (local.get $at))))
            (if (i32.eq (local.get $activation) (global.get $RELU))
              (then (local.set $d (v128.and (local.get $d) (f32x4.ne (local.get $y) (v128.const f32x4 0 0 0 0))))))
            (if (i32.eq (local.get $activation) (global.get $TANH))
              (then
                (local.set $d
                  (f32x4.mul
                    (f32x4.sub (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get $y) (local.get $y)))
                    (local.get $d)))))
            (v128.store (i32.add (local.get $outRow) (local.get $at)) (local.get $d))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $mask)))
        (local.set $deltaRow (i32.add (local.get $deltaRow) (i32.shl (local.get $units) (i32.const 2))))
        (local.set $outRow (i32.add (local.get $outRow) (local.get $rowBytes)))
        (local.set $inRow (i32.add (local.get $inRow) (local.get $rowBytes)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $row))))

  ;; dst[c][r] = src[r][c] as a double, for a float32 [rows, cols] matrix.
  (func (export "transpose") (param $src i32) (param $rows i32) (param $cols i32) (param $dst i32)
    (local $r i32) (local $c i32) (local $from i32)
    (block $rows_done
      (loop $row
        (br_if $rows_done (i32.ge_s (local.get $r) (local.get $rows)))
        (local.set $c (i32.const 0))
        (local.set $from (i32.add (local.get $src) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
        (block $cols_done
          (loop $col
            (br_if $cols_done (i32.ge_s (local.get $c) (local.get $cols)))
            (f64.store
              (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $rows)) (local.get $r)) (i32.const 3)))
              (f64.promote_f32 (f32.load (local.get $from))))
            (local.set $from (i32.add (local.get $from) (i32.const 4)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $col)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; dst = src as doubles, for `count` float32 values rounded up to a multiple of 4.
  (func (export "promote") (param $src i32) (param $count i32) (param $dst i32)
    (local $end i32) (local $v v128)
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $v (v128.load (local.get $src)))
        (v128.store (local.get $dst) (f64x2.promote_low_f32x4 (local.get $v)))
        (v128.store offset=16 (local.get $dst)
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (br $next))))

  ;; One Adam step over `count` float32 weights (a multiple of 4; padding lanes hold zeros
  ;; and stay zero), op for op as tfjs' AdamOptimizer, every operation in float32.
  (func (export "adam")
    (param $weights i32) (param $gradient i32) (param $m i32) (param $v i32) (param $count i32)
    (param $beta1 f32) (param $beta2 f32) (param $oneMinusBeta1 f32) (param $oneMinusBeta2 f32)
    (param $epsilon f32) (param $negativeLearningRate f32) (param $firstCorrection f32) (param $secondCorrection f32)
    (local $at i32) (local $end i32) (local $g v128) (local $newM v128) (local $newV v128) (local $step v128)
    (local.set $end (i32.shl (local.get $count) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $g (v128.load (i32.add (local.get $gradient) (local.get $at))))
        (local.set $newM
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $at))) (f32x4.splat (local.get $beta1)))
            (f32x4.mul (local.get $g) (f32x4.splat (local.get $oneMinusBeta1)))))
        (local.set $newV
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $at))) (f32x4.splat (local.get $beta2)))
            (f32x4.mul (f32x4.mul (local.get $g) (local.get $g)) (f32x4.splat (local.get $oneMinusBeta2)))))
        (v128.store (i32.add (local.get $m) (local.get $at)) (local.get $newM))
        (v128.store (i32.add (local.get $v) (local.get $at)) (local.get $newV))
        (local.set $step
          (f32x4.mul
            (f32x4.div
              (f32x4.div (local.get $newM) (f32x4.splat (local.get $firstCorrection)))
              (f32x4.add
                (f32x4.sqrt (f32x4.div (local.get $newV) (f32x4.splat (local.get $secondCorrection))))
                (f32x4.splat (local.get $epsilon))))
            (f32x4.splat (local.get $negativeLearningRate))))
        (v128.store (i32.add (local.get $weights) (local.get $at))
          (f32x4.add (local.get $step) (v128.load (i32.add (local.get $weights) (local.get $at)))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $next))))

  ;; values *= factor over `count` float32 values (a multiple of 4): gradient clipping.
  (func (export "scale") (param $values i32) (param $count i32) (param $factor f32)
    (local $at i32) (local $end i32)
    (local.set $end (i32.add (local.get $values) (i32.shl (local.get $count) (i32.const 2))))
    (local.set $at (local.get $values))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (v128.store (local.get $at) (f32x4.mul (v128.load (local.get $at)) (f32x4.splat (local.get $factor))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $next))))

  ;; The sum of squares of `count` float32 values as tfjs' sum(square(g)): each square
  ;; rounded to float32, summed in one double in order, the sum rounded to float32.
  (func (export "squared_norm") (param $values i32) (param $count i32) (result f32)
    (local $at i32) (local $end i32) (local $sum f64) (local $x f32)
    (local.set $end (i32.add (local.get $values) (i32.shl (local.get $count) (i32.const 2))))
    (local.set $at (local.get $values))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $x (f32.load (local.get $at)))
        (local.set $sum (f64.add (local.get $sum) (f64.promote_f32 (f32.mul (local.get $x) (local.get $x)))))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (br $next)))
    (f32.demote_f64 (local.get $sum)))

  ;; target = online * tau + target * keep over `count` float32 values (a multiple of 4).
  (func (export "polyak") (param $target i32) (param $online i32) (param $count i32) (param $tau f32) (param $keep f32)
    (local $at i32) (local $end i32)
    (local.set $end (i32.shl (local.get $count) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (v128.store (i32.add (local.get $target) (local.get $at))
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $online) (local.get $at))) (f32x4.splat (local.get $tau)))
            (f32x4.mul (v128.load (i32.add (local.get $target) (local.get $at))) (f32x4.splat (local.get $keep)))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $next))))
)
