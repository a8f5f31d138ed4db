// RUN: tfc-opt %s | tfc-opt | FileCheck %s
// RUN: tfc-opt %s -mlir-print-op-generic | tfc-opt | FileCheck %s

// Every tfc op, parsed, printed and parsed again.

// CHECK-LABEL: func.func @sources
// CHECK: tfc.constant dense<1.250000e-01> : tensor<f32>
// CHECK: tfc.constant dense<[1, 2]> : tensor<2xi64>
// CHECK: tfc.weight "encoder.layers.0.q.weight" : tensor<64x64xf32>
func.func @sources() -> (tensor<f32>, tensor<2xi64>, tensor<64x64xf32>) {
  %c = tfc.constant dense<0.125> : tensor<f32>
  %i = tfc.constant dense<[1, 2]> : tensor<2xi64>
  %w = tfc.weight "encoder.layers.0.q.weight" : tensor<64x64xf32>
  return %c, %i, %w : tensor<f32>, tensor<2xi64>, tensor<64x64xf32>
}

// CHECK-LABEL: func.func @elementwise
// CHECK: tfc.add %arg0, %arg1 : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
// CHECK: tfc.sub
// CHECK: tfc.mul
// CHECK: tfc.div
// CHECK: tfc.pow
// CHECK: tfc.max
// CHECK: tfc.sqrt
// CHECK: tfc.erf
// CHECK: tfc.tanh
// CHECK: tfc.relu
// CHECK: tfc.exp
// CHECK: tfc.neg
// CHECK: tfc.gelu %{{.*}} : (tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
// CHECK: tfc.gelu %{{.*}} {approximate = #tfc<gelu tanh>}
// CHECK: tfc.where %arg2, %{{.*}}, %arg0 : (tensor<?x1x1x64xi1>, tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x?x64xf32>
// CHECK: tfc.cast %arg2 : (tensor<?x1x1x64xi1>) -> tensor<?x1x1x64xf32>
func.func @elementwise(%x: tensor<?x?x64xf32>, %b: tensor<64xf32>, %keep: tensor<?x1x1x64xi1>) -> (tensor<?x?x?x64xf32>, tensor<?x1x1x64xf32>) {
  %0 = tfc.add %x, %b : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  %1 = tfc.sub %0, %b : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  %2 = tfc.mul %1, %x : (tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %3 = tfc.div %2, %x : (tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %4 = tfc.pow %3, %b : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  %5 = tfc.max %4, %x : (tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %6 = tfc.sqrt %5 : (tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %7 = tfc.erf %6 : (tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %8 = tfc.tanh %7 : (tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %9 = tfc.relu %8 : (tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %10 = tfc.exp %9 : (tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %11 = tfc.neg %10 : (tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %12 = tfc.gelu %11 : (tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %13 = tfc.gelu %12 {approximate = #tfc<gelu tanh>} : (tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %14 = tfc.where %keep, %13, %x : (tensor<?x1x1x64xi1>, tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x?x64xf32>
  %15 = tfc.cast %keep : (tensor<?x1x1x64xi1>) -> tensor<?x1x1x64xf32>
  return %14, %15 : tensor<?x?x?x64xf32>, tensor<?x1x1x64xf32>
}

// CHECK-LABEL: func.func @linalg_and_norms
// CHECK: tfc.matmul %{{.*}}, %{{.*}} : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
// CHECK: tfc.softmax %{{.*}} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
// CHECK: tfc.softmax %{{.*}} {axis = 2 : i64}
// CHECK: tfc.reduce_mean %arg2 {axes = array<i64: -1>} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
// CHECK: tfc.reduce_sum %arg2 {axes = array<i64: 1>, keepdims = false} : (tensor<?x?x64xf32>) -> tensor<?x64xf32>
// CHECK: tfc.layer_normalization %arg2, %arg3, %arg3 {epsilon = 9.99999996E-13 : f32}
// CHECK: tfc.layer_normalization %arg2, %arg3 : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
func.func @linalg_and_norms(%q: tensor<?x4x?x16xf32>, %k: tensor<?x4x16x?xf32>, %x: tensor<?x?x64xf32>, %g: tensor<64xf32>)
    -> (tensor<?x4x?x?xf32>, tensor<?x4x?x?xf32>, tensor<?x?x1xf32>, tensor<?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>) {
  %s = tfc.matmul %q, %k : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %s {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p2 = tfc.softmax %s {axis = 2 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %m = tfc.reduce_mean %x {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %r = tfc.reduce_sum %x {axes = array<i64: 1>, keepdims = false} : (tensor<?x?x64xf32>) -> tensor<?x64xf32>
  %ln = tfc.layer_normalization %x, %g, %g {axis = -1 : i64, epsilon = 1.0e-12 : f32} : (tensor<?x?x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  %ln2 = tfc.layer_normalization %x, %g : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  return %p, %p2, %m, %r, %ln, %ln2 : tensor<?x4x?x?xf32>, tensor<?x4x?x?xf32>, tensor<?x?x1xf32>, tensor<?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>
}

// CHECK-LABEL: func.func @data_movement
// CHECK: tfc.gather %arg0, %arg1 : (tensor<512x64xf32>, tensor<?x?xi64>) -> tensor<?x?x64xf32>
// CHECK: tfc.transpose %{{.*}} {perm = array<i64: 0, 2, 1>} : (tensor<?x?x64xf32>) -> tensor<?x64x?xf32>
// CHECK: tfc.reshape %{{.*}} {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
// CHECK: tfc.shape %arg1 : (tensor<?x?xi64>) -> tensor<2xi64>
// CHECK: tfc.concat %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
// CHECK: tfc.slice %arg0, %{{.*}}, %{{.*}} {axes = array<i64: 0>, steps = array<i64: 2>} : (tensor<512x64xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x64xf32>
// CHECK: tfc.expand %{{.*}}, %{{.*}} : (tensor<1x64xf32>, tensor<2xi64>) -> tensor<?x64xf32>
func.func @data_movement(%table: tensor<512x64xf32>, %ids: tensor<?x?xi64>, %row: tensor<1x64xf32>)
    -> (tensor<?x64x?xf32>, tensor<?x?x4x16xf32>, tensor<4xi64>, tensor<?x64xf32>, tensor<?x64xf32>) {
  %e = tfc.gather %table, %ids {axis = 0 : i64} : (tensor<512x64xf32>, tensor<?x?xi64>) -> tensor<?x?x64xf32>
  %t = tfc.transpose %e {perm = array<i64: 0, 2, 1>} : (tensor<?x?x64xf32>) -> tensor<?x64x?xf32>
  %h = tfc.reshape %e {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %s = tfc.shape %ids : (tensor<?x?xi64>) -> tensor<2xi64>
  %c = tfc.concat %s, %s {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %st = tfc.constant dense<0> : tensor<1xi64>
  %en = tfc.constant dense<64> : tensor<1xi64>
  %sl = tfc.slice %table, %st, %en {axes = array<i64: 0>, steps = array<i64: 2>} : (tensor<512x64xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x64xf32>
  %x = tfc.expand %row, %s : (tensor<1x64xf32>, tensor<2xi64>) -> tensor<?x64xf32>
  return %t, %h, %c, %sl, %x : tensor<?x64x?xf32>, tensor<?x?x4x16xf32>, tensor<4xi64>, tensor<?x64xf32>, tensor<?x64xf32>
}

// CHECK-LABEL: func.func @fused
// CHECK: tfc.layer_norm %arg0, %arg3, %arg3 residual(%arg0) {epsilon = 9.99999974E-6 : f32} : (tensor<?x?x64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
// CHECK: tfc.attention %arg0, %arg0, %arg0, %arg1 {mask_kind = #tfc<mask causal_padding>, num_heads = 4 : i64, scale = 2.500000e-01 : f32} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x1x1x?xf32>) -> tensor<?x?x64xf32>
// CHECK: tfc.attention %arg0, %arg0, %arg0 {mask_kind = #tfc<mask causal>, num_heads = 4 : i64, scale = 1.000000e+00 : f32}
// CHECK: %[[L0:.*]] = tfc.linear %arg0, %arg2 : (tensor<?x?x64xf32>, tensor<64x256xf32>) -> tensor<?x?x256xf32>
// CHECK: tfc.linear %arg0, %arg2 bias(%arg4) residual(%[[L0]]) {activation = #tfc<activation gelu_tanh>} : (tensor<?x?x64xf32>, tensor<64x256xf32>, tensor<256xf32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
// CHECK: tfc.embedding %arg5, %arg6, %arg7 types(%arg5, %arg8) {scale = 8.000000e+00 : f32} : (tensor<?x?xi64>, tensor<512x64xf32>, tensor<128x64xf32>, tensor<?x?xi64>, tensor<2x64xf32>) -> tensor<?x?x64xf32>
// CHECK: tfc.embedding %arg5, %arg6, %arg7 : (tensor<?x?xi64>, tensor<512x64xf32>, tensor<128x64xf32>) -> tensor<?x?x64xf32>
func.func @fused(%x: tensor<?x?x64xf32>, %m: tensor<?x1x1x?xf32>, %w: tensor<64x256xf32>, %g: tensor<64xf32>, %b: tensor<256xf32>,
                 %ids: tensor<?x?xi64>, %tok: tensor<512x64xf32>, %pos: tensor<128x64xf32>, %types: tensor<2x64xf32>)
    -> (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x256xf32>, tensor<?x?x256xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>) {
  %ln = tfc.layer_norm %x, %g, %g residual(%x) {epsilon = 1.0e-5 : f32} : (tensor<?x?x64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %a = tfc.attention %x, %x, %x, %m {num_heads = 4 : i64, scale = 0.25 : f32, mask_kind = #tfc<mask causal_padding>} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x1x1x?xf32>) -> tensor<?x?x64xf32>
  %c = tfc.attention %x, %x, %x {num_heads = 4 : i64, scale = 1.0 : f32, mask_kind = #tfc<mask causal>} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %l0 = tfc.linear %x, %w : (tensor<?x?x64xf32>, tensor<64x256xf32>) -> tensor<?x?x256xf32>
  %l = tfc.linear %x, %w bias(%b) residual(%l0) {activation = #tfc<activation gelu_tanh>} : (tensor<?x?x64xf32>, tensor<64x256xf32>, tensor<256xf32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  %e = tfc.embedding %ids, %tok, %pos types(%ids, %types) {scale = 8.0 : f32} : (tensor<?x?xi64>, tensor<512x64xf32>, tensor<128x64xf32>, tensor<?x?xi64>, tensor<2x64xf32>) -> tensor<?x?x64xf32>
  %e2 = tfc.embedding %ids, %tok, %pos : (tensor<?x?xi64>, tensor<512x64xf32>, tensor<128x64xf32>) -> tensor<?x?x64xf32>
  return %ln, %a, %c, %l, %l0, %e, %e2 : tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x256xf32>, tensor<?x?x256xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>
}

// CHECK-LABEL: func.func @log
// CHECK: tfc.log %arg0 : (tensor<?x64xf32>) -> tensor<?x64xf32>
func.func @log(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %0 = tfc.log %x : (tensor<?x64xf32>) -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}
