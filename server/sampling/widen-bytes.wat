;; widenBytes: the WebAssembly kernel of float-tensor.ts (its source; `npm run gen` compiles it into
;; widen-bytes-wasm.ts). For i < count: the float32 at to + 4i (little endian, as WebAssembly stores) is the
;; byte at from + i divided by 255, correctly rounded (IEEE 754 single precision division): 16 bytes at a
;; time, widened to 4 vectors of 4 floats; the last count % 16 one by one. The two ranges must not overlap.
(module
  (import "kernel" "memory" (memory 1))
  (func (export "widenBytes") (param $from i32) (param $count i32) (param $to i32)
    (local $end i32)
    (local $bytes v128)
    (local $half v128)
    (local $scale v128)
    (local.set $scale (f32x4.splat (f32.const 255)))
    (local.set $end (i32.add (local.get $from) (i32.and (local.get $count) (i32.const -16))))
    (block $vectorsDone
      (loop $vectors
        (br_if $vectorsDone (i32.ge_u (local.get $from) (local.get $end)))
        (local.set $bytes (v128.load (local.get $from)))
        (local.set $half (i16x8.extend_low_i8x16_u (local.get $bytes)))
        (v128.store offset=0 (local.get $to)
          (f32x4.div (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (local.get $half))) (local.get $scale)))
        (v128.store offset=16 (local.get $to)
          (f32x4.div (f32x4.convert_i32x4_u (i32x4.extend_high_i16x8_u (local.get $half))) (local.get $scale)))
        (local.set $half (i16x8.extend_high_i8x16_u (local.get $bytes)))
        (v128.store offset=32 (local.get $to)
          (f32x4.div (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (local.get $half))) (local.get $scale)))
        (v128.store offset=48 (local.get $to)
          (f32x4.div (f32x4.convert_i32x4_u (i32x4.extend_high_i16x8_u (local.get $half))) (local.get $scale)))
        (local.set $from (i32.add (local.get $from) (i32.const 16)))
        (local.set $to (i32.add (local.get $to) (i32.const 64)))
        (br $vectors)))
    (local.set $end (i32.add (local.get $end) (i32.and (local.get $count) (i32.const 15))))
    (block $bytesDone
      (loop $each
        (br_if $bytesDone (i32.ge_u (local.get $from) (local.get $end)))
        (f32.store (local.get $to)
          (f32.div (f32.convert_i32_u (i32.load8_u (local.get $from))) (f32.const 255)))
        (local.set $from (i32.add (local.get $from) (i32.const 1)))
        (local.set $to (i32.add (local.get $to) (i32.const 4)))
        (br $each)))))
