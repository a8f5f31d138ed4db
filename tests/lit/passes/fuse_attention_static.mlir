// RUN: tfc-opt %s -tfc-fuse-attention -split-input-file | FileCheck %s

// Head split and merge reshapes that keep the batch and sequence dims by
// their sizes rather than by 0 (reshapeKeepsLeadingDims): D = 64, H = 4,
// dh = 16. A reshape depends only on its input and result shapes, so these
// are the same attention as fuse_attention.mlir's [0, 0, 4, 16] blocks; a
// reshape that moves the leading dims is not. Static exports also fold the
// causal table's [T, T] slice into a constant (isCausalMaskSlice).

// A static export (torch.onnx.export without dynamic axes) writes the kept
// dims as their sizes: [1, 16, 4, 16] and [1, 16, 64] where a dynamic export
// writes [0, 0, 4, 16] and [0, 0, 64].
// CHECK-LABEL: func.func @static_literal_dims
// CHECK: %[[O:.*]] = tfc.attention %arg0, %arg1, %arg2 {num_heads = 4 : i64, scale = 2.500000e-01 : f32} : (tensor<1x16x64xf32>, tensor<1x16x64xf32>, tensor<1x16x64xf32>) -> tensor<1x16x64xf32>
// CHECK-NOT: tfc.softmax
// CHECK: return %[[O]]
func.func @static_literal_dims(%q: tensor<1x16x64xf32>, %k: tensor<1x16x64xf32>, %v: tensor<1x16x64xf32>) -> tensor<1x16x64xf32> {
  %qh = tfc.reshape %q {shape = array<i64: 1, 16, 4, 16>} : (tensor<1x16x64xf32>) -> tensor<1x16x4x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 1, 16, 4, 16>} : (tensor<1x16x64xf32>) -> tensor<1x16x4x16xf32>
  %vh = tfc.reshape %v {shape = array<i64: 1, 16, 4, 16>} : (tensor<1x16x64xf32>) -> tensor<1x16x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x16x4x16xf32>) -> tensor<1x4x16x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x16x4x16xf32>) -> tensor<1x4x16x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x16x4x16xf32>) -> tensor<1x4x16x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>) -> tensor<1x4x16x16xf32>
  %c = tfc.constant dense<0.25> : tensor<f32>
  %ss = tfc.mul %s, %c : (tensor<1x4x16x16xf32>, tensor<f32>) -> tensor<1x4x16x16xf32>
  %p = tfc.softmax %ss {axis = -1 : i64} : (tensor<1x4x16x16xf32>) -> tensor<1x4x16x16xf32>
  %o = tfc.matmul %p, %vt : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>) -> tensor<1x4x16x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x4x16x16xf32>) -> tensor<1x16x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 1, 16, 64>} : (tensor<1x16x4x16xf32>) -> tensor<1x16x64xf32>
  return %om : tensor<1x16x64xf32>
}

// -----

// Batch 2, inferred by -1 on the split; the width inferred by -1 on the
// merge. The input is static, so -1 resolves to the kept size.
// CHECK-LABEL: func.func @static_batch2_minus_one
// CHECK: %[[O:.*]] = tfc.attention %arg0, %arg1, %arg2 {num_heads = 4 : i64, scale = 2.500000e-01 : f32} : (tensor<2x16x64xf32>, tensor<2x16x64xf32>, tensor<2x16x64xf32>) -> tensor<2x16x64xf32>
// CHECK-NOT: tfc.softmax
// CHECK: return %[[O]]
func.func @static_batch2_minus_one(%q: tensor<2x16x64xf32>, %k: tensor<2x16x64xf32>, %v: tensor<2x16x64xf32>) -> tensor<2x16x64xf32> {
  %qh = tfc.reshape %q {shape = array<i64: -1, 16, 4, 16>} : (tensor<2x16x64xf32>) -> tensor<2x16x4x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: -1, 16, 4, 16>} : (tensor<2x16x64xf32>) -> tensor<2x16x4x16xf32>
  %vh = tfc.reshape %v {shape = array<i64: -1, 16, 4, 16>} : (tensor<2x16x64xf32>) -> tensor<2x16x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x16x4x16xf32>) -> tensor<2x4x16x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<2x16x4x16xf32>) -> tensor<2x4x16x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x16x4x16xf32>) -> tensor<2x4x16x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<2x4x16x16xf32>, tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  %c = tfc.constant dense<0.25> : tensor<f32>
  %ss = tfc.mul %s, %c : (tensor<2x4x16x16xf32>, tensor<f32>) -> tensor<2x4x16x16xf32>
  %p = tfc.softmax %ss {axis = -1 : i64} : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  %o = tfc.matmul %p, %vt : (tensor<2x4x16x16xf32>, tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x4x16x16xf32>) -> tensor<2x16x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 2, 16, -1>} : (tensor<2x16x4x16xf32>) -> tensor<2x16x64xf32>
  return %om : tensor<2x16x64xf32>
}

// -----

// A dynamic batch copied by 0 next to a literal sequence length.
// CHECK-LABEL: func.func @literal_seq_copied_batch
// CHECK: %[[O:.*]] = tfc.attention %arg0, %arg1, %arg2 {num_heads = 4 : i64, scale = 2.500000e-01 : f32} : (tensor<?x16x64xf32>, tensor<?x16x64xf32>, tensor<?x16x64xf32>) -> tensor<?x16x64xf32>
// CHECK-NOT: tfc.softmax
// CHECK: return %[[O]]
func.func @literal_seq_copied_batch(%q: tensor<?x16x64xf32>, %k: tensor<?x16x64xf32>, %v: tensor<?x16x64xf32>) -> tensor<?x16x64xf32> {
  %qh = tfc.reshape %q {shape = array<i64: 0, 16, 4, 16>} : (tensor<?x16x64xf32>) -> tensor<?x16x4x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 16, 4, 16>} : (tensor<?x16x64xf32>) -> tensor<?x16x4x16xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 16, 4, 16>} : (tensor<?x16x64xf32>) -> tensor<?x16x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x16x4x16xf32>) -> tensor<?x4x16x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x16x4x16xf32>) -> tensor<?x4x16x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x16x4x16xf32>) -> tensor<?x4x16x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x16x16xf32>, tensor<?x4x16x16xf32>) -> tensor<?x4x16x16xf32>
  %c = tfc.constant dense<0.25> : tensor<f32>
  %ss = tfc.mul %s, %c : (tensor<?x4x16x16xf32>, tensor<f32>) -> tensor<?x4x16x16xf32>
  %p = tfc.softmax %ss {axis = -1 : i64} : (tensor<?x4x16x16xf32>) -> tensor<?x4x16x16xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x16x16xf32>, tensor<?x4x16x16xf32>) -> tensor<?x4x16x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x16x16xf32>) -> tensor<?x16x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 16, 64>} : (tensor<?x16x4x16xf32>) -> tensor<?x16x64xf32>
  return %om : tensor<?x16x64xf32>
}

// -----

// Negative: [1, 16, 64] split as [16, 1, 4, 16] is 16 sequences of one
// token each (every token attends only to itself), not one of 16. The merge
// keeps what the split made, so only the split can refuse.
// CHECK-LABEL: func.func @split_swaps_batch_and_seq
// CHECK-NOT: tfc.attention
// CHECK: tfc.softmax
func.func @split_swaps_batch_and_seq(%q: tensor<1x16x64xf32>, %k: tensor<1x16x64xf32>, %v: tensor<1x16x64xf32>) -> tensor<16x1x64xf32> {
  %qh = tfc.reshape %q {shape = array<i64: 16, 1, 4, 16>} : (tensor<1x16x64xf32>) -> tensor<16x1x4x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 16, 1, 4, 16>} : (tensor<1x16x64xf32>) -> tensor<16x1x4x16xf32>
  %vh = tfc.reshape %v {shape = array<i64: 16, 1, 4, 16>} : (tensor<1x16x64xf32>) -> tensor<16x1x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<16x1x4x16xf32>) -> tensor<16x4x1x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<16x1x4x16xf32>) -> tensor<16x4x16x1xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<16x1x4x16xf32>) -> tensor<16x4x1x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<16x4x1x16xf32>, tensor<16x4x16x1xf32>) -> tensor<16x4x1x1xf32>
  %c = tfc.constant dense<0.25> : tensor<f32>
  %ss = tfc.mul %s, %c : (tensor<16x4x1x1xf32>, tensor<f32>) -> tensor<16x4x1x1xf32>
  %p = tfc.softmax %ss {axis = -1 : i64} : (tensor<16x4x1x1xf32>) -> tensor<16x4x1x1xf32>
  %o = tfc.matmul %p, %vt : (tensor<16x4x1x1xf32>, tensor<16x4x1x16xf32>) -> tensor<16x4x1x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<16x4x1x16xf32>) -> tensor<16x1x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<16x1x4x16xf32>) -> tensor<16x1x64xf32>
  return %om : tensor<16x1x64xf32>
}

// -----

// Negative: the heads are merged into [16, 1, 64], not the [1, 16, 64] the
// fused op would give.
// CHECK-LABEL: func.func @merge_swaps_batch_and_seq
// CHECK-NOT: tfc.attention
// CHECK: tfc.softmax
func.func @merge_swaps_batch_and_seq(%q: tensor<1x16x64xf32>, %k: tensor<1x16x64xf32>, %v: tensor<1x16x64xf32>) -> tensor<16x1x64xf32> {
  %qh = tfc.reshape %q {shape = array<i64: 1, 16, 4, 16>} : (tensor<1x16x64xf32>) -> tensor<1x16x4x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 1, 16, 4, 16>} : (tensor<1x16x64xf32>) -> tensor<1x16x4x16xf32>
  %vh = tfc.reshape %v {shape = array<i64: 1, 16, 4, 16>} : (tensor<1x16x64xf32>) -> tensor<1x16x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x16x4x16xf32>) -> tensor<1x4x16x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x16x4x16xf32>) -> tensor<1x4x16x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x16x4x16xf32>) -> tensor<1x4x16x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>) -> tensor<1x4x16x16xf32>
  %c = tfc.constant dense<0.25> : tensor<f32>
  %ss = tfc.mul %s, %c : (tensor<1x4x16x16xf32>, tensor<f32>) -> tensor<1x4x16x16xf32>
  %p = tfc.softmax %ss {axis = -1 : i64} : (tensor<1x4x16x16xf32>) -> tensor<1x4x16x16xf32>
  %o = tfc.matmul %p, %vt : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>) -> tensor<1x4x16x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x4x16x16xf32>) -> tensor<1x16x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 16, 1, 64>} : (tensor<1x16x4x16xf32>) -> tensor<16x1x64xf32>
  return %om : tensor<16x1x64xf32>
}

// -----

// Negative: the split regroups [2, 16] tokens as [4, 8]: 4 sequences of 8
// (the merge keeps [4, 8]).
// CHECK-LABEL: func.func @split_regroups_batch
// CHECK-NOT: tfc.attention
// CHECK: tfc.softmax
func.func @split_regroups_batch(%q: tensor<2x16x64xf32>, %k: tensor<2x16x64xf32>, %v: tensor<2x16x64xf32>) -> tensor<4x8x64xf32> {
  %qh = tfc.reshape %q {shape = array<i64: 4, 8, 4, 16>} : (tensor<2x16x64xf32>) -> tensor<4x8x4x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 4, 8, 4, 16>} : (tensor<2x16x64xf32>) -> tensor<4x8x4x16xf32>
  %vh = tfc.reshape %v {shape = array<i64: 4, 8, 4, 16>} : (tensor<2x16x64xf32>) -> tensor<4x8x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<4x8x4x16xf32>) -> tensor<4x4x8x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<4x8x4x16xf32>) -> tensor<4x4x16x8xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<4x8x4x16xf32>) -> tensor<4x4x8x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<4x4x8x16xf32>, tensor<4x4x16x8xf32>) -> tensor<4x4x8x8xf32>
  %c = tfc.constant dense<0.25> : tensor<f32>
  %ss = tfc.mul %s, %c : (tensor<4x4x8x8xf32>, tensor<f32>) -> tensor<4x4x8x8xf32>
  %p = tfc.softmax %ss {axis = -1 : i64} : (tensor<4x4x8x8xf32>) -> tensor<4x4x8x8xf32>
  %o = tfc.matmul %p, %vt : (tensor<4x4x8x8xf32>, tensor<4x4x8x16xf32>) -> tensor<4x4x8x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<4x4x8x16xf32>) -> tensor<4x8x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<4x8x4x16xf32>) -> tensor<4x8x64xf32>
  return %om : tensor<4x8x64xf32>
}

// -----

// A static GPT-2 export: torch's constant folding turned the causal slice
// bias[:, :, :T, :T] into a [1, 1, T, T] constant; with the padding bias
// added after it this is causal_padding, as the dynamic export's slice is.
// CHECK-LABEL: func.func @static_causal_where_table
// CHECK: tfc.attention %arg0, %arg1, %arg2, %arg3 {mask_kind = #tfc<mask causal_padding>, num_heads = 4 : i64, scale = 2.500000e-01 : f32}
// CHECK-NOT: tfc.where
func.func @static_causal_where_table(%q: tensor<1x4x64xf32>, %k: tensor<1x4x64xf32>, %v: tensor<1x4x64xf32>, %bias: tensor<1x1x1x4xf32>) -> tensor<1x4x64xf32> {
  %tri = tfc.constant dense<[[[[true, false, false, false], [true, true, false, false], [true, true, true, false], [true, true, true, true]]]]> : tensor<1x1x4x4xi1>
  %neg = tfc.constant dense<-1.0e+09> : tensor<f32>
  %qh = tfc.reshape %q {shape = array<i64: 1, 4, 4, 16>} : (tensor<1x4x64xf32>) -> tensor<1x4x4x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 1, 4, 4, 16>} : (tensor<1x4x64xf32>) -> tensor<1x4x4x16xf32>
  %vh = tfc.reshape %v {shape = array<i64: 1, 4, 4, 16>} : (tensor<1x4x64xf32>) -> tensor<1x4x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x4x4x16xf32>) -> tensor<1x4x16x4xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<1x4x4x16xf32>, tensor<1x4x16x4xf32>) -> tensor<1x4x4x4xf32>
  %c = tfc.constant dense<0.25> : tensor<f32>
  %ss = tfc.mul %s, %c : (tensor<1x4x4x4xf32>, tensor<f32>) -> tensor<1x4x4x4xf32>
  %sw = tfc.where %tri, %ss, %neg : (tensor<1x1x4x4xi1>, tensor<1x4x4x4xf32>, tensor<f32>) -> tensor<1x4x4x4xf32>
  %sm = tfc.add %sw, %bias : (tensor<1x4x4x4xf32>, tensor<1x1x1x4xf32>) -> tensor<1x4x4x4xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %o = tfc.matmul %p, %vt : (tensor<1x4x4x4xf32>, tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 1, 4, 64>} : (tensor<1x4x4x16xf32>) -> tensor<1x4x64xf32>
  return %om : tensor<1x4x64xf32>
}

// -----

// The additive form folded to a [T, T] constant: causal, no mask operand.
// CHECK-LABEL: func.func @static_causal_additive_table
// CHECK: tfc.attention %arg0, %arg1, %arg2 {mask_kind = #tfc<mask causal>, num_heads = 4 : i64, scale = 2.500000e-01 : f32}
func.func @static_causal_additive_table(%q: tensor<1x4x64xf32>, %k: tensor<1x4x64xf32>, %v: tensor<1x4x64xf32>) -> tensor<1x4x64xf32> {
  %tri = tfc.constant dense<[[0.0, -1.0e+09, -1.0e+09, -1.0e+09], [0.0, 0.0, -1.0e+09, -1.0e+09], [0.0, 0.0, 0.0, -1.0e+09], [0.0, 0.0, 0.0, 0.0]]> : tensor<4x4xf32>
  %qh = tfc.reshape %q {shape = array<i64: 1, 4, 4, 16>} : (tensor<1x4x64xf32>) -> tensor<1x4x4x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 1, 4, 4, 16>} : (tensor<1x4x64xf32>) -> tensor<1x4x4x16xf32>
  %vh = tfc.reshape %v {shape = array<i64: 1, 4, 4, 16>} : (tensor<1x4x64xf32>) -> tensor<1x4x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x4x4x16xf32>) -> tensor<1x4x16x4xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<1x4x4x16xf32>, tensor<1x4x16x4xf32>) -> tensor<1x4x4x4xf32>
  %c = tfc.constant dense<0.25> : tensor<f32>
  %ss = tfc.mul %s, %c : (tensor<1x4x4x4xf32>, tensor<f32>) -> tensor<1x4x4x4xf32>
  %sm = tfc.add %ss, %tri : (tensor<1x4x4x4xf32>, tensor<4x4xf32>) -> tensor<1x4x4x4xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %o = tfc.matmul %p, %vt : (tensor<1x4x4x4xf32>, tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 1, 4, 64>} : (tensor<1x4x4x16xf32>) -> tensor<1x4x64xf32>
  return %om : tensor<1x4x64xf32>
}

// -----

// Negative: one key above the diagonal kept; the table is a general mask.
// CHECK-LABEL: func.func @static_table_not_triangular
// CHECK: %[[T:.*]] = tfc.constant {{.*}} : tensor<1x1x4x4xi1>
// CHECK: tfc.attention %arg0, %arg1, %arg2, %[[T]] {mask_kind = #tfc<mask padding>
func.func @static_table_not_triangular(%q: tensor<1x4x64xf32>, %k: tensor<1x4x64xf32>, %v: tensor<1x4x64xf32>) -> tensor<1x4x64xf32> {
  %tri = tfc.constant dense<[[[[true, false, false, false], [true, true, true, false], [true, true, true, false], [true, true, true, true]]]]> : tensor<1x1x4x4xi1>
  %neg = tfc.constant dense<-1.0e+09> : tensor<f32>
  %qh = tfc.reshape %q {shape = array<i64: 1, 4, 4, 16>} : (tensor<1x4x64xf32>) -> tensor<1x4x4x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 1, 4, 4, 16>} : (tensor<1x4x64xf32>) -> tensor<1x4x4x16xf32>
  %vh = tfc.reshape %v {shape = array<i64: 1, 4, 4, 16>} : (tensor<1x4x64xf32>) -> tensor<1x4x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x4x4x16xf32>) -> tensor<1x4x16x4xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<1x4x4x16xf32>, tensor<1x4x16x4xf32>) -> tensor<1x4x4x4xf32>
  %c = tfc.constant dense<0.25> : tensor<f32>
  %ss = tfc.mul %s, %c : (tensor<1x4x4x4xf32>, tensor<f32>) -> tensor<1x4x4x4xf32>
  %sm = tfc.where %tri, %ss, %neg : (tensor<1x1x4x4xi1>, tensor<1x4x4x4xf32>, tensor<f32>) -> tensor<1x4x4x4xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %o = tfc.matmul %p, %vt : (tensor<1x4x4x4xf32>, tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 1, 4, 64>} : (tensor<1x4x4x16xf32>) -> tensor<1x4x64xf32>
  return %om : tensor<1x4x64xf32>
}

// -----

// Negative: a [1, 1] true table is triangular but broadcasts over every
// key: it keeps them all, so it is not a causal mask.
// CHECK-LABEL: func.func @one_by_one_table_is_not_causal
// CHECK: %[[T:.*]] = tfc.constant dense<true> : tensor<1x1xi1>
// CHECK: tfc.attention %arg0, %arg1, %arg2, %[[T]] {mask_kind = #tfc<mask padding>
func.func @one_by_one_table_is_not_causal(%q: tensor<1x4x64xf32>, %k: tensor<1x4x64xf32>, %v: tensor<1x4x64xf32>) -> tensor<1x4x64xf32> {
  %tri = tfc.constant dense<true> : tensor<1x1xi1>
  %neg = tfc.constant dense<-1.0e+09> : tensor<f32>
  %qh = tfc.reshape %q {shape = array<i64: 1, 4, 4, 16>} : (tensor<1x4x64xf32>) -> tensor<1x4x4x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 1, 4, 4, 16>} : (tensor<1x4x64xf32>) -> tensor<1x4x4x16xf32>
  %vh = tfc.reshape %v {shape = array<i64: 1, 4, 4, 16>} : (tensor<1x4x64xf32>) -> tensor<1x4x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x4x4x16xf32>) -> tensor<1x4x16x4xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<1x4x4x16xf32>, tensor<1x4x16x4xf32>) -> tensor<1x4x4x4xf32>
  %c = tfc.constant dense<0.25> : tensor<f32>
  %ss = tfc.mul %s, %c : (tensor<1x4x4x4xf32>, tensor<f32>) -> tensor<1x4x4x4xf32>
  %sm = tfc.where %tri, %ss, %neg : (tensor<1x1xi1>, tensor<1x4x4x4xf32>, tensor<f32>) -> tensor<1x4x4x4xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %o = tfc.matmul %p, %vt : (tensor<1x4x4x4xf32>, tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 1, 4, 64>} : (tensor<1x4x4x16xf32>) -> tensor<1x4x64xf32>
  return %om : tensor<1x4x64xf32>
}
