// RUN: tfc-opt %s -split-input-file -tfc-fuse-rotary -tfc-fuse-attention -tfc-report-fusions -verify-diagnostics -o /dev/null

// The "why not fused" report for the grouped-query and rotary patterns: each
// unfused candidate carries its matcher's reason.

// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 0, linear 0, rms_norm 0, gated_linear 0, rotary 0}}
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
  // expected-remark @below {{unfused attention candidate: K and V are split into different numbers of heads (2 x 2, 4 x 1)}}
  %p = tfc.softmax %s {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 0, linear 0, rms_norm 0, gated_linear 0, rotary 0}}
func.func @inverse_rotation(%q: tensor<?x?x64xf32>, %cos: tensor<?x1x?x16xf32>, %sin: tensor<?x1x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %c0 = tfc.constant dense<0> : tensor<1xi64>
  %c8 = tfc.constant dense<8> : tensor<1xi64>
  %c16 = tfc.constant dense<16> : tensor<1xi64>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %m1 = tfc.mul %qt, %cos : (tensor<?x4x?x16xf32>, tensor<?x1x?x16xf32>) -> tensor<?x4x?x16xf32>
  %x1 = tfc.slice %qt, %c0, %c8 {axes = array<i64: 3>} : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %x2 = tfc.slice %qt, %c8, %c16 {axes = array<i64: 3>} : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %n = tfc.neg %x2 : (tensor<?x4x?x8xf32>) -> tensor<?x4x?x8xf32>
  %rh = tfc.concat %x1, %n {axis = -1 : i64} : (tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>) -> tensor<?x4x?x16xf32>
  %m2 = tfc.mul %rh, %sin : (tensor<?x4x?x16xf32>, tensor<?x1x?x16xf32>) -> tensor<?x4x?x16xf32>
  // expected-remark @below {{unfused rotary candidate: the rotary is not x * cos + rotate_half(x) * sin}}
  %r = tfc.add %m1, %m2 : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %r : tensor<?x4x?x16xf32>
}

// -----

// An interleaved (rotate_every_two) rotary that is not one (stack(x[0::2],
// -x[1::2]): the inverse rotation) is still reported as a candidate.
// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 0, linear 0, rms_norm 0, gated_linear 0, rotary 0}}
func.func @interleaved_inverse_rotation(%q: tensor<?x?x64xf32>, %cos: tensor<?x?x1x16xf32>, %sin: tensor<?x?x1x16xf32>) -> tensor<?x?x4x16xf32> {
  %c0 = tfc.constant dense<0> : tensor<1xi64>
  %c1 = tfc.constant dense<1> : tensor<1xi64>
  %end = tfc.constant dense<16> : tensor<1xi64>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %m1 = tfc.mul %qh, %cos : (tensor<?x?x4x16xf32>, tensor<?x?x1x16xf32>) -> tensor<?x?x4x16xf32>
  %x1 = tfc.slice %qh, %c0, %end {axes = array<i64: 3>, steps = array<i64: 2>} : (tensor<?x?x4x16xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x4x8xf32>
  %x2 = tfc.slice %qh, %c1, %end {axes = array<i64: 3>, steps = array<i64: 2>} : (tensor<?x?x4x16xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x4x8xf32>
  %n = tfc.neg %x2 : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32>
  %u1 = tfc.reshape %x1 {shape = array<i64: 0, 0, 4, 8, 1>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8x1xf32>
  %u2 = tfc.reshape %n {shape = array<i64: 0, 0, 4, 8, 1>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8x1xf32>
  %st = tfc.concat %u1, %u2 {axis = -1 : i64} : (tensor<?x?x4x8x1xf32>, tensor<?x?x4x8x1xf32>) -> tensor<?x?x4x8x2xf32>
  %rt = tfc.reshape %st {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x4x8x2xf32>) -> tensor<?x?x4x16xf32>
  %m2 = tfc.mul %rt, %sin : (tensor<?x?x4x16xf32>, tensor<?x?x1x16xf32>) -> tensor<?x?x4x16xf32>
  // expected-remark @below {{unfused rotary candidate: the rotary is not x * cos + rotate_half(x) * sin with rotate_half(x) = concat(-x[r/2:r], x[0:r/2]), nor the interleaved form with rotate_every_two(x) = flatten(stack(-x[1::2], x[0::2]))}}
  %r = tfc.add %m1, %m2 : (tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>) -> tensor<?x?x4x16xf32>
  return %r : tensor<?x?x4x16xf32>
}
