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
  ;; 0..255. (One loop for both: V8 does not inline a function called from it.)
  (func (export "noisy") (param $from i32) (param $count i32) (param $table i32) (param $quantiles i32)
    (param $std f64) (param $seed i32) (param $to i32) (param $bytes i32)
    (local $i i32)
    (local $h i32)
    (local $x f32)
    (local $y f32)
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
