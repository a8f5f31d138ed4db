// RUN: tfc-opt %s -tfc-fuse-layer-norm -split-input-file | FileCheck %s

// The decomposed form: pow for the square, div by the std, gamma and beta.
// CHECK-LABEL: func.func @decomposed_pow_div
// CHECK: %[[Y:.*]] = tfc.layer_norm %arg0, %arg1, %arg2 {epsilon = 9.99999996E-13 : f32} : (tensor<?x?x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
// CHECK-NOT: tfc.reduce_mean
// CHECK-NOT: tfc.sqrt
// CHECK: return %[[Y]]
func.func @decomposed_pow_div(%x: tensor<?x?x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>) -> tensor<?x?x64xf32> {
  %two = tfc.constant dense<2.0> : tensor<f32>
  %eps = tfc.constant dense<1.0e-12> : tensor<f32>
  %mean = tfc.reduce_mean %x {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %d = tfc.sub %x, %mean : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  %sq = tfc.pow %d, %two : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  %var = tfc.reduce_mean %sq {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %ve = tfc.add %var, %eps : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %std = tfc.sqrt %ve : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %n = tfc.div %d, %std : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  %gn = tfc.mul %n, %g : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  %y = tfc.add %gn, %b : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// -----

// d * d for the square, multiply by 1 / std, axes given as the positive last
// index, every commutative op with its operands swapped.
// CHECK-LABEL: func.func @decomposed_mul_reciprocal
// CHECK: tfc.layer_norm %arg0, %arg1, %arg2 {epsilon = 9.99999974E-6 : f32}
// CHECK-NOT: tfc.reduce_mean
func.func @decomposed_mul_reciprocal(%x: tensor<?x?x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>) -> tensor<?x?x64xf32> {
  %one = tfc.constant dense<1.0> : tensor<f32>
  %eps = tfc.constant dense<1.0e-5> : tensor<f32>
  %mean = tfc.reduce_mean %x {axes = array<i64: 2>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %d = tfc.sub %x, %mean : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  %sq = tfc.mul %d, %d : (tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %var = tfc.reduce_mean %sq {axes = array<i64: 2>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %ve = tfc.add %eps, %var : (tensor<f32>, tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %std = tfc.sqrt %ve : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %r = tfc.div %one, %std : (tensor<f32>, tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %n = tfc.mul %r, %d : (tensor<?x?x1xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %gn = tfc.mul %g, %n : (tensor<64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %y = tfc.add %b, %gn : (tensor<64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// -----

// No gamma and beta: they become constants of 1 and 0.
// CHECK-LABEL: func.func @decomposed_no_affine
// CHECK-DAG: %[[ONES:.*]] = tfc.constant dense<1.000000e+00> : tensor<64xf32>
// CHECK-DAG: %[[ZEROS:.*]] = tfc.constant dense<0.000000e+00> : tensor<64xf32>
// CHECK: tfc.layer_norm %arg0, %[[ONES]], %[[ZEROS]] {epsilon = 9.99999974E-6 : f32}
func.func @decomposed_no_affine(%x: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %two = tfc.constant dense<2.0> : tensor<f32>
  %eps = tfc.constant dense<1.0e-5> : tensor<f32>
  %mean = tfc.reduce_mean %x {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %d = tfc.sub %x, %mean : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  %sq = tfc.pow %d, %two : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  %var = tfc.reduce_mean %sq {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %ve = tfc.add %var, %eps : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %std = tfc.sqrt %ve : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %n = tfc.div %d, %std : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  return %n : tensor<?x?x64xf32>
}

// -----

// Gamma without beta (weights as tfc.weight).
// CHECK-LABEL: func.func @decomposed_gamma_only
// CHECK-DAG: %[[G:.*]] = tfc.weight "ln.weight"
// CHECK-DAG: %[[ZEROS:.*]] = tfc.constant dense<0.000000e+00> : tensor<64xf32>
// CHECK: tfc.layer_norm %arg0, %[[G]], %[[ZEROS]]
func.func @decomposed_gamma_only(%x: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %g = tfc.weight "ln.weight" : tensor<64xf32>
  %two = tfc.constant dense<2.0> : tensor<f32>
  %eps = tfc.constant dense<1.0e-5> : tensor<f32>
  %mean = tfc.reduce_mean %x {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %d = tfc.sub %x, %mean : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  %sq = tfc.pow %d, %two : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  %var = tfc.reduce_mean %sq {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %ve = tfc.add %var, %eps : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %std = tfc.sqrt %ve : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %n = tfc.div %d, %std : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  %y = tfc.mul %n, %g : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// -----

// tfc.layer_normalization over the last axis, with and without bias.
// CHECK-LABEL: func.func @primitive_layer_normalization
// CHECK-DAG: %[[ZEROS:.*]] = tfc.constant dense<0.000000e+00> : tensor<64xf32>
// CHECK-DAG: %[[Y:.*]] = tfc.layer_norm %arg0, %arg1, %arg2 {epsilon = 9.99999974E-6 : f32}
// CHECK: tfc.layer_norm %[[Y]], %arg1, %[[ZEROS]] {epsilon = 1.000000e-03 : f32}
// CHECK-NOT: tfc.layer_normalization
func.func @primitive_layer_normalization(%x: tensor<?x?x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>) -> tensor<?x?x64xf32> {
  %y = tfc.layer_normalization %x, %g, %b {axis = -1 : i64, epsilon = 1.0e-05 : f32} : (tensor<?x?x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  %z = tfc.layer_normalization %y, %g {axis = 2 : i64, epsilon = 1.0e-03 : f32} : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  return %z : tensor<?x?x64xf32>
}

// -----

// Negative: eps added after sqrt is not layer norm.
// CHECK-LABEL: func.func @eps_after_sqrt
// CHECK-NOT: tfc.layer_norm
// CHECK: tfc.reduce_mean
// CHECK: tfc.sqrt
func.func @eps_after_sqrt(%x: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %two = tfc.constant dense<2.0> : tensor<f32>
  %eps = tfc.constant dense<1.0e-5> : tensor<f32>
  %mean = tfc.reduce_mean %x {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %d = tfc.sub %x, %mean : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  %sq = tfc.pow %d, %two : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  %var = tfc.reduce_mean %sq {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %s = tfc.sqrt %var : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %std = tfc.add %s, %eps : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %n = tfc.div %d, %std : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  return %n : tensor<?x?x64xf32>
}

// -----

// Negative: normalization over axis 1 (the sequence), not the last axis.
// CHECK-LABEL: func.func @reduce_not_last_axis
// CHECK-NOT: tfc.layer_norm
// CHECK: tfc.reduce_mean %arg0 {axes = array<i64: 1>
func.func @reduce_not_last_axis(%x: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %two = tfc.constant dense<2.0> : tensor<f32>
  %eps = tfc.constant dense<1.0e-5> : tensor<f32>
  %mean = tfc.reduce_mean %x {axes = array<i64: 1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x1x64xf32>
  %d = tfc.sub %x, %mean : (tensor<?x?x64xf32>, tensor<?x1x64xf32>) -> tensor<?x?x64xf32>
  %sq = tfc.pow %d, %two : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  %var = tfc.reduce_mean %sq {axes = array<i64: 1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x1x64xf32>
  %ve = tfc.add %var, %eps : (tensor<?x1x64xf32>, tensor<f32>) -> tensor<?x1x64xf32>
  %std = tfc.sqrt %ve : (tensor<?x1x64xf32>) -> tensor<?x1x64xf32>
  %n = tfc.div %d, %std : (tensor<?x?x64xf32>, tensor<?x1x64xf32>) -> tensor<?x?x64xf32>
  return %n : tensor<?x?x64xf32>
}

// -----

// Negative: the variance is taken over the last axis but the mean over axis 1.
// CHECK-LABEL: func.func @variance_over_other_axis
// CHECK-NOT: tfc.layer_norm
// CHECK: tfc.sqrt
func.func @variance_over_other_axis(%x: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %two = tfc.constant dense<2.0> : tensor<f32>
  %eps = tfc.constant dense<1.0e-5> : tensor<f32>
  %mean = tfc.reduce_mean %x {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %d = tfc.sub %x, %mean : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  %sq = tfc.pow %d, %two : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  %var = tfc.reduce_mean %sq {axes = array<i64: 1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x1x64xf32>
  %ve = tfc.add %var, %eps : (tensor<?x1x64xf32>, tensor<f32>) -> tensor<?x1x64xf32>
  %std = tfc.sqrt %ve : (tensor<?x1x64xf32>) -> tensor<?x1x64xf32>
  %n = tfc.div %d, %std : (tensor<?x?x64xf32>, tensor<?x1x64xf32>) -> tensor<?x?x64xf32>
  return %n : tensor<?x?x64xf32>
}

// -----

// Negative: the mean of %x is subtracted from another tensor.
// CHECK-LABEL: func.func @mean_of_other_tensor
// CHECK-NOT: tfc.layer_norm
// CHECK: tfc.sub %arg1
func.func @mean_of_other_tensor(%x: tensor<?x?x64xf32>, %y: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %two = tfc.constant dense<2.0> : tensor<f32>
  %eps = tfc.constant dense<1.0e-5> : tensor<f32>
  %mean = tfc.reduce_mean %x {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %d = tfc.sub %y, %mean : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  %sq = tfc.pow %d, %two : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  %var = tfc.reduce_mean %sq {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %ve = tfc.add %var, %eps : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %std = tfc.sqrt %ve : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %n = tfc.div %d, %std : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  return %n : tensor<?x?x64xf32>
}

// -----

// Negative: tfc.layer_normalization over the last two axes stays.
// CHECK-LABEL: func.func @primitive_not_last_axis
// CHECK-NOT: tfc.layer_norm
// CHECK: tfc.layer_normalization
func.func @primitive_not_last_axis(%x: tensor<2x8x64xf32>, %g: tensor<8x64xf32>) -> tensor<2x8x64xf32> {
  %y = tfc.layer_normalization %x, %g {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<2x8x64xf32>, tensor<8x64xf32>) -> tensor<2x8x64xf32>
  return %y : tensor<2x8x64xf32>
}
