// RUN: tfc-opt %s -split-input-file -tfc-canonicalize -tfc-fuse-attention | FileCheck %s

// The attention blocks of real PyTorch / transformers ONNX exports after the
// ONNX importer and tfc-canonicalize (tests/onnx/README.md lists the
// exporters' shapes). D = 64, H = 4, dh = 16; B, S, T dynamic. Every variant
// has a positive and a negative case.

// GPT-2: the causal table [1,1,M,M] sliced on all four axes, T computed twice
// (two tfc.shape + tfc.gather that are equal but not the same value), the
// scale `div` by `pow(cast(reshape(16)), 0.5)` (folded by tfc-canonicalize),
// where(tri, scores, -3.4e38), then the padding bias added: causal_padding.
// CHECK-LABEL: func.func @gpt2_causal_then_padding
// CHECK: tfc.attention %arg0, %arg1, %arg2, %arg3 {mask_kind = #tfc<mask causal_padding>, num_heads = 4 : i64, scale = 2.500000e-01 : f32}
// CHECK-NOT: tfc.softmax
// CHECK-NOT: tfc.slice
func.func @gpt2_causal_then_padding(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %bias: tensor<?x1x1x?xf32>) -> tensor<?x?x64xf32> {
  %table = tfc.constant dense<[[[[true, false, false, false, false, false, false, false], [true, true, false, false, false, false, false, false], [true, true, true, false, false, false, false, false], [true, true, true, true, false, false, false, false], [true, true, true, true, true, false, false, false], [true, true, true, true, true, true, false, false], [true, true, true, true, true, true, true, false], [true, true, true, true, true, true, true, true]]]]> : tensor<1x1x8x8xi1>
  %starts = tfc.constant dense<0> : tensor<4xi64>
  %ones = tfc.constant dense<1> : tensor<2xi64>
  %i1 = tfc.constant dense<1> : tensor<1xi64>
  %iT = tfc.constant dense<1> : tensor<1xi64>
  %shp0 = tfc.shape %q : (tensor<?x?x64xf32>) -> tensor<3xi64>
  %t0 = tfc.gather %shp0, %i1 {axis = 0 : i64} : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  %shp1 = tfc.shape %q : (tensor<?x?x64xf32>) -> tensor<3xi64>
  %t1 = tfc.gather %shp1, %iT {axis = 0 : i64} : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  %ends = tfc.concat %ones, %t0, %t1 {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xi64>
  %tri = tfc.slice %table, %starts, %ends {axes = array<i64: 0, 1, 2, 3>} : (tensor<1x1x8x8xi1>, tensor<4xi64>, tensor<4xi64>) -> tensor<1x1x?x?xi1>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %d16 = tfc.constant dense<16> : tensor<1xi64>
  %d = tfc.reshape %d16 {shape = array<i64>} : (tensor<1xi64>) -> tensor<i64>
  %df = tfc.cast %d : (tensor<i64>) -> tensor<f32>
  %half = tfc.constant dense<0.5> : tensor<f32>
  %sq = tfc.pow %df, %half : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %ss = tfc.div %s, %sq : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %neg = tfc.constant dense<-3.40282347E+38> : tensor<f32>
  %sc = tfc.where %tri, %ss, %neg : (tensor<1x1x?x?xi1>, tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %sm = tfc.add %sc, %bias : (tensor<?x4x?x?xf32>, tensor<?x1x1x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// Negative (causal): the slice ends are [S, B], not [T, T]; the table slice
// is then a general i1 mask, combined with the bias: padding, not causal.
// CHECK-LABEL: func.func @gpt2_slice_not_square
// CHECK: %[[TRI:.*]] = tfc.slice
// CHECK: %[[BIAS:.*]] = tfc.where %[[TRI]], %{{.*}}, %{{.*}} : (tensor<1x1x?x?xi1>, tensor<f32>, tensor<f32>) -> tensor<1x1x?x?xf32>
// CHECK: %[[M:.*]] = tfc.add %arg3, %[[BIAS]]
// CHECK: tfc.attention %arg0, %arg1, %arg2, %[[M]] {mask_kind = #tfc<mask padding>, num_heads = 4 : i64, scale = 2.500000e-01 : f32}
func.func @gpt2_slice_not_square(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %bias: tensor<?x1x1x?xf32>) -> tensor<?x?x64xf32> {
  %table = tfc.constant dense<[[[[true, false, false, false, false, false, false, false], [true, true, false, false, false, false, false, false], [true, true, true, false, false, false, false, false], [true, true, true, true, false, false, false, false], [true, true, true, true, true, false, false, false], [true, true, true, true, true, true, false, false], [true, true, true, true, true, true, true, false], [true, true, true, true, true, true, true, true]]]]> : tensor<1x1x8x8xi1>
  %starts = tfc.constant dense<0> : tensor<4xi64>
  %ones = tfc.constant dense<1> : tensor<2xi64>
  %i1 = tfc.constant dense<1> : tensor<1xi64>
  %iT = tfc.constant dense<0> : tensor<1xi64>
  %shp0 = tfc.shape %q : (tensor<?x?x64xf32>) -> tensor<3xi64>
  %t0 = tfc.gather %shp0, %i1 {axis = 0 : i64} : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  %shp1 = tfc.shape %q : (tensor<?x?x64xf32>) -> tensor<3xi64>
  %t1 = tfc.gather %shp1, %iT {axis = 0 : i64} : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  %ends = tfc.concat %ones, %t0, %t1 {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xi64>
  %tri = tfc.slice %table, %starts, %ends {axes = array<i64: 0, 1, 2, 3>} : (tensor<1x1x8x8xi1>, tensor<4xi64>, tensor<4xi64>) -> tensor<1x1x?x?xi1>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %c = tfc.constant dense<0.25> : tensor<f32>
  %ss = tfc.mul %s, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %neg = tfc.constant dense<-3.40282347E+38> : tensor<f32>
  %sc = tfc.where %tri, %ss, %neg : (tensor<1x1x?x?xi1>, tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %sm = tfc.add %sc, %bias : (tensor<?x4x?x?xf32>, tensor<?x1x1x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// Negative (scale): the divisor is computed from a run-time shape, so it is
// not a constant after canonicalization: not fused.
// CHECK-LABEL: func.func @scale_from_runtime_shape
// CHECK-NOT: tfc.attention
// CHECK: tfc.softmax
func.func @scale_from_runtime_shape(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %shp = tfc.shape %q : (tensor<?x?x64xf32>) -> tensor<3xi64>
  %i1 = tfc.constant dense<1> : tensor<1xi64>
  %n = tfc.gather %shp, %i1 {axis = 0 : i64} : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  %nf = tfc.cast %n : (tensor<1xi64>) -> tensor<1xf32>
  %ss = tfc.div %s, %nf : (tensor<?x4x?x?xf32>, tensor<1xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %ss {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// torch 2 SDPA: sqrt of the scale on the q heads and on k^T (one transpose
// [0,2,3,1]), computed as sqrt(1 / sqrt(cast(16))) and folded; the mask
// where(tril and keep, 0, -inf) added (the importer's And is
// where(a, b, false)); softmax, then where(isnan(p), 0, p) with isnan as
// cast(p - p): causal_padding with the keep mask as the operand.
// CHECK-LABEL: func.func @sdpa_causal_padding_nan_guard
// CHECK: tfc.attention %arg0, %arg1, %arg2, %arg3 {mask_kind = #tfc<mask causal_padding>, num_heads = 4 : i64, scale = 2.500000e-01 : f32}
// CHECK-NOT: tfc.softmax
// CHECK-NOT: tfc.where
// CHECK-NOT: tfc.cast
func.func @sdpa_causal_padding_nan_guard(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %keep: tensor<?x1x1x?xi1>) -> tensor<?x?x64xf32> {
  %table = tfc.constant dense<[[true, false, false, false, false, false, false, false], [true, true, false, false, false, false, false, false], [true, true, true, false, false, false, false, false], [true, true, true, true, false, false, false, false], [true, true, true, true, true, false, false, false], [true, true, true, true, true, true, false, false], [true, true, true, true, true, true, true, false], [true, true, true, true, true, true, true, true]]> : tensor<8x8xi1>
  %shp = tfc.shape %q : (tensor<?x?x64xf32>) -> tensor<3xi64>
  %i1 = tfc.constant dense<1> : tensor<1xi64>
  %t = tfc.gather %shp, %i1 {axis = 0 : i64} : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  %ends = tfc.concat %t, %t {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %starts = tfc.constant dense<0> : tensor<2xi64>
  %tri = tfc.slice %table, %starts, %ends {axes = array<i64: 0, 1>} : (tensor<8x8xi1>, tensor<2xi64>, tensor<2xi64>) -> tensor<?x?xi1>
  %false = tfc.constant dense<false> : tensor<i1>
  %both = tfc.where %tri, %keep, %false : (tensor<?x?xi1>, tensor<?x1x1x?xi1>, tensor<i1>) -> tensor<?x1x?x?xi1>
  %zero = tfc.constant dense<0.0> : tensor<1xf32>
  %ninf = tfc.constant dense<0xFF800000> : tensor<1xf32>
  %bias = tfc.where %both, %zero, %ninf : (tensor<?x1x?x?xi1>, tensor<1xf32>, tensor<1xf32>) -> tensor<?x1x?x?xf32>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %d16 = tfc.constant dense<16> : tensor<1xi64>
  %one = tfc.constant dense<1.0> : tensor<1xf32>
  %df = tfc.cast %d16 : (tensor<1xi64>) -> tensor<1xf32>
  %sd = tfc.sqrt %df : (tensor<1xf32>) -> tensor<1xf32>
  %sc = tfc.div %one, %sd : (tensor<1xf32>, tensor<1xf32>) -> tensor<1xf32>
  %sq = tfc.sqrt %sc : (tensor<1xf32>) -> tensor<1xf32>
  %qs = tfc.mul %qt, %sq : (tensor<?x4x?x16xf32>, tensor<1xf32>) -> tensor<?x4x?x16xf32>
  %sq2 = tfc.sqrt %sc : (tensor<1xf32>) -> tensor<1xf32>
  %ks = tfc.mul %kt, %sq2 : (tensor<?x4x16x?xf32>, tensor<1xf32>) -> tensor<?x4x16x?xf32>
  %s = tfc.matmul %qs, %ks : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %sm = tfc.add %s, %bias : (tensor<?x4x?x?xf32>, tensor<?x1x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %pp = tfc.sub %p, %p : (tensor<?x4x?x?xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %nan = tfc.cast %pp : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xi1>
  %pg = tfc.where %nan, %zero, %p : (tensor<?x4x?x?xi1>, tensor<1xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %pg, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// Negative (NaN guard): where(isnan(p), 1, p) changes the probabilities of
// fully masked rows to ones, which the fused op does not do: not fused.
// CHECK-LABEL: func.func @sdpa_nan_guard_not_zero
// CHECK-NOT: tfc.attention
// CHECK: tfc.softmax
func.func @sdpa_nan_guard_not_zero(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %keep: tensor<?x1x1x?xi1>) -> tensor<?x?x64xf32> {
  %table = tfc.constant dense<[[true, false, false, false, false, false, false, false], [true, true, false, false, false, false, false, false], [true, true, true, false, false, false, false, false], [true, true, true, true, false, false, false, false], [true, true, true, true, true, false, false, false], [true, true, true, true, true, true, false, false], [true, true, true, true, true, true, true, false], [true, true, true, true, true, true, true, true]]> : tensor<8x8xi1>
  %shp = tfc.shape %q : (tensor<?x?x64xf32>) -> tensor<3xi64>
  %i1 = tfc.constant dense<1> : tensor<1xi64>
  %t = tfc.gather %shp, %i1 {axis = 0 : i64} : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  %ends = tfc.concat %t, %t {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %starts = tfc.constant dense<0> : tensor<2xi64>
  %tri = tfc.slice %table, %starts, %ends {axes = array<i64: 0, 1>} : (tensor<8x8xi1>, tensor<2xi64>, tensor<2xi64>) -> tensor<?x?xi1>
  %false = tfc.constant dense<false> : tensor<i1>
  %both = tfc.where %tri, %keep, %false : (tensor<?x?xi1>, tensor<?x1x1x?xi1>, tensor<i1>) -> tensor<?x1x?x?xi1>
  %zero = tfc.constant dense<0.0> : tensor<1xf32>
  %ninf = tfc.constant dense<0xFF800000> : tensor<1xf32>
  %bias = tfc.where %both, %zero, %ninf : (tensor<?x1x?x?xi1>, tensor<1xf32>, tensor<1xf32>) -> tensor<?x1x?x?xf32>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %d16 = tfc.constant dense<16> : tensor<1xi64>
  %one = tfc.constant dense<1.0> : tensor<1xf32>
  %df = tfc.cast %d16 : (tensor<1xi64>) -> tensor<1xf32>
  %sd = tfc.sqrt %df : (tensor<1xf32>) -> tensor<1xf32>
  %sc = tfc.div %one, %sd : (tensor<1xf32>, tensor<1xf32>) -> tensor<1xf32>
  %sq = tfc.sqrt %sc : (tensor<1xf32>) -> tensor<1xf32>
  %qs = tfc.mul %qt, %sq : (tensor<?x4x?x16xf32>, tensor<1xf32>) -> tensor<?x4x?x16xf32>
  %sq2 = tfc.sqrt %sc : (tensor<1xf32>) -> tensor<1xf32>
  %ks = tfc.mul %kt, %sq2 : (tensor<?x4x16x?xf32>, tensor<1xf32>) -> tensor<?x4x16x?xf32>
  %s = tfc.matmul %qs, %ks : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %sm = tfc.add %s, %bias : (tensor<?x4x?x?xf32>, tensor<?x1x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %pp = tfc.sub %p, %p : (tensor<?x4x?x?xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %nan = tfc.cast %pp : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xi1>
  %pg = tfc.where %nan, %one, %p : (tensor<?x4x?x?xi1>, tensor<1xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %pg, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// sqrt-split scale with unequal factors on q (0.5) and k^T (0.25): the scale
// is their product.
// CHECK-LABEL: func.func @sdpa_unequal_split_scale
// CHECK: tfc.attention %arg0, %arg1, %arg2, %arg3 {mask_kind = #tfc<mask causal_padding>, num_heads = 4 : i64, scale = 1.250000e-01 : f32}
func.func @sdpa_unequal_split_scale(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %keep: tensor<?x1x1x?xi1>) -> tensor<?x?x64xf32> {
  %table = tfc.constant dense<[[true, false, false, false, false, false, false, false], [true, true, false, false, false, false, false, false], [true, true, true, false, false, false, false, false], [true, true, true, true, false, false, false, false], [true, true, true, true, true, false, false, false], [true, true, true, true, true, true, false, false], [true, true, true, true, true, true, true, false], [true, true, true, true, true, true, true, true]]> : tensor<8x8xi1>
  %shp = tfc.shape %q : (tensor<?x?x64xf32>) -> tensor<3xi64>
  %i1 = tfc.constant dense<1> : tensor<1xi64>
  %t = tfc.gather %shp, %i1 {axis = 0 : i64} : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  %ends = tfc.concat %t, %t {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %starts = tfc.constant dense<0> : tensor<2xi64>
  %tri = tfc.slice %table, %starts, %ends {axes = array<i64: 0, 1>} : (tensor<8x8xi1>, tensor<2xi64>, tensor<2xi64>) -> tensor<?x?xi1>
  %false = tfc.constant dense<false> : tensor<i1>
  %both = tfc.where %tri, %keep, %false : (tensor<?x?xi1>, tensor<?x1x1x?xi1>, tensor<i1>) -> tensor<?x1x?x?xi1>
  %zero = tfc.constant dense<0.0> : tensor<1xf32>
  %ninf = tfc.constant dense<0xFF800000> : tensor<1xf32>
  %bias = tfc.where %both, %zero, %ninf : (tensor<?x1x?x?xi1>, tensor<1xf32>, tensor<1xf32>) -> tensor<?x1x?x?xf32>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %h = tfc.constant dense<0.5> : tensor<1xf32>
  %qu = tfc.constant dense<0.25> : tensor<1xf32>
  %qs = tfc.mul %qt, %h : (tensor<?x4x?x16xf32>, tensor<1xf32>) -> tensor<?x4x?x16xf32>
  %ks = tfc.mul %kt, %qu : (tensor<?x4x16x?xf32>, tensor<1xf32>) -> tensor<?x4x16x?xf32>
  %s = tfc.matmul %qs, %ks : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %sm = tfc.add %s, %bias : (tensor<?x4x?x?xf32>, tensor<?x1x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// Negative (sqrt-split scale): k^T is multiplied by a run-time value, not a
// constant: not fused.
// CHECK-LABEL: func.func @sdpa_k_scale_not_constant
// CHECK-NOT: tfc.attention
// CHECK: tfc.softmax
func.func @sdpa_k_scale_not_constant(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %f: tensor<1xf32>) -> tensor<?x?x64xf32> {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %h = tfc.constant dense<0.5> : tensor<1xf32>
  %qs = tfc.mul %qt, %h : (tensor<?x4x?x16xf32>, tensor<1xf32>) -> tensor<?x4x?x16xf32>
  %ks = tfc.mul %kt, %f : (tensor<?x4x16x?xf32>, tensor<1xf32>) -> tensor<?x4x16x?xf32>
  %s = tfc.matmul %qs, %ks : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %s {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// masked_fill(~keep, -1e9): where(not keep, -1e9, scores) with the importer's
// Not as where(keep, false, true): padding with the keep mask itself.
// CHECK-LABEL: func.func @masked_fill_not_keep
// CHECK: tfc.attention %arg0, %arg1, %arg2, %arg3 {mask_kind = #tfc<mask padding>, num_heads = 4 : i64, scale = 2.500000e-01 : f32} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x1x1x?xi1>)
// CHECK-NOT: tfc.where
func.func @masked_fill_not_keep(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %keep: tensor<?x1x1x?xi1>) -> tensor<?x?x64xf32> {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %c = tfc.constant dense<0.25> : tensor<f32>
  %ss = tfc.mul %s, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %true = tfc.constant dense<true> : tensor<i1>
  %false = tfc.constant dense<false> : tensor<i1>
  %hide = tfc.where %keep, %false, %true : (tensor<?x1x1x?xi1>, tensor<i1>, tensor<i1>) -> tensor<?x1x1x?xi1>
  %neg = tfc.constant dense<-1.0e+09> : tensor<f32>
  %sm = tfc.where %hide, %neg, %ss : (tensor<?x1x1x?xi1>, tensor<f32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// masked_fill(hide, -inf) with a hide mask that is an input: the fused op
// keeps where its mask is true, so the mask operand is not hide.
// CHECK-LABEL: func.func @masked_fill_hide_input
// CHECK: %[[KEEP:.*]] = tfc.where %arg3, %{{.*}}, %{{.*}} : (tensor<?x1x1x?xi1>, tensor<i1>, tensor<i1>) -> tensor<?x1x1x?xi1>
// CHECK: tfc.attention %arg0, %arg1, %arg2, %[[KEEP]] {mask_kind = #tfc<mask padding>, num_heads = 4 : i64, scale = 2.500000e-01 : f32}
func.func @masked_fill_hide_input(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %hide: tensor<?x1x1x?xi1>) -> tensor<?x?x64xf32> {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %c = tfc.constant dense<0.25> : tensor<f32>
  %ss = tfc.mul %s, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %neg = tfc.constant dense<0xFF800000> : tensor<f32>
  %sm = tfc.where %hide, %neg, %ss : (tensor<?x1x1x?xi1>, tensor<f32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// Negative (masked_fill): the fill -1.0 does not hide the keys.
// CHECK-LABEL: func.func @masked_fill_small_constant
// CHECK-NOT: tfc.attention
// CHECK: tfc.softmax
func.func @masked_fill_small_constant(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %hide: tensor<?x1x1x?xi1>) -> tensor<?x?x64xf32> {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %c = tfc.constant dense<0.25> : tensor<f32>
  %ss = tfc.mul %s, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %neg = tfc.constant dense<-1.0> : tensor<f32>
  %sm = tfc.where %hide, %neg, %ss : (tensor<?x1x1x?xi1>, tensor<f32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// nn.MultiheadAttention's bool key padding mask (true = pad) turned into an
// additive where(pad, -inf, 0); the causal mask where(triu, -inf, 0) from a
// strictly upper-triangular i1 table (torch's Greater(arange, arange)) added
// as well: causal_padding, the mask operand is not pad.
// CHECK-LABEL: func.func @bool_masks_made_additive
// CHECK: %[[KEEP:.*]] = tfc.where %arg3, %{{.*}}, %{{.*}} : (tensor<?x1x1x?xi1>, tensor<i1>, tensor<i1>) -> tensor<?x1x1x?xi1>
// CHECK: tfc.attention %arg0, %arg1, %arg2, %[[KEEP]] {mask_kind = #tfc<mask causal_padding>, num_heads = 4 : i64, scale = 2.500000e-01 : f32}
// CHECK-NOT: tfc.slice
func.func @bool_masks_made_additive(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %pad: tensor<?x1x1x?xi1>) -> tensor<?x?x64xf32> {
  %table = tfc.constant dense<[[false, true, true, true, true, true, true, true], [false, false, true, true, true, true, true, true], [false, false, false, true, true, true, true, true], [false, false, false, false, true, true, true, true], [false, false, false, false, false, true, true, true], [false, false, false, false, false, false, true, true], [false, false, false, false, false, false, false, true], [false, false, false, false, false, false, false, false]]> : tensor<8x8xi1>
  %ends = tfc.constant dense<6> : tensor<2xi64>
  %starts = tfc.constant dense<0> : tensor<2xi64>
  %tri = tfc.slice %table, %starts, %ends {axes = array<i64: -2, -1>} : (tensor<8x8xi1>, tensor<2xi64>, tensor<2xi64>) -> tensor<6x6xi1>
  %zero = tfc.constant dense<0.0> : tensor<f32>
  %ninf = tfc.constant dense<0xFF800000> : tensor<f32>
  %causal = tfc.where %tri, %ninf, %zero : (tensor<6x6xi1>, tensor<f32>, tensor<f32>) -> tensor<6x6xf32>
  %padb = tfc.where %pad, %ninf, %zero : (tensor<?x1x1x?xi1>, tensor<f32>, tensor<f32>) -> tensor<?x1x1x?xf32>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %c = tfc.constant dense<0.25> : tensor<f32>
  %ss = tfc.mul %s, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %s1 = tfc.add %ss, %causal : (tensor<?x4x?x?xf32>, tensor<6x6xf32>) -> tensor<?x4x?x?xf32>
  %sm = tfc.add %s1, %padb : (tensor<?x4x?x?xf32>, tensor<?x1x1x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// Negative (causal): the upper-triangular table includes the diagonal, so it
// hides each query's own key: a general mask (padding), not causal.
// CHECK-LABEL: func.func @triu_with_diagonal_not_causal
// CHECK: %[[TRI:.*]] = tfc.slice
// CHECK: %[[KEEP:.*]] = tfc.where %[[TRI]], %{{.*}}, %{{.*}} : (tensor<6x6xi1>, tensor<i1>, tensor<i1>) -> tensor<6x6xi1>
// CHECK: tfc.attention %arg0, %arg1, %arg2, %[[KEEP]] {mask_kind = #tfc<mask padding>, num_heads = 4 : i64, scale = 2.500000e-01 : f32}
func.func @triu_with_diagonal_not_causal(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %table = tfc.constant dense<[[true, true, true, true, true, true, true, true], [false, true, true, true, true, true, true, true], [false, false, true, true, true, true, true, true], [false, false, false, true, true, true, true, true], [false, false, false, false, true, true, true, true], [false, false, false, false, false, true, true, true], [false, false, false, false, false, false, true, true], [false, false, false, false, false, false, false, true]]> : tensor<8x8xi1>
  %ends = tfc.constant dense<6> : tensor<2xi64>
  %starts = tfc.constant dense<0> : tensor<2xi64>
  %tri = tfc.slice %table, %starts, %ends {axes = array<i64: 0, 1>} : (tensor<8x8xi1>, tensor<2xi64>, tensor<2xi64>) -> tensor<6x6xi1>
  %zero = tfc.constant dense<0.0> : tensor<f32>
  %ninf = tfc.constant dense<0xFF800000> : tensor<f32>
  %causal = tfc.where %tri, %ninf, %zero : (tensor<6x6xi1>, tensor<f32>, tensor<f32>) -> tensor<6x6xf32>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %c = tfc.constant dense<0.25> : tensor<f32>
  %ss = tfc.mul %s, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %sm = tfc.add %ss, %causal : (tensor<?x4x?x?xf32>, tensor<6x6xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// Two float padding masks added one after the other (one before the scale):
// one mask operand, their sum (the first scaled).
// CHECK-LABEL: func.func @two_additive_masks
// CHECK: %[[C:.*]] = tfc.constant dense<2.500000e-01> : tensor<f32>
// CHECK: %[[M1:.*]] = tfc.mul %arg3, %[[C]]
// CHECK: %[[M:.*]] = tfc.add %arg4, %[[M1]] : (tensor<1x1x?x?xf32>, tensor<?x1x1x?xf32>) -> tensor<?x1x?x?xf32>
// CHECK: tfc.attention %arg0, %arg1, %arg2, %[[M]] {mask_kind = #tfc<mask padding>, num_heads = 4 : i64, scale = 2.500000e-01 : f32}
func.func @two_additive_masks(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %b1: tensor<?x1x1x?xf32>, %b2: tensor<1x1x?x?xf32>) -> tensor<?x?x64xf32> {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %s1 = tfc.add %s, %b1 : (tensor<?x4x?x?xf32>, tensor<?x1x1x?xf32>) -> tensor<?x4x?x?xf32>
  %c = tfc.constant dense<0.25> : tensor<f32>
  %ss = tfc.mul %s1, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %sm = tfc.add %ss, %b2 : (tensor<?x4x?x?xf32>, tensor<1x1x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// Negative (several masks): the scores between the two masks are used
// elsewhere too, so the chain cannot be fused.
// CHECK-LABEL: func.func @masked_scores_used_twice
// CHECK-NOT: tfc.attention
// CHECK: tfc.softmax
func.func @masked_scores_used_twice(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %b1: tensor<?x1x1x?xf32>, %b2: tensor<1x1x?x?xf32>) -> (tensor<?x?x64xf32>, tensor<?x4x?x?xf32>) {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %c = tfc.constant dense<0.25> : tensor<f32>
  %ss = tfc.mul %s, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %s1 = tfc.add %ss, %b1 : (tensor<?x4x?x?xf32>, tensor<?x1x1x?xf32>) -> tensor<?x4x?x?xf32>
  %sm = tfc.add %s1, %b2 : (tensor<?x4x?x?xf32>, tensor<1x1x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om, %s1 : tensor<?x?x64xf32>, tensor<?x4x?x?xf32>
}

// -----

// An i1 keep mask and a float bias together: the keep mask becomes
// where(keep, 0, -inf) and is added to the bias.
// CHECK-LABEL: func.func @bool_and_float_masks
// CHECK: %[[B:.*]] = tfc.where %arg3, %{{.*}}, %{{.*}} : (tensor<?x1x1x?xi1>, tensor<f32>, tensor<f32>) -> tensor<?x1x1x?xf32>
// CHECK: %[[M:.*]] = tfc.add %arg4, %[[B]]
// CHECK: tfc.attention %arg0, %arg1, %arg2, %[[M]] {mask_kind = #tfc<mask padding>
func.func @bool_and_float_masks(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %keep: tensor<?x1x1x?xi1>, %bias: tensor<?x1x1x?xf32>) -> tensor<?x?x64xf32> {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %c = tfc.constant dense<0.25> : tensor<f32>
  %ss = tfc.mul %s, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %neg = tfc.constant dense<-1.0e+09> : tensor<f32>
  %s1 = tfc.where %keep, %ss, %neg : (tensor<?x1x1x?xi1>, tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %sm = tfc.add %s1, %bias : (tensor<?x4x?x?xf32>, tensor<?x1x1x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// nn.MultiheadAttention (torch 1.x): [S, B, D] sources, heads as [B*H, S, dh]
// (reshape [0, -1, dh] + transpose [1, 0, 2]), q divided by sqrt(dh) before
// QK^T, K^T by one transpose [1, 2, 0]; the bool key padding mask (true =
// pad) reshaped to [B, 1, 1, T], expanded over the heads, flattened to
// [B*H, 1, T] and turned into where(pad, -inf, zeros); the result merged to
// [S*B, D] for the out-projection. The fused op takes [B, S, D] operands.
// CHECK-LABEL: func.func @mha_3d_key_padding
// CHECK: %[[PAD4:.*]] = tfc.reshape %arg3 {shape = array<i64: 0, 1, 1, -1>}
// CHECK-DAG: %[[KEEP:.*]] = tfc.where %[[PAD4]], %{{.*}}, %{{.*}} : (tensor<?x1x1x7xi1>, tensor<i1>, tensor<i1>) -> tensor<?x1x1x7xi1>
// CHECK-DAG: %[[Q:.*]] = tfc.transpose %arg0 {perm = array<i64: 1, 0, 2>}
// CHECK-DAG: %[[K:.*]] = tfc.transpose %arg1 {perm = array<i64: 1, 0, 2>}
// CHECK-DAG: %[[V:.*]] = tfc.transpose %arg2 {perm = array<i64: 1, 0, 2>}
// CHECK: %[[O:.*]] = tfc.attention %[[Q]], %[[K]], %[[V]], %[[KEEP]] {mask_kind = #tfc<mask padding>, num_heads = 4 : i64, scale = 2.500000e-01 : f32} : (tensor<?x?x64xf32>, tensor<?x7x64xf32>, tensor<?x7x64xf32>, tensor<?x1x1x7xi1>) -> tensor<?x?x64xf32>
// CHECK: %[[OT:.*]] = tfc.transpose %[[O]] {perm = array<i64: 1, 0, 2>}
// CHECK: %[[R:.*]] = tfc.reshape %[[OT]] {shape = array<i64: -1, 64>} : (tensor<?x?x64xf32>) -> tensor<?x64xf32>
// CHECK: return %[[R]]
func.func @mha_3d_key_padding(%q: tensor<?x?x64xf32>, %k: tensor<7x?x64xf32>, %v: tensor<7x?x64xf32>, %pad: tensor<?x7xi1>, %eshape: tensor<4xi64>, %zshape: tensor<3xi64>) -> tensor<?x64xf32> {
  %pad4 = tfc.reshape %pad {shape = array<i64: 0, 1, 1, -1>} : (tensor<?x7xi1>) -> tensor<?x1x1x7xi1>
  %padh = tfc.expand %pad4, %eshape : (tensor<?x1x1x7xi1>, tensor<4xi64>) -> tensor<?x4x1x7xi1>
  %flat = tfc.reshape %padh {shape = array<i64: -1, 1, 7>} : (tensor<?x4x1x7xi1>) -> tensor<?x1x7xi1>
  %ninf = tfc.constant dense<0xFF800000> : tensor<f32>
  %zero = tfc.constant dense<0.0> : tensor<f32>
  %zeros = tfc.expand %zero, %zshape : (tensor<f32>, tensor<3xi64>) -> tensor<?x1x7xf32>
  %bias = tfc.where %flat, %ninf, %zeros : (tensor<?x1x7xi1>, tensor<f32>, tensor<?x1x7xf32>) -> tensor<?x1x7xf32>
  %qh = tfc.reshape %q {shape = array<i64: 0, -1, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 1, 0, 2>} : (tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %c4 = tfc.constant dense<4.0> : tensor<f32>
  %qs = tfc.div %qt, %c4 : (tensor<?x?x16xf32>, tensor<f32>) -> tensor<?x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, -1, 16>} : (tensor<7x?x64xf32>) -> tensor<7x?x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 1, 2, 0>} : (tensor<7x?x16xf32>) -> tensor<?x16x7xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, -1, 16>} : (tensor<7x?x64xf32>) -> tensor<7x?x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 1, 0, 2>} : (tensor<7x?x16xf32>) -> tensor<?x7x16xf32>
  %s = tfc.matmul %qs, %kt : (tensor<?x?x16xf32>, tensor<?x16x7xf32>) -> tensor<?x?x7xf32>
  %sm = tfc.add %s, %bias : (tensor<?x?x7xf32>, tensor<?x1x7xf32>) -> tensor<?x?x7xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x?x7xf32>) -> tensor<?x?x7xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x?x7xf32>, tensor<?x7x16xf32>) -> tensor<?x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 1, 0, 2>} : (tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: -1, 64>} : (tensor<?x?x16xf32>) -> tensor<?x64xf32>
  return %om : tensor<?x64xf32>
}

// -----

// Negative (3-D layout): the [B*H, 1, T] mask is an input, not a flattened
// [B, H, 1, T] mask, so it cannot be given to the fused op: not fused.
// CHECK-LABEL: func.func @mha_3d_mask_not_unflattenable
// CHECK-NOT: tfc.attention
// CHECK: tfc.softmax
func.func @mha_3d_mask_not_unflattenable(%q: tensor<?x?x64xf32>, %k: tensor<7x?x64xf32>, %v: tensor<7x?x64xf32>, %flat: tensor<?x1x7xi1>, %zshape: tensor<3xi64>) -> tensor<?x64xf32> {
  %ninf = tfc.constant dense<0xFF800000> : tensor<f32>
  %zero = tfc.constant dense<0.0> : tensor<f32>
  %zeros = tfc.expand %zero, %zshape : (tensor<f32>, tensor<3xi64>) -> tensor<?x1x7xf32>
  %bias = tfc.where %flat, %ninf, %zeros : (tensor<?x1x7xi1>, tensor<f32>, tensor<?x1x7xf32>) -> tensor<?x1x7xf32>
  %qh = tfc.reshape %q {shape = array<i64: 0, -1, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 1, 0, 2>} : (tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %c4 = tfc.constant dense<4.0> : tensor<f32>
  %qs = tfc.div %qt, %c4 : (tensor<?x?x16xf32>, tensor<f32>) -> tensor<?x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, -1, 16>} : (tensor<7x?x64xf32>) -> tensor<7x?x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 1, 2, 0>} : (tensor<7x?x16xf32>) -> tensor<?x16x7xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, -1, 16>} : (tensor<7x?x64xf32>) -> tensor<7x?x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 1, 0, 2>} : (tensor<7x?x16xf32>) -> tensor<?x7x16xf32>
  %s = tfc.matmul %qs, %kt : (tensor<?x?x16xf32>, tensor<?x16x7xf32>) -> tensor<?x?x7xf32>
  %sm = tfc.add %s, %bias : (tensor<?x?x7xf32>, tensor<?x1x7xf32>) -> tensor<?x?x7xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x?x7xf32>) -> tensor<?x?x7xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x?x7xf32>, tensor<?x7x16xf32>) -> tensor<?x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 1, 0, 2>} : (tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: -1, 64>} : (tensor<?x?x16xf32>) -> tensor<?x64xf32>
  return %om : tensor<?x64xf32>
}

// -----

// nn.TransformerDecoder self-attention (batch_first=False): the causal mask
// triu(full(-inf), 1) as a slice of a constant table (added through
// baddbmm's mask * 1, dropped by tfc-canonicalize), the result merged back
// to [S, B, D] by reshape [0, -1, D]: causal, result transposed back.
// CHECK-LABEL: func.func @mha_3d_causal_seq_first
// CHECK: %[[O:.*]] = tfc.attention %{{.*}}, %{{.*}}, %{{.*}} {mask_kind = #tfc<mask causal>, num_heads = 4 : i64, scale = 2.500000e-01 : f32}
// CHECK: %[[OT:.*]] = tfc.transpose %[[O]] {perm = array<i64: 1, 0, 2>} : (tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
// CHECK: return %[[OT]]
func.func @mha_3d_causal_seq_first(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %table = tfc.constant dense<[[0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<8x8xf32>
  %shp = tfc.shape %q : (tensor<?x?x64xf32>) -> tensor<3xi64>
  %i0 = tfc.constant dense<0> : tensor<1xi64>
  %t = tfc.gather %shp, %i0 {axis = 0 : i64} : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  %ends = tfc.concat %t, %t {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %starts = tfc.constant dense<0> : tensor<2xi64>
  %tri = tfc.slice %table, %starts, %ends {axes = array<i64: 0, 1>} : (tensor<8x8xf32>, tensor<2xi64>, tensor<2xi64>) -> tensor<?x?xf32>
  %one = tfc.constant dense<1.0> : tensor<f32>
  %tri1 = tfc.mul %tri, %one : (tensor<?x?xf32>, tensor<f32>) -> tensor<?x?xf32>
  %qh = tfc.reshape %q {shape = array<i64: 0, -1, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 1, 0, 2>} : (tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %c4 = tfc.constant dense<4.0> : tensor<f32>
  %qs = tfc.div %qt, %c4 : (tensor<?x?x16xf32>, tensor<f32>) -> tensor<?x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, -1, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 1, 2, 0>} : (tensor<?x?x16xf32>) -> tensor<?x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, -1, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 1, 0, 2>} : (tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %s = tfc.matmul %qs, %kt : (tensor<?x?x16xf32>, tensor<?x16x?xf32>) -> tensor<?x?x?xf32>
  %s1 = tfc.mul %s, %one : (tensor<?x?x?xf32>, tensor<f32>) -> tensor<?x?x?xf32>
  %sm = tfc.add %s1, %tri1 : (tensor<?x?x?xf32>, tensor<?x?xf32>) -> tensor<?x?x?xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x?x?xf32>) -> tensor<?x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x?x?xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 1, 0, 2>} : (tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, -1, 64>} : (tensor<?x?x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// Negative (3-D layout): the heads are merged by reshape [0, -1, 64] without
// the transpose back to [S, B*H, dh], so the result is not [S, B, D].
// CHECK-LABEL: func.func @mha_3d_merge_without_transpose
// CHECK-NOT: tfc.attention
// CHECK: tfc.softmax
func.func @mha_3d_merge_without_transpose(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %qh = tfc.reshape %q {shape = array<i64: 0, -1, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 1, 0, 2>} : (tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %c4 = tfc.constant dense<4.0> : tensor<f32>
  %qs = tfc.div %qt, %c4 : (tensor<?x?x16xf32>, tensor<f32>) -> tensor<?x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, -1, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 1, 2, 0>} : (tensor<?x?x16xf32>) -> tensor<?x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, -1, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 1, 0, 2>} : (tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %s = tfc.matmul %qs, %kt : (tensor<?x?x16xf32>, tensor<?x16x?xf32>) -> tensor<?x?x?xf32>
  %p = tfc.softmax %s {axis = -1 : i64} : (tensor<?x?x?xf32>) -> tensor<?x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x?x?xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %om = tfc.reshape %o {shape = array<i64: 0, -1, 64>} : (tensor<?x?x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// Negative (3-D layout): the [B*H, 1, T] mask is reshaped from [B, 1, 1, T]
// (never expanded over the heads), so it is not per batch*head: not fused.
// CHECK-LABEL: func.func @mha_3d_mask_not_expanded
// CHECK-NOT: tfc.attention
// CHECK: tfc.softmax
func.func @mha_3d_mask_not_expanded(%q: tensor<?x?x64xf32>, %k: tensor<7x?x64xf32>, %v: tensor<7x?x64xf32>, %pad: tensor<?x7xi1>) -> tensor<?x64xf32> {
  %pad4 = tfc.reshape %pad {shape = array<i64: 0, 1, 1, -1>} : (tensor<?x7xi1>) -> tensor<?x1x1x7xi1>
  %flat = tfc.reshape %pad4 {shape = array<i64: -1, 1, 7>} : (tensor<?x1x1x7xi1>) -> tensor<?x1x7xi1>
  %ninf = tfc.constant dense<0xFF800000> : tensor<f32>
  %zero = tfc.constant dense<0.0> : tensor<f32>
  %bias = tfc.where %flat, %ninf, %zero : (tensor<?x1x7xi1>, tensor<f32>, tensor<f32>) -> tensor<?x1x7xf32>
  %qh = tfc.reshape %q {shape = array<i64: 0, -1, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 1, 0, 2>} : (tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %c4 = tfc.constant dense<4.0> : tensor<f32>
  %qs = tfc.div %qt, %c4 : (tensor<?x?x16xf32>, tensor<f32>) -> tensor<?x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, -1, 16>} : (tensor<7x?x64xf32>) -> tensor<7x?x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 1, 2, 0>} : (tensor<7x?x16xf32>) -> tensor<?x16x7xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, -1, 16>} : (tensor<7x?x64xf32>) -> tensor<7x?x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 1, 0, 2>} : (tensor<7x?x16xf32>) -> tensor<?x7x16xf32>
  %s = tfc.matmul %qs, %kt : (tensor<?x?x16xf32>, tensor<?x16x7xf32>) -> tensor<?x?x7xf32>
  %sm = tfc.add %s, %bias : (tensor<?x?x7xf32>, tensor<?x1x7xf32>) -> tensor<?x?x7xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x?x7xf32>) -> tensor<?x?x7xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x?x7xf32>, tensor<?x7x16xf32>) -> tensor<?x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 1, 0, 2>} : (tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: -1, 64>} : (tensor<?x?x16xf32>) -> tensor<?x64xf32>
  return %om : tensor<?x64xf32>
}

// -----

// torch 1.x's attn_mask.masked_fill(key_padding_mask, -inf): where(pad,
// -inf, causal) with the float causal table slice as the other operand:
// causal_padding, the mask operand is not pad.
// CHECK-LABEL: func.func @masked_fill_of_float_mask
// CHECK: %[[KEEP:.*]] = tfc.where %arg3, %{{.*}}, %{{.*}} : (tensor<?x1x1x?xi1>, tensor<i1>, tensor<i1>) -> tensor<?x1x1x?xi1>
// CHECK: tfc.attention %arg0, %arg1, %arg2, %[[KEEP]] {mask_kind = #tfc<mask causal_padding>, num_heads = 4 : i64, scale = 2.500000e-01 : f32}
func.func @masked_fill_of_float_mask(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %pad: tensor<?x1x1x?xi1>) -> tensor<?x?x64xf32> {
  %table = tfc.constant dense<[[0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<8x8xf32>
  %ends = tfc.constant dense<6> : tensor<2xi64>
  %starts = tfc.constant dense<0> : tensor<2xi64>
  %tri = tfc.slice %table, %starts, %ends {axes = array<i64: 0, 1>} : (tensor<8x8xf32>, tensor<2xi64>, tensor<2xi64>) -> tensor<6x6xf32>
  %ninf = tfc.constant dense<0xFF800000> : tensor<f32>
  %m = tfc.where %pad, %ninf, %tri : (tensor<?x1x1x?xi1>, tensor<f32>, tensor<6x6xf32>) -> tensor<?x1x6x6xf32>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %c = tfc.constant dense<0.25> : tensor<f32>
  %ss = tfc.mul %s, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %sm = tfc.add %ss, %m : (tensor<?x4x?x?xf32>, tensor<?x1x6x6xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// Negative (masked_fill of a float mask): the fill -1.0 does not hide keys,
// so the where stays whole as a float mask operand (padding, not causal).
// CHECK-LABEL: func.func @masked_fill_of_float_mask_small_fill
// CHECK: %[[M:.*]] = tfc.where %arg3, %{{.*}}, %{{.*}} : (tensor<?x1x1x?xi1>, tensor<f32>, tensor<6x6xf32>) -> tensor<?x1x6x6xf32>
// CHECK: %[[MS:.*]] = tfc.mul %[[M]], %{{.*}}
// CHECK: tfc.attention %arg0, %arg1, %arg2, %[[MS]] {mask_kind = #tfc<mask padding>, num_heads = 4 : i64, scale = 2.500000e-01 : f32}
func.func @masked_fill_of_float_mask_small_fill(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %pad: tensor<?x1x1x?xi1>) -> tensor<?x?x64xf32> {
  %table = tfc.constant dense<[[0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<8x8xf32>
  %ends = tfc.constant dense<6> : tensor<2xi64>
  %starts = tfc.constant dense<0> : tensor<2xi64>
  %tri = tfc.slice %table, %starts, %ends {axes = array<i64: 0, 1>} : (tensor<8x8xf32>, tensor<2xi64>, tensor<2xi64>) -> tensor<6x6xf32>
  %fill = tfc.constant dense<-1.0> : tensor<f32>
  %m = tfc.where %pad, %fill, %tri : (tensor<?x1x1x?xi1>, tensor<f32>, tensor<6x6xf32>) -> tensor<?x1x6x6xf32>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %sm = tfc.add %s, %m : (tensor<?x4x?x?xf32>, tensor<?x1x6x6xf32>) -> tensor<?x4x?x?xf32>
  %c = tfc.constant dense<0.25> : tensor<f32>
  %ss = tfc.mul %sm, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %ss {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}
