;; AdamW on float32 arrays in one pass, four lanes at a time (WebAssembly SIMD), in place:
;;   m ← β₁m + s₁g;  v ← β₂v + s₂g²;  p ← p·decay − step·m / (√v · ibc2 + ε)
;; with s₁ = c(1 − β₁), s₂ = c²(1 − β₂) (c: the clipping coefficient), step = lr / (1 − β₁ᵗ),
;; ibc2 = 1 / √(1 − β₂ᵗ), decay = 1 − lr·wd (or 1). p, m, v, g: byte offsets into the imported
;; memory; n: the number of floats, a multiple of 4. Built into adamw_wasm.ts by
;; scripts/build_kernels.ts.
(module
  (import "env" "memory" (memory 1))
  (func (export "adamw")
    (param $p i32) (param $m i32) (param $v i32) (param $g i32) (param $n i32)
    (param $s1 f32) (param $s2 f32) (param $b1 f32) (param $b2 f32)
    (param $eps f32) (param $step f32) (param $ibc2 f32) (param $decay f32)
    (local $i i32) (local $end i32)
    (local $gi v128) (local $mi v128) (local $vi v128)
    (local $S1 v128) (local $S2 v128) (local $B1 v128) (local $B2 v128)
    (local $E v128) (local $ST v128) (local $I v128) (local $D v128)
    (local.set $S1 (f32x4.splat (local.get $s1)))
    (local.set $S2 (f32x4.splat (local.get $s2)))
    (local.set $B1 (f32x4.splat (local.get $b1)))
    (local.set $B2 (f32x4.splat (local.get $b2)))
    (local.set $E (f32x4.splat (local.get $eps)))
    (local.set $ST (f32x4.splat (local.get $step)))
    (local.set $I (f32x4.splat (local.get $ibc2)))
    (local.set $D (f32x4.splat (local.get $decay)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $gi (v128.load (i32.add (local.get $g) (local.get $i))))
        ;; m ← β₁m + s₁g
        (local.set $mi
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $i))) (local.get $B1))
            (f32x4.mul (local.get $gi) (local.get $S1))))
        ;; v ← β₂v + s₂g²
        (local.set $vi
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $i))) (local.get $B2))
            (f32x4.mul (f32x4.mul (local.get $gi) (local.get $gi)) (local.get $S2))))
        (v128.store (i32.add (local.get $m) (local.get $i)) (local.get $mi))
        (v128.store (i32.add (local.get $v) (local.get $i)) (local.get $vi))
        ;; p ← p·decay − step·m / (√v·ibc2 + ε)
        (v128.store (i32.add (local.get $p) (local.get $i))
          (f32x4.sub
            (f32x4.mul (v128.load (i32.add (local.get $p) (local.get $i))) (local.get $D))
            (f32x4.div
              (f32x4.mul (local.get $ST) (local.get $mi))
              (f32x4.add (f32x4.mul (f32x4.sqrt (local.get $vi)) (local.get $I)) (local.get $E)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next)))))
