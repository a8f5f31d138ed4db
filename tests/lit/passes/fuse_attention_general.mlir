// RUN: tfc-opt %s -tfc-fuse-attention -split-input-file | FileCheck %s

// Grouped-query attention, local (band) causal tables and their must-not-fuse
// neighbours, written as the ONNX importer emits transformers 4.40 exports:
// D = 64, H = 4, dh = 16; K and V of 2 heads (32 wide) repeated to 4 by
// repeat_kv (unsqueeze as reshape, expand, reshape).

// CHECK-LABEL: func.func @gqa_repeat_kv
// CHECK: %[[O:.*]] = tfc.attention %arg0, %arg1, %arg2 {num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 2.500000e-01 : f32}
// CHECK-NOT: tfc.expand
// CHECK-NOT: tfc.softmax
// CHECK: return %[[O]]
func.func @gqa_repeat_kv(%q: tensor<?x?x64xf32>, %k: tensor<?x?x32xf32>, %v: tensor<?x?x32xf32>, %shp: tensor<5xi64>) -> tensor<?x?x64xf32> {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 2, 16>} : (tensor<?x?x32xf32>) -> tensor<?x?x2x16xf32>
  %kt0 = tfc.transpose %kh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x16xf32>) -> tensor<?x2x?x16xf32>
  %ku = tfc.reshape %kt0 {shape = array<i64: 0, 0, 1, -1, 16>} : (tensor<?x2x?x16xf32>) -> tensor<?x2x1x?x16xf32>
  %ke = tfc.expand %ku, %shp : (tensor<?x2x1x?x16xf32>, tensor<5xi64>) -> tensor<?x2x2x?x16xf32>
  %kr = tfc.reshape %ke {shape = array<i64: 0, 4, -1, 16>} : (tensor<?x2x2x?x16xf32>) -> tensor<?x4x?x16xf32>
  %kt = tfc.transpose %kr {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 2, 16>} : (tensor<?x?x32xf32>) -> tensor<?x?x2x16xf32>
  %vt0 = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x16xf32>) -> tensor<?x2x?x16xf32>
  %vu = tfc.reshape %vt0 {shape = array<i64: 0, 0, 1, -1, 16>} : (tensor<?x2x?x16xf32>) -> tensor<?x2x1x?x16xf32>
  %ve = tfc.expand %vu, %shp : (tensor<?x2x1x?x16xf32>, tensor<5xi64>) -> tensor<?x2x2x?x16xf32>
  %vt = tfc.reshape %ve {shape = array<i64: 0, 4, -1, 16>} : (tensor<?x2x2x?x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %c = tfc.constant dense<4.0> : tensor<f32>
  %ss = tfc.div %s, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %ss {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// Multi-query attention (one KV head), K^T by one transpose [0,2,3,1] is not
// possible after a repeat, so K^T is [0,1,3,2] of the repeated heads.
// CHECK-LABEL: func.func @mqa_repeat_kv
// CHECK: tfc.attention %arg0, %arg1, %arg2 {num_heads = 4 : i64, num_kv_heads = 1 : i64, scale = 2.500000e-01 : f32}
// CHECK-NOT: tfc.softmax
func.func @mqa_repeat_kv(%q: tensor<?x?x64xf32>, %k: tensor<?x?x16xf32>, %v: tensor<?x?x16xf32>) -> tensor<?x?x64xf32> {
  %shp = tfc.constant dense<[1, 1, 4, 1, 1]> : tensor<5xi64>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 1, 16>} : (tensor<?x?x16xf32>) -> tensor<?x?x1x16xf32>
  %kt0 = tfc.transpose %kh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x1x16xf32>) -> tensor<?x1x?x16xf32>
  %ku = tfc.reshape %kt0 {shape = array<i64: 0, 0, 1, -1, 16>} : (tensor<?x1x?x16xf32>) -> tensor<?x1x1x?x16xf32>
  %ke = tfc.expand %ku, %shp : (tensor<?x1x1x?x16xf32>, tensor<5xi64>) -> tensor<?x1x4x?x16xf32>
  %kr = tfc.reshape %ke {shape = array<i64: 0, 4, -1, 16>} : (tensor<?x1x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %kt = tfc.transpose %kr {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 1, 16>} : (tensor<?x?x16xf32>) -> tensor<?x?x1x16xf32>
  %vt0 = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x1x16xf32>) -> tensor<?x1x?x16xf32>
  %vu = tfc.reshape %vt0 {shape = array<i64: 0, 0, 1, -1, 16>} : (tensor<?x1x?x16xf32>) -> tensor<?x1x1x?x16xf32>
  %ve = tfc.expand %vu, %shp : (tensor<?x1x1x?x16xf32>, tensor<5xi64>) -> tensor<?x1x4x?x16xf32>
  %vt = tfc.reshape %ve {shape = array<i64: 0, 4, -1, 16>} : (tensor<?x1x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %c = tfc.constant dense<0.25> : tensor<f32>
  %ss = tfc.mul %s, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %ss {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// Must not fuse: the expand's constant target broadcasts the batch axis (3),
// which is not a repeat of the heads.
// CHECK-LABEL: func.func @expand_broadcasts_batch
// CHECK-NOT: tfc.attention
// CHECK: tfc.softmax
func.func @expand_broadcasts_batch(%q: tensor<?x?x64xf32>, %k: tensor<?x?x32xf32>, %v: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %shp = tfc.constant dense<[3, 1, 2, 1, 1]> : tensor<5xi64>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 2, 16>} : (tensor<?x?x32xf32>) -> tensor<?x?x2x16xf32>
  %kt0 = tfc.transpose %kh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x16xf32>) -> tensor<?x2x?x16xf32>
  %ku = tfc.reshape %kt0 {shape = array<i64: 0, 0, 1, -1, 16>} : (tensor<?x2x?x16xf32>) -> tensor<?x2x1x?x16xf32>
  %ke = tfc.expand %ku, %shp : (tensor<?x2x1x?x16xf32>, tensor<5xi64>) -> tensor<?x2x2x?x16xf32>
  %kr = tfc.reshape %ke {shape = array<i64: 0, 4, -1, 16>} : (tensor<?x2x2x?x16xf32>) -> tensor<?x4x?x16xf32>
  %kt = tfc.transpose %kr {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %s {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// Must not fuse: K repeated from 2 heads but V split into 4 (different head counts).
// CHECK-LABEL: func.func @k_repeated_v_not
// CHECK-NOT: tfc.attention
// CHECK: tfc.softmax
func.func @k_repeated_v_not(%q: tensor<?x?x64xf32>, %k: tensor<?x?x32xf32>, %v: tensor<?x?x64xf32>, %shp: tensor<5xi64>) -> tensor<?x?x64xf32> {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 2, 16>} : (tensor<?x?x32xf32>) -> tensor<?x?x2x16xf32>
  %kt0 = tfc.transpose %kh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x16xf32>) -> tensor<?x2x?x16xf32>
  %ku = tfc.reshape %kt0 {shape = array<i64: 0, 0, 1, -1, 16>} : (tensor<?x2x?x16xf32>) -> tensor<?x2x1x?x16xf32>
  %ke = tfc.expand %ku, %shp : (tensor<?x2x1x?x16xf32>, tensor<5xi64>) -> tensor<?x2x2x?x16xf32>
  %kr = tfc.reshape %ke {shape = array<i64: 0, 4, -1, 16>} : (tensor<?x2x2x?x16xf32>) -> tensor<?x4x?x16xf32>
  %kt = tfc.transpose %kr {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %s {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// Must not fuse: heads tiled (concat of the 2 heads twice: head h reads KV
// head h % 2, not h / 2 as repeat_kv's order and the fused op's).
// CHECK-LABEL: func.func @tiled_head_order
// CHECK-NOT: tfc.attention
// CHECK: tfc.softmax
func.func @tiled_head_order(%q: tensor<?x?x64xf32>, %k: tensor<?x?x32xf32>, %v: tensor<?x?x32xf32>) -> tensor<?x?x64xf32> {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 2, 16>} : (tensor<?x?x32xf32>) -> tensor<?x?x2x16xf32>
  %kt0 = tfc.transpose %kh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x16xf32>) -> tensor<?x2x?x16xf32>
  %kr = tfc.concat %kt0, %kt0 {axis = 1 : i64} : (tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>) -> tensor<?x4x?x16xf32>
  %kt = tfc.transpose %kr {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 2, 16>} : (tensor<?x?x32xf32>) -> tensor<?x?x2x16xf32>
  %vt0 = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x16xf32>) -> tensor<?x2x?x16xf32>
  %vt = tfc.concat %vt0, %vt0 {axis = 1 : i64} : (tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %s {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// GPT-Neo's local layer: where(band table slice, scores, finfo.min), then the
// padding bias added; no scale. The band (width 3) becomes window = 3 and the
// fill the hidden score (the padding bias is added after it).
// CHECK-LABEL: func.func @band_where_then_padding
// CHECK: tfc.attention %arg0, %arg1, %arg2, %arg3 {hidden_score = -3.40282347E+38 : f32, mask_kind = #tfc<mask causal_padding>, num_heads = 4 : i64, scale = 1.000000e+00 : f32, window = 3 : i64}
// CHECK-NOT: tfc.softmax
func.func @band_where_then_padding(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %pad: tensor<?x1x1x?xf32>, %t: tensor<1xi64>) -> tensor<?x?x64xf32> {
  %band = tfc.constant dense<[[[[true, false, false, false, false, false], [true, true, false, false, false, false], [true, true, true, false, false, false], [false, true, true, true, false, false], [false, false, true, true, true, false], [false, false, false, true, true, true]]]]> : tensor<1x1x6x6xi1>
  %fill = tfc.constant dense<-3.40282347E+38> : tensor<f32>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %z = tfc.constant dense<0> : tensor<2xi64>
  %e = tfc.concat %t, %t {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %m = tfc.slice %band, %z, %e {axes = array<i64: 2, 3>} : (tensor<1x1x6x6xi1>, tensor<2xi64>, tensor<2xi64>) -> tensor<1x1x?x?xi1>
  %w = tfc.where %m, %s, %fill : (tensor<1x1x?x?xi1>, tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %a = tfc.add %w, %pad : (tensor<?x4x?x?xf32>, tensor<?x1x1x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %a {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// An additive band table added before the scale: the hidden score is the
// table's hidden value times the scale.
// CHECK-LABEL: func.func @additive_band_before_scale
// CHECK: tfc.attention %arg0, %arg1, %arg2 {hidden_score = -2.500000e+08 : f32, mask_kind = #tfc<mask causal>, num_heads = 4 : i64, scale = 2.500000e-01 : f32, window = 2 : i64}
// CHECK-NOT: tfc.softmax
func.func @additive_band_before_scale(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %pad: tensor<?x1x1x?xf32>, %t: tensor<1xi64>) -> tensor<?x?x64xf32> {
  %band = tfc.constant dense<[[[[0.0, -1.0e+09, -1.0e+09, -1.0e+09, -1.0e+09, -1.0e+09], [0.0, 0.0, -1.0e+09, -1.0e+09, -1.0e+09, -1.0e+09], [-1.0e+09, 0.0, 0.0, -1.0e+09, -1.0e+09, -1.0e+09], [-1.0e+09, -1.0e+09, 0.0, 0.0, -1.0e+09, -1.0e+09], [-1.0e+09, -1.0e+09, -1.0e+09, 0.0, 0.0, -1.0e+09], [-1.0e+09, -1.0e+09, -1.0e+09, -1.0e+09, 0.0, 0.0]]]]> : tensor<1x1x6x6xf32>
  %c = tfc.constant dense<0.25> : tensor<f32>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %z = tfc.constant dense<0> : tensor<2xi64>
  %e = tfc.concat %t, %t {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %m = tfc.slice %band, %z, %e {axes = array<i64: 2, 3>} : (tensor<1x1x6x6xf32>, tensor<2xi64>, tensor<2xi64>) -> tensor<1x1x?x?xf32>
  %a = tfc.add %s, %m : (tensor<?x4x?x?xf32>, tensor<1x1x?x?xf32>) -> tensor<?x4x?x?xf32>
  %ss = tfc.mul %a, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %ss {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// The padding bias added before the band's where: hidden keys score the fill
// alone, which the fused op's hidden score (fill + mask) cannot say, so it
// has none (window still 3).
// CHECK-LABEL: func.func @padding_then_band_where
// CHECK: tfc.attention %arg0, %arg1, %arg2, %arg3 {mask_kind = #tfc<mask causal_padding>, num_heads = 4 : i64, scale = 1.000000e+00 : f32, window = 3 : i64}
func.func @padding_then_band_where(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %pad: tensor<?x1x1x?xf32>, %t: tensor<1xi64>) -> tensor<?x?x64xf32> {
  %band = tfc.constant dense<[[[[true, false, false, false, false, false], [true, true, false, false, false, false], [true, true, true, false, false, false], [false, true, true, true, false, false], [false, false, true, true, true, false], [false, false, false, true, true, true]]]]> : tensor<1x1x6x6xi1>
  %fill = tfc.constant dense<-3.40282347E+38> : tensor<f32>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %z = tfc.constant dense<0> : tensor<2xi64>
  %e = tfc.concat %t, %t {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %m = tfc.slice %band, %z, %e {axes = array<i64: 2, 3>} : (tensor<1x1x6x6xi1>, tensor<2xi64>, tensor<2xi64>) -> tensor<1x1x?x?xi1>
  %a = tfc.add %s, %pad : (tensor<?x4x?x?xf32>, tensor<?x1x1x?xf32>) -> tensor<?x4x?x?xf32>
  %w = tfc.where %m, %a, %fill : (tensor<1x1x?x?xi1>, tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %w {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// Not a band (one hole in the last row): the table is a general i1 mask, no window.
// CHECK-LABEL: func.func @not_a_band
// CHECK: %[[M:.*]] = tfc.slice
// CHECK: tfc.attention %arg0, %arg1, %arg2, %[[M]] {mask_kind = #tfc<mask padding>, num_heads = 4 : i64, scale = 1.000000e+00 : f32}
func.func @not_a_band(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %pad: tensor<?x1x1x?xf32>, %t: tensor<1xi64>) -> tensor<?x?x64xf32> {
  %band = tfc.constant dense<[[[[true, false, false, false, false, false], [true, true, false, false, false, false], [true, true, true, false, false, false], [false, true, true, true, false, false], [false, false, true, true, true, false], [false, false, false, true, false, true]]]]> : tensor<1x1x6x6xi1>
  %fill = tfc.constant dense<-3.40282347E+38> : tensor<f32>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %z = tfc.constant dense<0> : tensor<2xi64>
  %e = tfc.concat %t, %t {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %m = tfc.slice %band, %z, %e {axes = array<i64: 2, 3>} : (tensor<1x1x6x6xi1>, tensor<2xi64>, tensor<2xi64>) -> tensor<1x1x?x?xi1>
  %w = tfc.where %m, %s, %fill : (tensor<1x1x?x?xi1>, tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %w {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}
