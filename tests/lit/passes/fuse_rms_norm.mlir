// RUN: tfc-opt %s -tfc-fuse-rms-norm -split-input-file | FileCheck %s

// LLaMA / Mistral / Qwen2 / T5 as torch exports them (after the ONNX importer
// and tfc-canonicalize): pow for the square, rsqrt as 1 / sqrt, the weight
// first. %x is also the residual stream (another use), which is fine.
// CHECK-LABEL: func.func @llama_torch_export
// CHECK: %[[W:.*]] = tfc.weight "layers.0.input_layernorm.weight"
// CHECK: %[[Y:.*]] = tfc.rms_norm %arg0, %[[W]] {epsilon = 9.99999997E-7 : f32} : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
// CHECK-NOT: tfc.reduce_mean
// CHECK-NOT: tfc.sqrt
// CHECK: %[[R:.*]] = tfc.add %[[Y]], %arg0
// CHECK: return %[[R]]
func.func @llama_torch_export(%x: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %w = tfc.weight "layers.0.input_layernorm.weight" : tensor<64xf32>
  %two = tfc.constant dense<2.0> : tensor<f32>
  %eps = tfc.constant dense<1.0e-6> : tensor<f32>
  %one = tfc.constant dense<1.0> : tensor<f32>
  %sq = tfc.pow %x, %two : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  %ms = tfc.reduce_mean %sq {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %ve = tfc.add %ms, %eps : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %s = tfc.sqrt %ve : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %r = tfc.div %one, %s : (tensor<f32>, tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %n = tfc.mul %x, %r : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  %y = tfc.mul %w, %n : (tensor<64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %res = tfc.add %y, %x : (tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return %res : tensor<?x?x64xf32>
}

// -----

// x / sqrt(mean(x * x) + eps) * w (the hf frontend's form): x * x for the
// square, axes as the positive last index, eps first, division by the sqrt.
// CHECK-LABEL: func.func @div_by_sqrt_mul_square
// CHECK: tfc.rms_norm %arg0, %arg1 {epsilon = 9.99999974E-6 : f32}
// CHECK-NOT: tfc.reduce_mean
func.func @div_by_sqrt_mul_square(%x: tensor<?x?x64xf32>, %w: tensor<64xf32>) -> tensor<?x?x64xf32> {
  %eps = tfc.constant dense<1.0e-5> : tensor<f32>
  %sq = tfc.mul %x, %x : (tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %ms = tfc.reduce_mean %sq {axes = array<i64: 2>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %ve = tfc.add %eps, %ms : (tensor<f32>, tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %s = tfc.sqrt %ve : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %n = tfc.div %x, %s : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  %y = tfc.mul %n, %w : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// -----

// rsqrt as pow(., -0.5), the reciprocal first in the mul; no weight: a
// constant of ones.
// CHECK-LABEL: func.func @pow_minus_half_no_weight
// CHECK: %[[ONES:.*]] = tfc.constant dense<1.000000e+00> : tensor<64xf32>
// CHECK: tfc.rms_norm %arg0, %[[ONES]] {epsilon = 9.99999997E-7 : f32}
// CHECK-NOT: tfc.pow
func.func @pow_minus_half_no_weight(%x: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %two = tfc.constant dense<2.0> : tensor<f32>
  %mhalf = tfc.constant dense<-0.5> : tensor<f32>
  %eps = tfc.constant dense<1.0e-6> : tensor<f32>
  %sq = tfc.pow %x, %two : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  %ms = tfc.reduce_mean %sq {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %ve = tfc.add %ms, %eps : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %r = tfc.pow %ve, %mhalf : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %n = tfc.mul %r, %x : (tensor<?x?x1xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return %n : tensor<?x?x64xf32>
}

// -----

// Gemma: the weight applied as (1 + w).
// CHECK-LABEL: func.func @gemma_unit_offset
// CHECK: %[[W:.*]] = tfc.weight "norm.weight"
// CHECK: tfc.rms_norm %arg0, %[[W]] {epsilon = 9.99999997E-7 : f32, unit_offset = true}
// CHECK-NOT: tfc.add
func.func @gemma_unit_offset(%x: tensor<2x?x64xf32>) -> tensor<2x?x64xf32> {
  %w = tfc.weight "norm.weight" : tensor<64xf32>
  %two = tfc.constant dense<2.0> : tensor<f32>
  %eps = tfc.constant dense<1.0e-6> : tensor<f32>
  %one = tfc.constant dense<1.0> : tensor<f32>
  %sq = tfc.pow %x, %two : (tensor<2x?x64xf32>, tensor<f32>) -> tensor<2x?x64xf32>
  %ms = tfc.reduce_mean %sq {axes = array<i64: -1>, keepdims = true} : (tensor<2x?x64xf32>) -> tensor<2x?x1xf32>
  %ve = tfc.add %ms, %eps : (tensor<2x?x1xf32>, tensor<f32>) -> tensor<2x?x1xf32>
  %s = tfc.sqrt %ve : (tensor<2x?x1xf32>) -> tensor<2x?x1xf32>
  %r = tfc.div %one, %s : (tensor<f32>, tensor<2x?x1xf32>) -> tensor<2x?x1xf32>
  %n = tfc.mul %x, %r : (tensor<2x?x64xf32>, tensor<2x?x1xf32>) -> tensor<2x?x64xf32>
  %w1 = tfc.add %one, %w : (tensor<f32>, tensor<64xf32>) -> tensor<64xf32>
  %y = tfc.mul %n, %w1 : (tensor<2x?x64xf32>, tensor<64xf32>) -> tensor<2x?x64xf32>
  return %y : tensor<2x?x64xf32>
}

// -----

// A weight that is not 1-D of the last dim ([seq, D]) is not absorbed: the
// norm fuses with ones and the multiply stays.
// CHECK-LABEL: func.func @weight_not_last_axis_vector
// CHECK: %[[ONES:.*]] = tfc.constant dense<1.000000e+00> : tensor<64xf32>
// CHECK: %[[N:.*]] = tfc.rms_norm %arg0, %[[ONES]]
// CHECK: tfc.mul %[[N]], %arg1
func.func @weight_not_last_axis_vector(%x: tensor<2x8x64xf32>, %w: tensor<8x64xf32>) -> tensor<2x8x64xf32> {
  %two = tfc.constant dense<2.0> : tensor<f32>
  %eps = tfc.constant dense<1.0e-6> : tensor<f32>
  %sq = tfc.pow %x, %two : (tensor<2x8x64xf32>, tensor<f32>) -> tensor<2x8x64xf32>
  %ms = tfc.reduce_mean %sq {axes = array<i64: -1>, keepdims = true} : (tensor<2x8x64xf32>) -> tensor<2x8x1xf32>
  %ve = tfc.add %ms, %eps : (tensor<2x8x1xf32>, tensor<f32>) -> tensor<2x8x1xf32>
  %s = tfc.sqrt %ve : (tensor<2x8x1xf32>) -> tensor<2x8x1xf32>
  %n = tfc.div %x, %s : (tensor<2x8x64xf32>, tensor<2x8x1xf32>) -> tensor<2x8x64xf32>
  %y = tfc.mul %n, %w : (tensor<2x8x64xf32>, tensor<8x64xf32>) -> tensor<2x8x64xf32>
  return %y : tensor<2x8x64xf32>
}

// -----

// Negative: the mean of squares over axis 1, not the last axis.
// CHECK-LABEL: func.func @wrong_axis
// CHECK-NOT: tfc.rms_norm
// CHECK: tfc.reduce_mean %{{.*}} {axes = array<i64: 1>
func.func @wrong_axis(%x: tensor<?x?x64xf32>, %w: tensor<64xf32>) -> tensor<?x?x64xf32> {
  %two = tfc.constant dense<2.0> : tensor<f32>
  %eps = tfc.constant dense<1.0e-6> : tensor<f32>
  %sq = tfc.pow %x, %two : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  %ms = tfc.reduce_mean %sq {axes = array<i64: 1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x1x64xf32>
  %ve = tfc.add %ms, %eps : (tensor<?x1x64xf32>, tensor<f32>) -> tensor<?x1x64xf32>
  %s = tfc.sqrt %ve : (tensor<?x1x64xf32>) -> tensor<?x1x64xf32>
  %n = tfc.div %x, %s : (tensor<?x?x64xf32>, tensor<?x1x64xf32>) -> tensor<?x?x64xf32>
  %y = tfc.mul %n, %w : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// -----

// Negative: eps is a run-time value, not a scalar constant.
// CHECK-LABEL: func.func @eps_not_constant
// CHECK-NOT: tfc.rms_norm
// CHECK: tfc.add %{{.*}}, %arg1
func.func @eps_not_constant(%x: tensor<?x?x64xf32>, %eps: tensor<f32>) -> tensor<?x?x64xf32> {
  %two = tfc.constant dense<2.0> : tensor<f32>
  %sq = tfc.pow %x, %two : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  %ms = tfc.reduce_mean %sq {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %ve = tfc.add %ms, %eps : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %s = tfc.sqrt %ve : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %n = tfc.div %x, %s : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  return %n : tensor<?x?x64xf32>
}

// -----

// Negative: eps is a constant that is not a splat (one per row).
// CHECK-LABEL: func.func @eps_not_splat
// CHECK-NOT: tfc.rms_norm
func.func @eps_not_splat(%x: tensor<2x8x64xf32>) -> tensor<2x8x64xf32> {
  %two = tfc.constant dense<2.0> : tensor<f32>
  %eps = tfc.constant dense<[[[1.0e-6]], [[1.0e-5]]]> : tensor<2x1x1xf32>
  %sq = tfc.pow %x, %two : (tensor<2x8x64xf32>, tensor<f32>) -> tensor<2x8x64xf32>
  %ms = tfc.reduce_mean %sq {axes = array<i64: -1>, keepdims = true} : (tensor<2x8x64xf32>) -> tensor<2x8x1xf32>
  %ve = tfc.add %ms, %eps : (tensor<2x8x1xf32>, tensor<2x1x1xf32>) -> tensor<2x8x1xf32>
  %s = tfc.sqrt %ve : (tensor<2x8x1xf32>) -> tensor<2x8x1xf32>
  %n = tfc.div %x, %s : (tensor<2x8x64xf32>, tensor<2x8x1xf32>) -> tensor<2x8x64xf32>
  return %n : tensor<2x8x64xf32>
}

// -----

// Negative: eps added after the sqrt.
// CHECK-LABEL: func.func @eps_after_sqrt
// CHECK-NOT: tfc.rms_norm
func.func @eps_after_sqrt(%x: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %two = tfc.constant dense<2.0> : tensor<f32>
  %eps = tfc.constant dense<1.0e-6> : tensor<f32>
  %sq = tfc.pow %x, %two : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  %ms = tfc.reduce_mean %sq {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %s = tfc.sqrt %ms : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %ve = tfc.add %s, %eps : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %n = tfc.div %x, %ve : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  return %n : tensor<?x?x64xf32>
}

// -----

// Negative: the mean of squares is used elsewhere too.
// CHECK-LABEL: func.func @mean_used_elsewhere
// CHECK-NOT: tfc.rms_norm
func.func @mean_used_elsewhere(%x: tensor<?x?x64xf32>) -> (tensor<?x?x64xf32>, tensor<?x?x1xf32>) {
  %two = tfc.constant dense<2.0> : tensor<f32>
  %eps = tfc.constant dense<1.0e-6> : tensor<f32>
  %sq = tfc.pow %x, %two : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  %ms = tfc.reduce_mean %sq {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %ve = tfc.add %ms, %eps : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %s = tfc.sqrt %ve : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %n = tfc.div %x, %s : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  return %n, %ms : tensor<?x?x64xf32>, tensor<?x?x1xf32>
}

// -----

// Negative: the reciprocal RMS is used elsewhere too.
// CHECK-LABEL: func.func @reciprocal_used_elsewhere
// CHECK-NOT: tfc.rms_norm
func.func @reciprocal_used_elsewhere(%x: tensor<?x?x64xf32>) -> (tensor<?x?x64xf32>, tensor<?x?x1xf32>) {
  %two = tfc.constant dense<2.0> : tensor<f32>
  %eps = tfc.constant dense<1.0e-6> : tensor<f32>
  %one = tfc.constant dense<1.0> : tensor<f32>
  %sq = tfc.pow %x, %two : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  %ms = tfc.reduce_mean %sq {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %ve = tfc.add %ms, %eps : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %s = tfc.sqrt %ve : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %r = tfc.div %one, %s : (tensor<f32>, tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %n = tfc.mul %x, %r : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  return %n, %r : tensor<?x?x64xf32>, tensor<?x?x1xf32>
}

// -----

// Negative: the reciprocal RMS of %x scales another tensor.
// CHECK-LABEL: func.func @scales_other_tensor
// CHECK-NOT: tfc.rms_norm
// CHECK: tfc.mul %arg1
func.func @scales_other_tensor(%x: tensor<?x?x64xf32>, %z: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %two = tfc.constant dense<2.0> : tensor<f32>
  %eps = tfc.constant dense<1.0e-6> : tensor<f32>
  %one = tfc.constant dense<1.0> : tensor<f32>
  %sq = tfc.pow %x, %two : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  %ms = tfc.reduce_mean %sq {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %ve = tfc.add %ms, %eps : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %s = tfc.sqrt %ve : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %r = tfc.div %one, %s : (tensor<f32>, tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %n = tfc.mul %z, %r : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  return %n : tensor<?x?x64xf32>
}

// -----

// Negative: a square other than 2 (the mean of x^3).
// CHECK-LABEL: func.func @not_a_square
// CHECK-NOT: tfc.rms_norm
func.func @not_a_square(%x: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %three = tfc.constant dense<3.0> : tensor<f32>
  %eps = tfc.constant dense<1.0e-6> : tensor<f32>
  %sq = tfc.pow %x, %three : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  %ms = tfc.reduce_mean %sq {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %ve = tfc.add %ms, %eps : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %s = tfc.sqrt %ve : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %n = tfc.div %x, %s : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  return %n : tensor<?x?x64xf32>
}

// -----

// Negative: no weight and a dynamic last dim (the ones cannot be built).
// CHECK-LABEL: func.func @dynamic_width_no_weight
// CHECK-NOT: tfc.rms_norm
func.func @dynamic_width_no_weight(%x: tensor<?x?x?xf32>) -> tensor<?x?x?xf32> {
  %two = tfc.constant dense<2.0> : tensor<f32>
  %eps = tfc.constant dense<1.0e-6> : tensor<f32>
  %sq = tfc.pow %x, %two : (tensor<?x?x?xf32>, tensor<f32>) -> tensor<?x?x?xf32>
  %ms = tfc.reduce_mean %sq {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x?xf32>) -> tensor<?x?x1xf32>
  %ve = tfc.add %ms, %eps : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %s = tfc.sqrt %ve : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %n = tfc.div %x, %s : (tensor<?x?x?xf32>, tensor<?x?x1xf32>) -> tensor<?x?x?xf32>
  return %n : tensor<?x?x?xf32>
}

// -----

// Negative: a layer norm's variance is a mean of squares too, but of x - mean(x).
// CHECK-LABEL: func.func @layer_norm_is_not_rms
// CHECK-NOT: tfc.rms_norm
func.func @layer_norm_is_not_rms(%x: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
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
