// RUN: tfc-opt %s -split-input-file -tfc-fuse-attention -tfc-report-fusions -verify-diagnostics -o /dev/null

// The "why not fused" reasons for the negative cases of
// fuse_attention_clamp_qkv.mlir, and a softmax after a clamp of the scores is
// a candidate (before, a tfc.max on the scores hid the block from the report).

// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 0, linear 0}}
func.func @clamp_not_lowest(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %mask: tensor<?x1x?x?xf32>) -> tensor<?x?x64xf32> {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %q4 = tfc.constant dense<2.500000e-01> : tensor<f32>
  %ss = tfc.mul %s, %q4 : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %sa = tfc.add %ss, %mask : (tensor<?x4x?x?xf32>, tensor<?x1x?x?xf32>) -> tensor<?x4x?x?xf32>
  %floor = tfc.constant dense<-1.000000e+04> : tensor<f32>
  %sm = tfc.max %sa, %floor : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  // expected-remark @below {{unfused attention candidate: the scores are clamped at -1.000000e+04, not at the lowest float}}
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 0, linear 0}}
func.func @clamp_then_scale(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %mask: tensor<?x1x?x?xf32>) -> tensor<?x?x64xf32> {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %q4 = tfc.constant dense<2.500000e-01> : tensor<f32>
  %ss = tfc.mul %s, %q4 : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %sa = tfc.add %ss, %mask : (tensor<?x4x?x?xf32>, tensor<?x1x?x?xf32>) -> tensor<?x4x?x?xf32>
  %floor = tfc.constant dense<-3.40282347E+38> : tensor<f32>
  %sm = tfc.max %sa, %floor : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %two = tfc.constant dense<2.000000e+00> : tensor<f32>
  %sx = tfc.mul %sm, %two : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  // expected-remark @below {{unfused attention candidate: the clamp of the scores is not right before the softmax}}
  %p = tfc.softmax %sx {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 0, linear 0}}
func.func @qkv_split_over_heads_axis(%qkv: tensor<?x?x192xf32>, %alibi: tensor<?x4x1x?xf32>, %pad: tensor<?x1x?x?xi1>) -> tensor<?x?x64xf32> {
  %h = tfc.reshape %qkv {shape = array<i64: 0, 0, 3, 4, 16>} : (tensor<?x?x192xf32>) -> tensor<?x?x3x4x16xf32>
  %c0 = tfc.constant dense<0> : tensor<i64>
  %c1 = tfc.constant dense<1> : tensor<i64>
  %c2 = tfc.constant dense<2> : tensor<i64>
  %qh = tfc.gather %h, %c0 {axis = 2 : i64} : (tensor<?x?x3x4x16xf32>, tensor<i64>) -> tensor<?x?x4x16xf32>
  %kh = tfc.gather %h, %c1 {axis = 2 : i64} : (tensor<?x?x3x4x16xf32>, tensor<i64>) -> tensor<?x?x4x16xf32>
  %vh = tfc.gather %h, %c2 {axis = 2 : i64} : (tensor<?x?x3x4x16xf32>, tensor<i64>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %inv = tfc.constant dense<2.500000e-01> : tensor<f32>
  %ss = tfc.mul %s, %inv : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %sa = tfc.add %ss, %alibi : (tensor<?x4x?x?xf32>, tensor<?x4x1x?xf32>) -> tensor<?x4x?x?xf32>
  %low = tfc.constant dense<-3.40282347E+38> : tensor<f32>
  %sm = tfc.where %pad, %low, %sa : (tensor<?x1x?x?xi1>, tensor<f32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  // expected-remark @below {{unfused attention candidate: Q is not split into heads by reshape [0,0,H,dh] + transpose [0,2,1,3]}}
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}
