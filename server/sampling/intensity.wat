;; The intensity transforms of augmented crops (apply-augmentation.ts), as that file defines them, for the
;; kernel in intensity-kernel.ts (`npm run gen` compiles this into intensity-wasm.ts). Voxel i of a crop
;; (the byte at from + i) is looked up in a table of 256 entries; the noisy ones add float32(std * z_i), z_i
;; the quantile that gaussian-noise.ts's hash of (seed, i) picks. Every step is the float32 (or float64, then
;; rounded to float32) operation the JavaScript performs, so the results are the same bits. Ranges must not
;; overlap.
(module
  (import "kernel" "memory" (memory 1))

  ;; to[i] = byteTable[from[i]]
  (func (export "mapBytes") (param $from i32) (param $count i32) (param $table i32) (param $to i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $from) (local.get $count)))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $from) (local.get $end)))
        (i32.store8 (local.get $to) (i32.load8_u (i32.add (local.get $table) (i32.load8_u (local.get $from)))))
        (local.set $from (i32.add (local.get $from) (i32.const 1)))
        (local.set $to (i32.add (local.get $to) (i32.const 1)))
        (br $each))))

  ;; float32 at to + 4i = floatTable[from[i]]
  (func (export "mapFloats") (param $from i32) (param $count i32) (param $table i32) (param $to i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $from) (local.get $count)))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $from) (local.get $end)))
        (f32.store (local.get $to)
          (f32.load (i32.add (local.get $table) (i32.shl (i32.load8_u (local.get $from)) (i32.const 2)))))
        (local.set $from (i32.add (local.get $from) (i32.const 1)))
        (local.set $to (i32.add (local.get $to) (i32.const 4)))
        (br $each))))

  ;; For each voxel i: x = float32(floatTable[from[i]] + float32(std * z_i)), z_i = quantiles[fmix32(imul(i,
  ;; 0x9e3779b9) ^ seed) >>> 16]; then, when $bytes is 0, the float32 x at to + 4i; otherwise to[i] =
  ;; float32(x * 255) stored as a Uint8ClampedArray stores a number: NaN 0, rounded half to even, clamped to
  ;; 0..255. Four voxels at a time (the hash, the float32 and float64 operations and the rounding lane by lane,
  ;; the same operations; the two table lookups one lane at a time), then one at a time for the last few.
  ;; (One loop for both outputs: V8 does not inline a function called from it.)
  (func (export "noisy") (param $from i32) (param $count i32) (param $table i32) (param $quantiles i32)
    (param $std f64) (param $seed i32) (param $to i32) (param $bytes i32)
    (local $i i32)
    (local $h i32)
    (local $x f32)
    (local $y f32)
    (local $w i32)
    (local $lanes v128)
    (local $hv v128)
    (local $at v128)
    (local $z v128)
    (local $v v128)
    (local $xv v128)
    (local $stdv v128)
    (local $seedv v128)
    (local $quantilesv v128)
    (local.set $stdv (f64x2.splat (local.get $std)))
    (local.set $seedv (i32x4.splat (local.get $seed)))
    (local.set $quantilesv (i32x4.splat (local.get $quantiles)))
    (local.set $lanes (v128.const i32x4 0 1 2 3))
    (block $vectors
      (loop $four
        (br_if $vectors (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $count)))
        (local.set $hv (v128.xor
          (i32x4.mul (local.get $lanes) (v128.const i32x4 0x9e3779b9 0x9e3779b9 0x9e3779b9 0x9e3779b9))
          (local.get $seedv)))
        (local.set $hv (v128.xor (local.get $hv) (i32x4.shr_u (local.get $hv) (i32.const 16))))
        (local.set $hv (i32x4.mul (local.get $hv) (v128.const i32x4 0x85ebca6b 0x85ebca6b 0x85ebca6b 0x85ebca6b)))
        (local.set $hv (v128.xor (local.get $hv) (i32x4.shr_u (local.get $hv) (i32.const 13))))
        (local.set $hv (i32x4.mul (local.get $hv) (v128.const i32x4 0xc2b2ae35 0xc2b2ae35 0xc2b2ae35 0xc2b2ae35)))
        (local.set $hv (v128.xor (local.get $hv) (i32x4.shr_u (local.get $hv) (i32.const 16))))
        ;; The quantiles' addresses: quantiles + 4 * (h >>> 16).
        (local.set $at (i32x4.add (local.get $quantilesv)
          (i32x4.shl (i32x4.shr_u (local.get $hv) (i32.const 16)) (i32.const 2))))
        (local.set $z (f32x4.splat (f32.load (i32x4.extract_lane 0 (local.get $at)))))
        (local.set $z (f32x4.replace_lane 1 (local.get $z) (f32.load (i32x4.extract_lane 1 (local.get $at)))))
        (local.set $z (f32x4.replace_lane 2 (local.get $z) (f32.load (i32x4.extract_lane 2 (local.get $at)))))
        (local.set $z (f32x4.replace_lane 3 (local.get $z) (f32.load (i32x4.extract_lane 3 (local.get $at)))))
        ;; The four stored values (one little-endian word) through the float table.
        (local.set $w (i32.load (i32.add (local.get $from) (local.get $i))))
        (local.set $v (f32x4.splat (f32.load (i32.add (local.get $table)
          (i32.shl (i32.and (local.get $w) (i32.const 255)) (i32.const 2))))))
        (local.set $v (f32x4.replace_lane 1 (local.get $v) (f32.load (i32.add (local.get $table)
          (i32.shl (i32.and (i32.shr_u (local.get $w) (i32.const 8)) (i32.const 255)) (i32.const 2))))))
        (local.set $v (f32x4.replace_lane 2 (local.get $v) (f32.load (i32.add (local.get $table)
          (i32.shl (i32.and (i32.shr_u (local.get $w) (i32.const 16)) (i32.const 255)) (i32.const 2))))))
        (local.set $v (f32x4.replace_lane 3 (local.get $v) (f32.load (i32.add (local.get $table)
          (i32.shl (i32.shr_u (local.get $w) (i32.const 24)) (i32.const 2))))))
        ;; x = v + float32(std * float64(z)), the products of lanes 0, 1 and of lanes 2, 3 in float64.
        (local.set $xv (f32x4.add (local.get $v)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (f64x2.mul (local.get $stdv) (f64x2.promote_low_f32x4 (local.get $z))))
            (f32x4.demote_f64x2_zero (f64x2.mul (local.get $stdv) (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $z) (local.get $z))))))))
        (if (local.get $bytes)
          (then
            ;; min and max pass a NaN on, and the saturating conversion makes it 0: a NaN stores 0.
            (local.set $hv (i32x4.trunc_sat_f32x4_u
              (f32x4.max (v128.const f32x4 0 0 0 0)
                (f32x4.min (v128.const f32x4 255 255 255 255)
                  (f32x4.nearest (f32x4.mul (local.get $xv) (v128.const f32x4 255 255 255 255)))))))
            (local.set $hv (i16x8.narrow_i32x4_u (local.get $hv) (local.get $hv)))
            (i32.store (i32.add (local.get $to) (local.get $i))
              (i32x4.extract_lane 0 (i8x16.narrow_i16x8_u (local.get $hv) (local.get $hv)))))
          (else
            (v128.store (i32.add (local.get $to) (i32.shl (local.get $i) (i32.const 2))) (local.get $xv))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (local.set $lanes (i32x4.add (local.get $lanes) (v128.const i32x4 4 4 4 4)))
        (br $four)))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $h (i32.xor (i32.mul (local.get $i) (i32.const 0x9e3779b9)) (local.get $seed)))
        (local.set $h (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 16))))
        (local.set $h (i32.mul (local.get $h) (i32.const 0x85ebca6b)))
        (local.set $h (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 13))))
        (local.set $h (i32.mul (local.get $h) (i32.const 0xc2b2ae35)))
        (local.set $h (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 16))))
        (local.set $x
          (f32.add
            (f32.load (i32.add (local.get $table)
              (i32.shl (i32.load8_u (i32.add (local.get $from) (local.get $i))) (i32.const 2))))
            (f32.demote_f64
              (f64.mul (local.get $std)
                (f64.promote_f32
                  (f32.load (i32.add (local.get $quantiles)
                    (i32.shl (i32.shr_u (local.get $h) (i32.const 16)) (i32.const 2)))))))))
        (if (local.get $bytes)
          (then
            (local.set $y (f32.mul (local.get $x) (f32.const 255)))
            (i32.store8 (i32.add (local.get $to) (local.get $i))
              (if (result i32) (f32.ne (local.get $y) (local.get $y))
                (then (i32.const 0))
                (else
                  (i32.trunc_f32_u
                    (f32.max (f32.const 0) (f32.min (f32.const 255) (f32.nearest (local.get $y)))))))))
          (else
            (f32.store (i32.add (local.get $to) (i32.shl (local.get $i) (i32.const 2))) (local.get $x))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))))
