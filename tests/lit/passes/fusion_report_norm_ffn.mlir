// RUN: tfc-opt %s -split-input-file -tfc-fuse-gelu -tfc-fuse-layer-norm -tfc-fuse-rms-norm -tfc-fuse-gated-linear -tfc-report-fusions -verify-diagnostics -o /dev/null

// The fusion report for RMS norms and gated feed-forwards: each unfused
// candidate carries the reason its matcher gave (RmsNormMatcher.cpp,
// GatedLinearMatcher.cpp); fused ones are counted.

// A LLaMA block's norm and SwiGLU, both fused.
// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 0, linear 0, rms_norm 1, gated_linear 1, rotary 0}}
func.func @fused(%x: tensor<?x?x64xf32>, %w: tensor<64xf32>, %wg: tensor<64x128xf32>, %wu: tensor<64x128xf32>) -> tensor<?x?x128xf32> {
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
  %g = tfc.matmul %y, %wg : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %sg = tfc.sigmoid %g : (tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %a = tfc.mul %g, %sg : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %u = tfc.matmul %y, %wu : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %h = tfc.mul %a, %u : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  return %h : tensor<?x?x128xf32>
}

// -----

// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 0, linear 0, rms_norm 0, gated_linear 0, rotary 0}}
func.func @eps_not_constant(%x: tensor<?x?x64xf32>, %eps: tensor<f32>) -> tensor<?x?x64xf32> {
  %two = tfc.constant dense<2.0> : tensor<f32>
  %sq = tfc.pow %x, %two : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  // expected-remark @below {{unfused rms_norm candidate: epsilon is not a scalar constant}}
  %ms = tfc.reduce_mean %sq {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %ve = tfc.add %ms, %eps : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %s = tfc.sqrt %ve : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %n = tfc.div %x, %s : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  return %n : tensor<?x?x64xf32>
}

// -----

// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 0, linear 0, rms_norm 0, gated_linear 0, rotary 0}}
func.func @wrong_axis(%x: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %two = tfc.constant dense<2.0> : tensor<f32>
  %eps = tfc.constant dense<1.0e-6> : tensor<f32>
  %sq = tfc.mul %x, %x : (tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  // expected-remark @below {{unfused rms_norm candidate: the mean of squares is over axes [1], not the last axis}}
  %ms = tfc.reduce_mean %sq {axes = array<i64: 1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x1x64xf32>
  %ve = tfc.add %ms, %eps : (tensor<?x1x64xf32>, tensor<f32>) -> tensor<?x1x64xf32>
  %s = tfc.sqrt %ve : (tensor<?x1x64xf32>) -> tensor<?x1x64xf32>
  %n = tfc.div %x, %s : (tensor<?x?x64xf32>, tensor<?x1x64xf32>) -> tensor<?x?x64xf32>
  return %n : tensor<?x?x64xf32>
}

// -----

// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 0, linear 0, rms_norm 0, gated_linear 0, rotary 0}}
func.func @eps_after_sqrt(%x: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %two = tfc.constant dense<2.0> : tensor<f32>
  %eps = tfc.constant dense<1.0e-6> : tensor<f32>
  %sq = tfc.pow %x, %two : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  // expected-remark @below {{unfused rms_norm candidate: epsilon is added after sqrt, not to the mean of squares}}
  %ms = tfc.reduce_mean %sq {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %s = tfc.sqrt %ms : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %ve = tfc.add %s, %eps : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %n = tfc.div %x, %ve : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  return %n : tensor<?x?x64xf32>
}

// -----

// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 0, linear 0, rms_norm 0, gated_linear 0, rotary 0}}
func.func @scales_other_tensor(%x: tensor<?x?x64xf32>, %z: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %two = tfc.constant dense<2.0> : tensor<f32>
  %eps = tfc.constant dense<1.0e-6> : tensor<f32>
  %sq = tfc.pow %x, %two : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  // expected-remark @below {{unfused rms_norm candidate: the reciprocal RMS scales another tensor than the squared one}}
  %ms = tfc.reduce_mean %sq {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %ve = tfc.add %ms, %eps : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %s = tfc.sqrt %ve : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %n = tfc.div %z, %s : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  return %n : tensor<?x?x64xf32>
}

// -----

// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 0, linear 0, rms_norm 0, gated_linear 0, rotary 0}}
func.func @mean_used_elsewhere(%x: tensor<?x?x64xf32>) -> (tensor<?x?x64xf32>, tensor<?x?x1xf32>) {
  %two = tfc.constant dense<2.0> : tensor<f32>
  %eps = tfc.constant dense<1.0e-6> : tensor<f32>
  %sq = tfc.pow %x, %two : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  // expected-remark @below {{unfused rms_norm candidate: the mean of squares has more than one use}}
  %ms = tfc.reduce_mean %sq {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %ve = tfc.add %ms, %eps : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %s = tfc.sqrt %ve : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %n = tfc.div %x, %s : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  return %n, %ms : tensor<?x?x64xf32>, tensor<?x?x1xf32>
}

// -----

// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 0, linear 0, rms_norm 0, gated_linear 0, rotary 0}}
func.func @gate_bias(%x: tensor<?x?x64xf32>, %wg: tensor<64x128xf32>, %wu: tensor<64x128xf32>, %b: tensor<128xf32>) -> tensor<?x?x128xf32> {
  %m = tfc.matmul %x, %wg : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %g = tfc.add %m, %b : (tensor<?x?x128xf32>, tensor<128xf32>) -> tensor<?x?x128xf32>
  %s = tfc.sigmoid %g : (tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %a = tfc.mul %g, %s : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %u = tfc.matmul %x, %wu : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  // expected-remark @below {{unfused gated_linear candidate: the gate projection adds a bias}}
  %h = tfc.mul %a, %u : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  return %h : tensor<?x?x128xf32>
}

// -----

// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 0, linear 0, rms_norm 0, gated_linear 0, rotary 0}}
func.func @different_inputs(%x: tensor<?x?x64xf32>, %z: tensor<?x?x64xf32>, %wg: tensor<64x128xf32>, %wu: tensor<64x128xf32>) -> tensor<?x?x128xf32> {
  %g = tfc.matmul %x, %wg : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %s = tfc.sigmoid %g : (tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %a = tfc.mul %s, %g : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %u = tfc.matmul %z, %wu : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  // expected-remark @below {{unfused gated_linear candidate: the gate and up projections read different inputs}}
  %h = tfc.mul %u, %a : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  return %h : tensor<?x?x128xf32>
}

// -----

// The unfused GeGLU's tfc.gelu counts as a fused GELU.
// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 1, linear 0, rms_norm 0, gated_linear 0, rotary 0}}
func.func @gate_used_elsewhere(%x: tensor<?x?x64xf32>, %wg: tensor<64x128xf32>, %wu: tensor<64x128xf32>) -> (tensor<?x?x128xf32>, tensor<?x?x128xf32>) {
  %g = tfc.matmul %x, %wg : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %a = tfc.gelu %g : (tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %u = tfc.matmul %x, %wu : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  // expected-remark @below {{unfused gated_linear candidate: the gate projection has other uses than its activation}}
  %h = tfc.mul %a, %u : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  return %h, %g : tensor<?x?x128xf32>, tensor<?x?x128xf32>
}

// -----

// A SiLU feed-forward without a gate and a ReLU-gated product are not
// candidates: no remark besides the counts.
// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 0, linear 0, rms_norm 0, gated_linear 0, rotary 0}}
func.func @not_candidates(%x: tensor<?x?x64xf32>, %wg: tensor<64x128xf32>, %wu: tensor<64x128xf32>) -> (tensor<?x?x128xf32>, tensor<?x?x128xf32>) {
  %g = tfc.matmul %x, %wg : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %s = tfc.sigmoid %g : (tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %a = tfc.mul %g, %s : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %g2 = tfc.matmul %x, %wu : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %r = tfc.relu %g2 : (tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %h = tfc.mul %r, %g2 : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  return %a, %h : tensor<?x?x128xf32>, tensor<?x?x128xf32>
}
