;; gatherRows: the WebAssembly kernel of cut-by-slabs.ts (its source; `npm run gen` compiles it into
;; gather-rows-wasm.ts). Copies `rows` rows of `rowBytes` bytes, `stride` bytes apart from `from`, to rows
;; `toStride` bytes apart from `to`. Rows of 16 bytes or more move 16 bytes at a time, and one whose length is
;; not a multiple of 16 ends with one more 16-byte copy of its last 16 bytes (overlapping the one before);
;; shorter rows (a mask's nodule box may cross a crop in a few voxels) move byte by byte. Unaligned loads and
;; stores are fine in WebAssembly, whatever the offsets.
(module
  (import "kernel" "memory" (memory 1))
  (func (export "gatherRows")
    (param $from i32) (param $stride i32) (param $rows i32) (param $rowBytes i32) (param $to i32)
    (param $toStride i32)
    (local $k i32)
    (local $last i32)
    (local.set $last (i32.sub (local.get $rowBytes) (i32.const 16)))
    (block $done
      (loop $row
        (br_if $done (i32.eqz (local.get $rows)))
        (local.set $k (i32.const 0))
        (if (i32.ge_s (local.get $last) (i32.const 0))
          (then
            (block $whole
              (loop $chunk
                (br_if $whole (i32.gt_u (local.get $k) (local.get $last)))
                (v128.store (i32.add (local.get $to) (local.get $k))
                  (v128.load (i32.add (local.get $from) (local.get $k))))
                (local.set $k (i32.add (local.get $k) (i32.const 16)))
                (br $chunk)))
            (if (i32.and (local.get $rowBytes) (i32.const 15))
              (then
                (v128.store (i32.add (local.get $to) (local.get $last))
                  (v128.load (i32.add (local.get $from) (local.get $last)))))))
          (else
            (block $bytes
              (loop $byte
                (br_if $bytes (i32.ge_u (local.get $k) (local.get $rowBytes)))
                (i32.store8 (i32.add (local.get $to) (local.get $k))
                  (i32.load8_u (i32.add (local.get $from) (local.get $k))))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $byte)))))
        (local.set $from (i32.add (local.get $from) (local.get $stride)))
        (local.set $to (i32.add (local.get $to) (local.get $toStride)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $row)))))
