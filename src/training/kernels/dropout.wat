;; Dropout masks from four xorshift32 streams, one per lane (WebAssembly SIMD): per element,
;;   x <- x xor (x << 13);  x <- x xor (x >> 17);  x <- x xor (x << 5)   (each lane its own stream)
;;   kept iff (x >> 1) >= t   (t = floor(p * 2^31), so P(kept) = 1 - p to within 2^-31)
;; Element i of a call takes lane i mod 4; a call's last, partial group advances all four lanes.
;; `st`: byte offset of the four lane states (16 bytes), read at the start and written back, so
;; that successive calls continue the streams. Offsets are into the imported memory. Built into
;; dropout_wasm.ts by scripts/build_kernels.ts.
;;   factor(ptr, n, t, bits, st): n 32-bit words at ptr, `bits` where kept, 0 where dropped
;;     (bits: the float32 1/(1 - p), so the words are the float mask itself)
;;   attention(ptr, n, heads, s, lengths, t, bits, st): in an [n, heads, s, s] mask of 32-bit
;;     words (the caller fills it with `bits` first), draws the real block of text r (lengths: n
;;     int32 at that offset), L x L in each head's s x s matrix, row by row (factor), in order
;;     r, head, query row
(module
  (import "env" "memory" (memory 1))

  ;; each group of four: the streams' step (three shift-xors), then -1 in the lanes to drop
  ;; ((x >> 1) < t) and 0 in the lanes to keep; written out in place (V8 does not inline calls)
  (func $factor (export "factor") (param $ptr i32) (param $n i32) (param $t i32) (param $bits i32) (param $st i32)
    (local $x v128) (local $T v128) (local $K v128) (local $v v128) (local $i i32) (local $full i32) (local $a i32)
    (local.set $x (v128.load (local.get $st)))
    (local.set $T (i32x4.splat (local.get $t)))
    (local.set $K (i32x4.splat (local.get $bits)))
    (local.set $full (i32.and (local.get $n) (i32.const -4)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $i) (local.get $full)))
        (local.set $x (v128.xor (local.get $x) (i32x4.shl (local.get $x) (i32.const 13))))
        (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 17))))
        (local.set $x (v128.xor (local.get $x) (i32x4.shl (local.get $x) (i32.const 5))))
        (v128.store (i32.add (local.get $ptr) (i32.shl (local.get $i) (i32.const 2)))
          (v128.andnot (local.get $K) (i32x4.lt_s (i32x4.shr_u (local.get $x) (i32.const 1)) (local.get $T))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $loop)))
    (if (i32.lt_u (local.get $i) (local.get $n))
      (then
        (local.set $x (v128.xor (local.get $x) (i32x4.shl (local.get $x) (i32.const 13))))
        (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 17))))
        (local.set $x (v128.xor (local.get $x) (i32x4.shl (local.get $x) (i32.const 5))))
        (local.set $v (v128.andnot (local.get $K) (i32x4.lt_s (i32x4.shr_u (local.get $x) (i32.const 1)) (local.get $T))))
        (local.set $a (i32.add (local.get $ptr) (i32.shl (local.get $i) (i32.const 2))))
        (i32.store (local.get $a) (i32x4.extract_lane 0 (local.get $v)))
        (if (i32.gt_u (i32.sub (local.get $n) (local.get $i)) (i32.const 1))
          (then (i32.store offset=4 (local.get $a) (i32x4.extract_lane 1 (local.get $v)))))
        (if (i32.gt_u (i32.sub (local.get $n) (local.get $i)) (i32.const 2))
          (then (i32.store offset=8 (local.get $a) (i32x4.extract_lane 2 (local.get $v)))))))
    (v128.store (local.get $st) (local.get $x)))

  (func (export "attention") (param $ptr i32) (param $n i32) (param $heads i32) (param $s i32) (param $lengths i32) (param $t i32) (param $bits i32) (param $st i32)
    (local $r i32) (local $h i32) (local $q i32) (local $L i32) (local $ss i32) (local $head i32)
    (local.set $ss (i32.mul (local.get $s) (local.get $s)))
    (block $rdone
      (loop $rloop
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $n)))
        (local.set $L (i32.load (i32.add (local.get $lengths) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $h (i32.const 0))
        (block $hdone
          (loop $hloop
            (br_if $hdone (i32.ge_u (local.get $h) (local.get $heads)))
            (local.set $head (i32.add (local.get $ptr) (i32.shl (i32.mul (i32.add (i32.mul (local.get $r) (local.get $heads)) (local.get $h)) (local.get $ss)) (i32.const 2))))
            (local.set $q (i32.const 0))
            (block $qdone
              (loop $qloop
                (br_if $qdone (i32.ge_u (local.get $q) (local.get $L)))
                (call $factor (i32.add (local.get $head) (i32.shl (i32.mul (local.get $q) (local.get $s)) (i32.const 2))) (local.get $L) (local.get $t) (local.get $bits) (local.get $st))
                (local.set $q (i32.add (local.get $q) (i32.const 1)))
                (br $qloop)))
            (local.set $h (i32.add (local.get $h) (i32.const 1)))
            (br $hloop)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rloop))))
)
