// RUN: tfc-opt %s -split-input-file -tfc-canonicalize -tfc-fuse-attention | FileCheck %s

// Attention blocks of transformers' OPT and BLOOM ONNX exports after the ONNX
// importer (tests/onnx/arch/models/opt.onnx, bloom.onnx): a clamp of the
// scores at the lowest float, and Q, K, V gathered from one fused QKV
// projection with an ALiBi bias. D = 64, H = 4, dh = 16; B, S, T dynamic.
// fusion_report_clamp_qkv.mlir checks the reasons of the negative cases.

// OPT: torch.max(scores + mask, finfo.min) before the softmax. The clamp only
// changes -inf entries (rows where every key is hidden: a uniform average over
// every key instead of NaN); the fused op's mask is clamped the same way, so
// hidden keys score the lowest float there too (runtime_kernels_test
// AttentionLowestFloatMaskAveragesFullyHiddenRows checks the kernel side).
// CHECK-LABEL: func.func @opt_clamp
// CHECK: %[[LOW:.*]] = tfc.constant dense<-3.40282347E+38> : tensor<f32>
// CHECK: %[[M:.*]] = tfc.max %arg3, %[[LOW]]
// CHECK: tfc.attention %arg0, %arg1, %arg2, %[[M]] {mask_kind = #tfc<mask padding>, num_heads = 4 : i64, scale = 2.500000e-01 : f32}
// CHECK-NOT: tfc.softmax
func.func @opt_clamp(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %mask: tensor<?x1x?x?xf32>) -> tensor<?x?x64xf32> {
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
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// OPT's mask: a causal table (0 / finfo.min) masked_fill-ed with finfo.min
// where padding hides a key, then the clamp. Under the clamp the causal table
// stays in the mask (mask_kind padding, not causal; the masked_fill stays
// whole): a fully hidden row (left padding) averages over every key, the
// causally hidden ones included, which the causal rule (dropping those keys)
// would not give.
// CHECK-LABEL: func.func @opt_clamp_causal
// CHECK: %[[TRI:.*]] = tfc.slice
// CHECK: %[[FILL:.*]] = tfc.where %arg3, %{{.*}}, %[[TRI]]
// CHECK: %[[M:.*]] = tfc.max %[[FILL]], %{{.*}}
// CHECK: tfc.attention %arg0, %arg1, %arg2, %[[M]] {mask_kind = #tfc<mask padding>, num_heads = 4 : i64, scale = 2.500000e-01 : f32}
// CHECK-NOT: tfc.softmax
func.func @opt_clamp_causal(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %hide: tensor<?x1x1x?xi1>) -> tensor<?x?x64xf32> {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %table = tfc.constant dense<[[0.0, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38], [0.0, 0.0, -3.40282347E+38, -3.40282347E+38], [0.0, 0.0, 0.0, -3.40282347E+38], [0.0, 0.0, 0.0, 0.0]]> : tensor<4x4xf32>
  %starts = tfc.constant dense<0> : tensor<2xi64>
  %i1 = tfc.constant dense<1> : tensor<1xi64>
  %shp = tfc.shape %q : (tensor<?x?x64xf32>) -> tensor<3xi64>
  %t = tfc.gather %shp, %i1 {axis = 0 : i64} : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  %ends = tfc.concat %t, %t {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %tri = tfc.slice %table, %starts, %ends {axes = array<i64: 0, 1>} : (tensor<4x4xf32>, tensor<2xi64>, tensor<2xi64>) -> tensor<?x?xf32>
  %low = tfc.constant dense<-3.40282347E+38> : tensor<f32>
  %m = tfc.where %hide, %low, %tri : (tensor<?x1x1x?xi1>, tensor<f32>, tensor<?x?xf32>) -> tensor<?x1x?x?xf32>
  %q4 = tfc.constant dense<2.500000e-01> : tensor<f32>
  %ss = tfc.mul %s, %q4 : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %sa = tfc.add %ss, %m : (tensor<?x4x?x?xf32>, tensor<?x1x?x?xf32>) -> tensor<?x4x?x?xf32>
  %sm = tfc.max %sa, %low : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// Negative: a clamp at -1e4 changes visible scores below -1e4: not fused.
// CHECK-LABEL: func.func @clamp_not_lowest
// CHECK: tfc.max
// CHECK: tfc.softmax
// CHECK-NOT: tfc.attention
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
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// Negative: the clamp is followed by a scale (the clamp is not right before
// the softmax): not fused.
// CHECK-LABEL: func.func @clamp_then_scale
// CHECK: tfc.softmax
// CHECK-NOT: tfc.attention
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
  %p = tfc.softmax %sx {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// BLOOM: one QKV projection reshaped to [B, S, H, 3, dh], Q, K and V gathered
// on axis 3; the ALiBi bias [B, H, 1, T] added after the scale; padding as
// where(hide, finfo.min, scores) right before the softmax (hidden keys score
// the lowest float: the mask is clamped there). Q, K, V reach the fused op
// flattened to [B, S, H*dh].
// CHECK-LABEL: func.func @bloom_qkv_alibi
// CHECK: %[[H:.*]] = tfc.reshape %arg0 {shape = array<i64: 0, 0, 4, 3, 16>}
// CHECK-DAG: %[[Q4:.*]] = tfc.gather %[[H]], %{{.*}} {axis = 3 : i64}
// CHECK-DAG: %[[K4:.*]] = tfc.gather %[[H]], %{{.*}} {axis = 3 : i64}
// CHECK-DAG: %[[V4:.*]] = tfc.gather %[[H]], %{{.*}} {axis = 3 : i64}
// CHECK: %[[BIAS:.*]] = tfc.where %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x1x?x?xi1>, tensor<f32>, tensor<f32>) -> tensor<?x1x?x?xf32>
// CHECK: %[[SUM:.*]] = tfc.add %arg1, %[[BIAS]]
// CHECK: %[[M:.*]] = tfc.max %[[SUM]], %{{.*}}
// CHECK-DAG: %[[V:.*]] = tfc.reshape %[[V4]] {shape = array<i64: 0, 0, 64>}
// CHECK-DAG: %[[K:.*]] = tfc.reshape %[[K4]] {shape = array<i64: 0, 0, 64>}
// CHECK-DAG: %[[Q:.*]] = tfc.reshape %[[Q4]] {shape = array<i64: 0, 0, 64>}
// CHECK: tfc.attention %[[Q]], %[[K]], %[[V]], %[[M]] {mask_kind = #tfc<mask padding>, num_heads = 4 : i64, scale = 2.500000e-01 : f32}
// CHECK-NOT: tfc.softmax
func.func @bloom_qkv_alibi(%qkv: tensor<?x?x192xf32>, %alibi: tensor<?x4x1x?xf32>, %pad: tensor<?x1x?x?xi1>) -> tensor<?x?x64xf32> {
  %h = tfc.reshape %qkv {shape = array<i64: 0, 0, 4, 3, 16>} : (tensor<?x?x192xf32>) -> tensor<?x?x4x3x16xf32>
  %c0 = tfc.constant dense<0> : tensor<i64>
  %c1 = tfc.constant dense<1> : tensor<i64>
  %c2 = tfc.constant dense<2> : tensor<i64>
  %qh = tfc.gather %h, %c0 {axis = 3 : i64} : (tensor<?x?x4x3x16xf32>, tensor<i64>) -> tensor<?x?x4x16xf32>
  %kh = tfc.gather %h, %c1 {axis = 3 : i64} : (tensor<?x?x4x3x16xf32>, tensor<i64>) -> tensor<?x?x4x16xf32>
  %vh = tfc.gather %h, %c2 {axis = 3 : i64} : (tensor<?x?x4x3x16xf32>, tensor<i64>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %inv = tfc.constant dense<2.500000e-01> : tensor<f32>
  %ss = tfc.mul %s, %inv : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %sa = tfc.add %ss, %alibi : (tensor<?x4x?x?xf32>, tensor<?x4x1x?xf32>) -> tensor<?x4x?x?xf32>
  %low = tfc.constant dense<-3.40282347E+38> : tensor<f32>
  %sm = tfc.where %pad, %low, %sa : (tensor<?x1x?x?xi1>, tensor<f32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// Which part of the split is Q, K or V does not matter (each is used as it
// is): parts 2, 0, 1 fuse the same way, with the operands in that order.
// CHECK-LABEL: func.func @bloom_qkv_other_order
// CHECK-DAG: %[[C0:.*]] = tfc.constant dense<0> : tensor<i64>
// CHECK-DAG: %[[C1:.*]] = tfc.constant dense<1> : tensor<i64>
// CHECK-DAG: %[[C2:.*]] = tfc.constant dense<2> : tensor<i64>
// CHECK-DAG: %[[Q4:.*]] = tfc.gather %{{.*}}, %[[C2]] {axis = 3 : i64}
// CHECK-DAG: %[[K4:.*]] = tfc.gather %{{.*}}, %[[C0]] {axis = 3 : i64}
// CHECK-DAG: %[[V4:.*]] = tfc.gather %{{.*}}, %[[C1]] {axis = 3 : i64}
// CHECK-DAG: %[[Q:.*]] = tfc.reshape %[[Q4]] {shape = array<i64: 0, 0, 64>}
// CHECK-DAG: %[[K:.*]] = tfc.reshape %[[K4]] {shape = array<i64: 0, 0, 64>}
// CHECK-DAG: %[[V:.*]] = tfc.reshape %[[V4]] {shape = array<i64: 0, 0, 64>}
// CHECK: tfc.attention %[[Q]], %[[K]], %[[V]], %{{.*}} {mask_kind = #tfc<mask padding>
func.func @bloom_qkv_other_order(%qkv: tensor<?x?x192xf32>, %alibi: tensor<?x4x1x?xf32>, %pad: tensor<?x1x?x?xi1>) -> tensor<?x?x64xf32> {
  %h = tfc.reshape %qkv {shape = array<i64: 0, 0, 4, 3, 16>} : (tensor<?x?x192xf32>) -> tensor<?x?x4x3x16xf32>
  %c0 = tfc.constant dense<2> : tensor<i64>
  %c1 = tfc.constant dense<0> : tensor<i64>
  %c2 = tfc.constant dense<1> : tensor<i64>
  %qh = tfc.gather %h, %c0 {axis = 3 : i64} : (tensor<?x?x4x3x16xf32>, tensor<i64>) -> tensor<?x?x4x16xf32>
  %kh = tfc.gather %h, %c1 {axis = 3 : i64} : (tensor<?x?x4x3x16xf32>, tensor<i64>) -> tensor<?x?x4x16xf32>
  %vh = tfc.gather %h, %c2 {axis = 3 : i64} : (tensor<?x?x4x3x16xf32>, tensor<i64>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %inv = tfc.constant dense<2.500000e-01> : tensor<f32>
  %ss = tfc.mul %s, %inv : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %sa = tfc.add %ss, %alibi : (tensor<?x4x?x?xf32>, tensor<?x4x1x?xf32>) -> tensor<?x4x?x?xf32>
  %low = tfc.constant dense<-3.40282347E+38> : tensor<f32>
  %sm = tfc.where %pad, %low, %sa : (tensor<?x1x?x?xi1>, tensor<f32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// Negative: the parts are gathered on axis 2 of [B, S, 3, H, dh] (the axis
// before the heads), a layout the matcher does not take as a QKV split (only
// the parts axis right after the heads, as BLOOM writes it): not fused.
// CHECK-LABEL: func.func @qkv_split_over_heads_axis
// CHECK: tfc.softmax
// CHECK-NOT: tfc.attention
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
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// The clamp over a causal table alone: no row hides every key, so the causal
// rule gives what the graph gives; no mask operand (and KV caches stay derivable).
// CHECK-LABEL: func.func @opt_clamp_causal_only
// CHECK: tfc.attention %arg0, %arg1, %arg2 {mask_kind = #tfc<mask causal>, num_heads = 4 : i64, scale = 2.500000e-01 : f32}
// CHECK-NOT: tfc.max
func.func @opt_clamp_causal_only(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %table = tfc.constant dense<[[0.0, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38], [0.0, 0.0, -3.40282347E+38, -3.40282347E+38], [0.0, 0.0, 0.0, -3.40282347E+38], [0.0, 0.0, 0.0, 0.0]]> : tensor<4x4xf32>
  %starts = tfc.constant dense<0> : tensor<2xi64>
  %i1 = tfc.constant dense<1> : tensor<1xi64>
  %shp = tfc.shape %q : (tensor<?x?x64xf32>) -> tensor<3xi64>
  %t = tfc.gather %shp, %i1 {axis = 0 : i64} : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  %ends = tfc.concat %t, %t {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %tri = tfc.slice %table, %starts, %ends {axes = array<i64: 0, 1>} : (tensor<4x4xf32>, tensor<2xi64>, tensor<2xi64>) -> tensor<?x?xf32>
  %low = tfc.constant dense<-3.40282347E+38> : tensor<f32>
  %q4 = tfc.constant dense<2.500000e-01> : tensor<f32>
  %ss = tfc.mul %s, %q4 : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %sa = tfc.add %ss, %tri : (tensor<?x4x?x?xf32>, tensor<?x?xf32>) -> tensor<?x4x?x?xf32>
  %sm = tfc.max %sa, %low : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}
