;; The IVF backend's scans (src/index/ivf.ts), four lanes at a time (WebAssembly SIMD), over the
;; imported memory (all pointers are byte offsets, 16-byte aligned):
;;   scan_i8(q, codes, n, dp, out):  out[r] = Σ_d q[d]·codes[r·dp + d]  (i32), r < n
;;     q: dp int16 (the query's int8 codes, sign-extended once per query); codes: n rows of dp
;;     int8; dp a multiple of 16 (rows zero-padded). Each 16 code bytes are sign-extended into
;;     two i16x8 halves and multiplied with i32x4.dot_i16x8_s (exact: |q|, |c| ≤ 127, so a row of
;;     up to 133,000 components cannot overflow).
;;     Rows go four at a time (each 16 bytes of the query loaded once for four rows: 1.5× one
;;     row at a time on rows in cache), then the last n mod 4 one by one.
;;   dot_f32(q, base, n, dp, out):   out[2r] = Σ_d q[d]·base[r·dp + d], out[2r+1] = Σ_d base[r·dp + d]²
;;     (f32), r < n: the rescoring's dot products and squared norms. q: dp float32; base: n rows
;;     of dp float32; dp a multiple of 8 (rows zero-padded).
;; Built into ivf_wasm.ts by scripts/build_kernels.ts.
(module
  (import "env" "memory" (memory 1))
  (func (export "scan_i8")
    (param $q i32) (param $c i32) (param $n i32) (param $dp i32) (param $out i32)
    (local $rb i32) (local $d1 i32) (local $d2 i32) (local $d3 i32) (local $end i32) (local $quads i32) (local $row i32) (local $j i32)
    (local $v v128) (local $ql v128) (local $qh v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $rb (local.get $dp))
    (local.set $d1 (local.get $rb))
    (local.set $d2 (i32.shl (local.get $rb) (i32.const 1)))
    (local.set $d3 (i32.add (local.get $d2) (local.get $rb)))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $quads (i32.add (local.get $out) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    ;; four rows at a time: each query vector loaded once for the four
    (block $done4
      (loop $rows4
        (br_if $done4 (i32.ge_u (local.get $out) (local.get $quads)))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0))
        (local.set $a3 (v128.const i32x4 0 0 0 0))
        (local.set $row (i32.add (local.get $c) (local.get $rb)))
        (local.set $j (local.get $q))
        (loop $cols4
          (local.set $ql (v128.load (local.get $j)))
          (local.set $qh (v128.load offset=16 (local.get $j)))
          (local.set $v (v128.load (local.get $c)))
          (local.set $a0 (i32x4.add (local.get $a0) (i32x4.add
            (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (local.get $ql))
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (local.get $qh)))))
          (local.set $v (v128.load (i32.add (local.get $c) (local.get $d1))))
          (local.set $a1 (i32x4.add (local.get $a1) (i32x4.add
            (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (local.get $ql))
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (local.get $qh)))))
          (local.set $v (v128.load (i32.add (local.get $c) (local.get $d2))))
          (local.set $a2 (i32x4.add (local.get $a2) (i32x4.add
            (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (local.get $ql))
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (local.get $qh)))))
          (local.set $v (v128.load (i32.add (local.get $c) (local.get $d3))))
          (local.set $a3 (i32x4.add (local.get $a3) (i32x4.add
            (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (local.get $ql))
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (local.get $qh)))))
          (local.set $j (i32.add (local.get $j) (i32.const 32)))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br_if $cols4 (i32.lt_u (local.get $c) (local.get $row))))
        (i32.store offset=0 (local.get $out) (i32.add (i32.add (i32x4.extract_lane 0 (local.get $a0)) (i32x4.extract_lane 1 (local.get $a0))) (i32.add (i32x4.extract_lane 2 (local.get $a0)) (i32x4.extract_lane 3 (local.get $a0)))))
        (i32.store offset=4 (local.get $out) (i32.add (i32.add (i32x4.extract_lane 0 (local.get $a1)) (i32x4.extract_lane 1 (local.get $a1))) (i32.add (i32x4.extract_lane 2 (local.get $a1)) (i32x4.extract_lane 3 (local.get $a1)))))
        (i32.store offset=8 (local.get $out) (i32.add (i32.add (i32x4.extract_lane 0 (local.get $a2)) (i32x4.extract_lane 1 (local.get $a2))) (i32.add (i32x4.extract_lane 2 (local.get $a2)) (i32x4.extract_lane 3 (local.get $a2)))))
        (i32.store offset=12 (local.get $out) (i32.add (i32.add (i32x4.extract_lane 0 (local.get $a3)) (i32x4.extract_lane 1 (local.get $a3))) (i32.add (i32x4.extract_lane 2 (local.get $a3)) (i32x4.extract_lane 3 (local.get $a3)))))
        (local.set $c (i32.add (local.get $c) (local.get $d3)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $rows4)))
    ;; the last n mod 4 rows
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $row (i32.add (local.get $c) (local.get $rb)))
        (local.set $j (local.get $q))
        (loop $cols
          (local.set $ql (v128.load (local.get $j)))
          (local.set $qh (v128.load offset=16 (local.get $j)))
          (local.set $v (v128.load (local.get $c)))
          (local.set $a0 (i32x4.add (local.get $a0) (i32x4.add
            (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (local.get $ql))
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (local.get $qh)))))
          (local.set $j (i32.add (local.get $j) (i32.const 32)))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br_if $cols (i32.lt_u (local.get $c) (local.get $row))))
        (i32.store (local.get $out) (i32.add (i32.add (i32x4.extract_lane 0 (local.get $a0)) (i32x4.extract_lane 1 (local.get $a0))) (i32.add (i32x4.extract_lane 2 (local.get $a0)) (i32x4.extract_lane 3 (local.get $a0)))))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $rows))))
  (func (export "dot_f32")
    (param $q i32) (param $x i32) (param $n i32) (param $dp i32) (param $out i32)
    (local $end i32) (local $row i32) (local $j i32) (local $u v128) (local $w v128)
    (local $a0 v128) (local $a1 v128) (local $s0 v128) (local $s1 v128)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $a0 (v128.const f32x4 0 0 0 0))
        (local.set $a1 (v128.const f32x4 0 0 0 0))
        (local.set $s0 (v128.const f32x4 0 0 0 0))
        (local.set $s1 (v128.const f32x4 0 0 0 0))
        (local.set $row (i32.add (local.get $x) (i32.shl (local.get $dp) (i32.const 2))))
        (local.set $j (local.get $q))
        ;; two independent sums of each kind, 8 floats a step (dp is a multiple of 8)
        (loop $cols
          (local.set $u (v128.load (local.get $x)))
          (local.set $w (v128.load offset=16 (local.get $x)))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $u) (v128.load (local.get $j)))))
          (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $w) (v128.load offset=16 (local.get $j)))))
          (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (local.get $u) (local.get $u))))
          (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (local.get $w) (local.get $w))))
          (local.set $j (i32.add (local.get $j) (i32.const 32)))
          (local.set $x (i32.add (local.get $x) (i32.const 32)))
          (br_if $cols (i32.lt_u (local.get $x) (local.get $row))))
        (local.set $a0 (f32x4.add (local.get $a0) (local.get $a1)))
        (local.set $s0 (f32x4.add (local.get $s0) (local.get $s1)))
        (f32.store (local.get $out)
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $a0)) (f32x4.extract_lane 1 (local.get $a0)))
            (f32.add (f32x4.extract_lane 2 (local.get $a0)) (f32x4.extract_lane 3 (local.get $a0)))))
        (f32.store offset=4 (local.get $out)
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $s0)) (f32x4.extract_lane 1 (local.get $s0)))
            (f32.add (f32x4.extract_lane 2 (local.get $s0)) (f32x4.extract_lane 3 (local.get $s0)))))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (br $rows)))))
