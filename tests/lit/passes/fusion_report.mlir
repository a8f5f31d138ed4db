// RUN: tfc-opt %s -split-input-file -tfc-fuse-attention -tfc-fuse-layer-norm -tfc-report-fusions -verify-diagnostics -o /dev/null

// The fusion report (FusionReport.h) through tfc-report-fusions: each unfused
// candidate carries the reason its matcher gave; fused blocks and ops that
// are not candidates get no remark.

// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 0, linear 0, rms_norm 0, gated_linear 0, rotary 0}}
func.func @softmax_not_last_axis(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %c = tfc.constant dense<0.25> : tensor<f32>
  %ss = tfc.mul %s, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  // expected-remark @below {{unfused attention candidate: softmax is over axis 2, not the last axis}}
  %p = tfc.softmax %ss {axis = 2 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 0, linear 0, rms_norm 0, gated_linear 0, rotary 0}}
func.func @k_not_split(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kt = tfc.reshape %k {shape = array<i64: 0, 4, 16, -1>} : (tensor<?x?x64xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  // expected-remark @below {{unfused attention candidate: K is not split into heads by reshape [0,0,H,dh] + transpose}}
  %p = tfc.softmax %s {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// A classifier's softmax over linear logits is not an attention candidate;
// a fused attention is counted.
// expected-remark @below {{fused: attention 1, layer_norm 0, gelu 0, linear 0, rms_norm 0, gated_linear 0, rotary 0}}
func.func @classifier_and_fused(%q: tensor<?x?x64xf32>, %h: tensor<?x64xf32>) -> (tensor<?x?x64xf32>, tensor<?x3xf32>) {
  %w = tfc.weight "classifier.w" : tensor<64x3xf32>
  %l = tfc.matmul %h, %w : (tensor<?x64xf32>, tensor<64x3xf32>) -> tensor<?x3xf32>
  %probs = tfc.softmax %l {axis = -1 : i64} : (tensor<?x3xf32>) -> tensor<?x3xf32>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %s {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om, %probs : tensor<?x?x64xf32>, tensor<?x3xf32>
}

// -----

// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 0, linear 0, rms_norm 0, gated_linear 0, rotary 0}}
func.func @eps_after_sqrt(%x: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %two = tfc.constant dense<2.0> : tensor<f32>
  %eps = tfc.constant dense<1.0e-5> : tensor<f32>
  // expected-remark @below {{unfused layer_norm candidate: epsilon is added after sqrt, not to the variance}}
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

// A mean over axis 1 is not a layer-norm candidate; a layer_normalization
// over more than the last axis is one.
// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 0, linear 0, rms_norm 0, gated_linear 0, rotary 0}}
func.func @not_last_axis(%x: tensor<2x8x64xf32>, %g: tensor<8x64xf32>) -> (tensor<2x8x64xf32>, tensor<2x8x64xf32>) {
  %mean = tfc.reduce_mean %x {axes = array<i64: 1>, keepdims = true} : (tensor<2x8x64xf32>) -> tensor<2x1x64xf32>
  %d = tfc.sub %x, %mean : (tensor<2x8x64xf32>, tensor<2x1x64xf32>) -> tensor<2x8x64xf32>
  // expected-remark @below {{unfused layer_norm candidate: layer_normalization normalizes from axis 1, not only the last axis}}
  %y = tfc.layer_normalization %x, %g {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<2x8x64xf32>, tensor<8x64xf32>) -> tensor<2x8x64xf32>
  return %d, %y : tensor<2x8x64xf32>, tensor<2x8x64xf32>
}

// -----

// A score value with a second use keeps the block unfused.
// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 0, linear 0, rms_norm 0, gated_linear 0, rotary 0}}
func.func @scores_used_twice(%q: tensor<?x?x64xf32>) -> (tensor<?x?x64xf32>, tensor<?x4x?x?xf32>) {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  // expected-remark @below {{unfused attention candidate: the scores produced by tfc.matmul have more than one use}}
  %p = tfc.softmax %s {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om, %s : tensor<?x?x64xf32>, tensor<?x4x?x?xf32>
}

// -----

// The ONNX variants report their own reasons: a NaN guard after the softmax
// that does not fill with 0 (torch 2 SDPA's is where(isnan(p), 0, p)).
// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 0, linear 0, rms_norm 0, gated_linear 0, rotary 0}}
func.func @nan_guard_not_zero(%q: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  // expected-remark @below {{unfused attention candidate: the softmax is not (only) multiplied by V}}
  %p = tfc.softmax %s {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %pp = tfc.sub %p, %p : (tensor<?x4x?x?xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %nan = tfc.cast %pp : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xi1>
  %one = tfc.constant dense<1.0> : tensor<1xf32>
  %pg = tfc.where %nan, %one, %p : (tensor<?x4x?x?xi1>, tensor<1xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %pg, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// The 3-D head layout (nn.MultiheadAttention) with a [B*H, 1, T] mask that
// is not a flattened [B, H, 1, T] one.
// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 0, linear 0, rms_norm 0, gated_linear 0, rotary 0}}
func.func @mha_3d_mask_not_unflattenable(%q: tensor<?x?x64xf32>, %m: tensor<?x1x?xf32>) -> tensor<?x64xf32> {
  %qh = tfc.reshape %q {shape = array<i64: 0, -1, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 1, 0, 2>} : (tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %kh = tfc.reshape %q {shape = array<i64: 0, -1, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 1, 2, 0>} : (tensor<?x?x16xf32>) -> tensor<?x16x?xf32>
  %vh = tfc.reshape %q {shape = array<i64: 0, -1, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 1, 0, 2>} : (tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x?x16xf32>, tensor<?x16x?xf32>) -> tensor<?x?x?xf32>
  %sm = tfc.add %s, %m : (tensor<?x?x?xf32>, tensor<?x1x?xf32>) -> tensor<?x?x?xf32>
  // expected-remark @below {{unfused attention candidate: a mask over [B*H, S, T] is not a flattened [B, H, S, T] mask}}
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x?x?xf32>) -> tensor<?x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x?x?xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 1, 0, 2>} : (tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: -1, 64>} : (tensor<?x?x16xf32>) -> tensor<?x64xf32>
  return %om : tensor<?x64xf32>
}
