// RUN: tfc-opt %s -tfc-pipeline | FileCheck %s
// RUN: tfc-opt %s -tfc-pipeline=fuse=false | FileCheck %s --check-prefix=NOFUSE
// RUN: tfc-opt %s -tfc-pipeline -tfc-report-fusions -verify-diagnostics -o /dev/null

// One post-LN encoder layer and a classifier head as the fbs frontend emits
// them (D = 64, H = 4, FFN 256), with a dead op left over.

// CHECK-LABEL: func.func @forward
// The Q, K, V projections: one linear over their weights side by side, sliced
// (without the weights' bytes, tfc-opt leaves the concats unfolded).
// CHECK: tfc.concat {{.*}} {axis = 1 : i64}
// CHECK: %[[QKV:.*]] = tfc.linear %arg0, %{{.*}} bias(%{{.*}}) {tfc.merged_linears = 3 : i64}
// CHECK-COUNT-3: tfc.slice %[[QKV]]
// CHECK: %[[ATT:.*]] = tfc.attention {{.*}} {mask_kind = #tfc<mask padding>, num_heads = 4 : i64, scale = 2.500000e-01 : f32}
// CHECK: %[[O:.*]] = tfc.linear %[[ATT]], {{.*}} residual(%arg0)
// CHECK: %[[LN1:.*]] = tfc.layer_norm %[[O]]
// CHECK: %[[F1:.*]] = tfc.linear %[[LN1]], {{.*}} {activation = #tfc<activation gelu_erf>}
// CHECK: %[[F2:.*]] = tfc.linear %[[F1]], {{.*}} residual(%[[LN1]])
// CHECK: %[[LN2:.*]] = tfc.layer_norm %[[F2]]
// CHECK: tfc.linear {{.*}} bias(
// CHECK: tfc.softmax
// CHECK-NOT: tfc.matmul
// CHECK-NOT: tfc.erf
// CHECK-NOT: tfc.reduce_mean
// CHECK-NOT: tfc.layer_normalization
// CHECK-NOT: "unused.w"
// CHECK: return

// NOFUSE-LABEL: func.func @forward
// NOFUSE-NOT: tfc.linear
// NOFUSE-NOT: tfc.attention
// NOFUSE-NOT: "unused.w"
// NOFUSE: tfc.softmax
// NOFUSE: tfc.reduce_mean
// NOFUSE: tfc.layer_normalization

// expected-remark @below {{fused: attention 1, layer_norm 2, gelu 1, linear 7, rms_norm 0, gated_linear 0, rotary 0}}
func.func @forward(%x: tensor<?x?x64xf32>, %mask: tensor<?x?xi64>) -> tensor<?x3xf32> {
  // Padding bias, once per stack.
  %one = tfc.constant dense<1.0> : tensor<f32>
  %big = tfc.constant dense<-1.0e+09> : tensor<f32>
  %mf = tfc.cast %mask : (tensor<?x?xi64>) -> tensor<?x?xf32>
  %inv = tfc.sub %one, %mf : (tensor<f32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %nb = tfc.mul %inv, %big : (tensor<?x?xf32>, tensor<f32>) -> tensor<?x?xf32>
  %bias = tfc.reshape %nb {shape = array<i64: 0, 1, 1, -1>} : (tensor<?x?xf32>) -> tensor<?x1x1x?xf32>
  %unused = tfc.weight "unused.w" : tensor<64xf32>

  // Q, K, V projections.
  %wq = tfc.weight "l0.q.w" : tensor<64x64xf32>
  %bq = tfc.weight "l0.q.b" : tensor<64xf32>
  %wk = tfc.weight "l0.k.w" : tensor<64x64xf32>
  %bk = tfc.weight "l0.k.b" : tensor<64xf32>
  %wv = tfc.weight "l0.v.w" : tensor<64x64xf32>
  %bv = tfc.weight "l0.v.b" : tensor<64xf32>
  %q0 = tfc.matmul %x, %wq : (tensor<?x?x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
  %q = tfc.add %q0, %bq : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  %k0 = tfc.matmul %x, %wk : (tensor<?x?x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
  %k = tfc.add %k0, %bk : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  %v0 = tfc.matmul %x, %wv : (tensor<?x?x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
  %v = tfc.add %v0, %bv : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>

  // Attention; K transposed in two steps (canonicalize composes them).
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt0 = tfc.transpose %kh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kt = tfc.transpose %kt0 {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %scale = tfc.constant dense<0.25> : tensor<f32>
  %ss = tfc.mul %s, %scale : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %sm = tfc.add %ss, %bias : (tensor<?x4x?x?xf32>, tensor<?x1x1x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %sm {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>

  // Output projection + residual, then a decomposed layer norm.
  %wo = tfc.weight "l0.o.w" : tensor<64x64xf32>
  %bo = tfc.weight "l0.o.b" : tensor<64xf32>
  %a0 = tfc.matmul %om, %wo : (tensor<?x?x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
  %a1 = tfc.add %a0, %bo : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  %a2 = tfc.add %a1, %x : (tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %g1 = tfc.weight "l0.ln1.g" : tensor<64xf32>
  %b1 = tfc.weight "l0.ln1.b" : tensor<64xf32>
  %two = tfc.constant dense<2.0> : tensor<f32>
  %eps = tfc.constant dense<1.0e-12> : tensor<f32>
  %mean = tfc.reduce_mean %a2 {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %d = tfc.sub %a2, %mean : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  %sq = tfc.pow %d, %two : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  %var = tfc.reduce_mean %sq {axes = array<i64: -1>, keepdims = true} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %ve = tfc.add %var, %eps : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %std = tfc.sqrt %ve : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %n = tfc.div %d, %std : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  %gn = tfc.mul %n, %g1 : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  %h1 = tfc.add %gn, %b1 : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>

  // FFN with the erf GELU, residual, primitive layer norm.
  %w1 = tfc.weight "l0.ffn1.w" : tensor<64x256xf32>
  %c1 = tfc.weight "l0.ffn1.b" : tensor<256xf32>
  %w2 = tfc.weight "l0.ffn2.w" : tensor<256x64xf32>
  %c2 = tfc.weight "l0.ffn2.b" : tensor<64xf32>
  %f0 = tfc.matmul %h1, %w1 : (tensor<?x?x64xf32>, tensor<64x256xf32>) -> tensor<?x?x256xf32>
  %f1 = tfc.add %f0, %c1 : (tensor<?x?x256xf32>, tensor<256xf32>) -> tensor<?x?x256xf32>
  %sqrt2 = tfc.constant dense<1.41421354> : tensor<f32>
  %half = tfc.constant dense<0.5> : tensor<f32>
  %e0 = tfc.div %f1, %sqrt2 : (tensor<?x?x256xf32>, tensor<f32>) -> tensor<?x?x256xf32>
  %e1 = tfc.erf %e0 : (tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  %e2 = tfc.add %e1, %one : (tensor<?x?x256xf32>, tensor<f32>) -> tensor<?x?x256xf32>
  %e3 = tfc.mul %f1, %e2 : (tensor<?x?x256xf32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  %gelu = tfc.mul %e3, %half : (tensor<?x?x256xf32>, tensor<f32>) -> tensor<?x?x256xf32>
  %f2 = tfc.matmul %gelu, %w2 : (tensor<?x?x256xf32>, tensor<256x64xf32>) -> tensor<?x?x64xf32>
  %f3 = tfc.add %f2, %c2 : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  %f4 = tfc.add %h1, %f3 : (tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %g2 = tfc.weight "l0.ln2.g" : tensor<64xf32>
  %b2 = tfc.weight "l0.ln2.b" : tensor<64xf32>
  %h2 = tfc.layer_normalization %f4, %g2, %b2 {axis = -1 : i64, epsilon = 1.0e-12 : f32} : (tensor<?x?x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>

  // Classifier on the first token: its softmax is not an attention candidate.
  %st = tfc.constant dense<0> : tensor<1xi64>
  %en = tfc.constant dense<1> : tensor<1xi64>
  %first = tfc.slice %h2, %st, %en {axes = array<i64: 1>} : (tensor<?x?x64xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x1x64xf32>
  %cls = tfc.reshape %first {shape = array<i64: 0, 64>} : (tensor<?x1x64xf32>) -> tensor<?x64xf32>
  %wc = tfc.weight "classifier.w" : tensor<64x3xf32>
  %bc = tfc.weight "classifier.b" : tensor<3xf32>
  %l0 = tfc.matmul %cls, %wc : (tensor<?x64xf32>, tensor<64x3xf32>) -> tensor<?x3xf32>
  %l1 = tfc.add %l0, %bc : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  %probs = tfc.softmax %l1 {axis = -1 : i64} : (tensor<?x3xf32>) -> tensor<?x3xf32>
  return %probs : tensor<?x3xf32>
}
