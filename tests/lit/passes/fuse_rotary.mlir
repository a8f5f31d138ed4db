// RUN: tfc-opt %s -tfc-fuse-rotary -split-input-file | FileCheck %s
// RUN: tfc-opt %s -tfc-fuse-rotary -tfc-fuse-attention -split-input-file | FileCheck %s --check-prefix=ATTN

// Rotary position embeddings as transformers 4.40 exports them (llama:
// q * cos + rotate_half(q) * sin on [B, H, S, dh] heads, cos/sin [B, 1, S, dh]),
// D = 64, H = 4, dh = 16.

// CHECK-LABEL: func.func @llama_full
// CHECK: %[[C:.*]] = tfc.reshape %arg1 {shape = array<i64: 0, -1, 16>} : (tensor<?x1x?x16xf32>) -> tensor<?x?x16xf32>
// CHECK: %[[S:.*]] = tfc.reshape %arg2 {shape = array<i64: 0, -1, 16>} : (tensor<?x1x?x16xf32>) -> tensor<?x?x16xf32>
// CHECK: %[[R:.*]] = tfc.rotary %arg0, %[[C]], %[[S]] {num_heads = 4 : i64, rotary_dim = 16 : i64}
// CHECK: %[[H:.*]] = tfc.reshape %[[R]] {shape = array<i64: 0, 0, 4, 16>}
// CHECK: %[[T:.*]] = tfc.transpose %[[H]] {perm = array<i64: 0, 2, 1, 3>}
// CHECK-NOT: tfc.neg
// CHECK: return %[[T]]
func.func @llama_full(%q: tensor<?x?x64xf32>, %cos: tensor<?x1x?x16xf32>, %sin: tensor<?x1x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %lo0 = tfc.constant dense<0> : tensor<1xi64>
  %mid = tfc.constant dense<8> : tensor<1xi64>
  %end = tfc.constant dense<9223372036854775807> : tensor<1xi64>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %m1 = tfc.mul %qt, %cos : (tensor<?x4x?x16xf32>, tensor<?x1x?x16xf32>) -> tensor<?x4x?x16xf32>
  %x1 = tfc.slice %qt, %lo0, %mid {axes = array<i64: 3>} : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %x2 = tfc.slice %qt, %mid, %end {axes = array<i64: 3>} : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %n = tfc.neg %x2 : (tensor<?x4x?x8xf32>) -> tensor<?x4x?x8xf32>
  %rh = tfc.concat %n, %x1 {axis = -1 : i64} : (tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>) -> tensor<?x4x?x16xf32>
  %m2 = tfc.mul %rh, %sin : (tensor<?x4x?x16xf32>, tensor<?x1x?x16xf32>) -> tensor<?x4x?x16xf32>
  %r = tfc.add %m1, %m2 : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %r : tensor<?x4x?x16xf32>
}

// -----

// Phi's partial rotary (rotary_dim 8 of dh 16), operands of the add and muls
// swapped, neg written as a mul by -1, cos/sin tables [S, 8] (a position
// table slice).
// CHECK-LABEL: func.func @phi_partial
// CHECK: %[[R:.*]] = tfc.rotary %arg0, %arg1, %arg2 {num_heads = 4 : i64, rotary_dim = 8 : i64}
// CHECK: %[[H:.*]] = tfc.reshape %[[R]] {shape = array<i64: 0, 0, 4, 16>}
// CHECK: %[[T:.*]] = tfc.transpose %[[H]] {perm = array<i64: 0, 2, 1, 3>}
// CHECK-NOT: tfc.concat
// CHECK: return %[[T]]
func.func @phi_partial(%q: tensor<?x?x64xf32>, %cos: tensor<?x8xf32>, %sin: tensor<?x8xf32>) -> tensor<?x4x?x16xf32> {
  %c0 = tfc.constant dense<0> : tensor<1xi64>
  %c4 = tfc.constant dense<4> : tensor<1xi64>
  %c8 = tfc.constant dense<8> : tensor<1xi64>
  %c16 = tfc.constant dense<16> : tensor<1xi64>
  %m1c = tfc.constant dense<-1.0> : tensor<f32>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %rot = tfc.slice %qt, %c0, %c8 {axes = array<i64: -1>} : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %pass = tfc.slice %qt, %c8, %c16 {axes = array<i64: -1>} : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %m1 = tfc.mul %cos, %rot : (tensor<?x8xf32>, tensor<?x4x?x8xf32>) -> tensor<?x4x?x8xf32>
  %x1 = tfc.slice %rot, %c0, %c4 {axes = array<i64: 3>} : (tensor<?x4x?x8xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x4xf32>
  %x2 = tfc.slice %rot, %c4, %c8 {axes = array<i64: 3>} : (tensor<?x4x?x8xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x4xf32>
  %n = tfc.mul %x2, %m1c : (tensor<?x4x?x4xf32>, tensor<f32>) -> tensor<?x4x?x4xf32>
  %rh = tfc.concat %n, %x1 {axis = 3 : i64} : (tensor<?x4x?x4xf32>, tensor<?x4x?x4xf32>) -> tensor<?x4x?x8xf32>
  %m2 = tfc.mul %sin, %rh : (tensor<?x8xf32>, tensor<?x4x?x8xf32>) -> tensor<?x4x?x8xf32>
  %r = tfc.add %m2, %m1 : (tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>) -> tensor<?x4x?x8xf32>
  %out = tfc.concat %r, %pass {axis = -1 : i64} : (tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>) -> tensor<?x4x?x16xf32>
  return %out : tensor<?x4x?x16xf32>
}

// -----

// Rotary on the untransposed heads [B, S, H, dh] with cos/sin [1, S, 1, dh].
// CHECK-LABEL: func.func @untransposed_heads
// CHECK: %[[C:.*]] = tfc.reshape %arg1 {shape = array<i64: 0, -1, 16>} : (tensor<1x?x1x16xf32>) -> tensor<1x?x16xf32>
// CHECK: tfc.rotary %arg0, %[[C]], {{.*}} {num_heads = 4 : i64, rotary_dim = 16 : i64}
// CHECK-NOT: tfc.transpose
func.func @untransposed_heads(%q: tensor<?x?x64xf32>, %cos: tensor<1x?x1x16xf32>, %sin: tensor<1x?x1x16xf32>) -> tensor<?x?x4x16xf32> {
  %c0 = tfc.constant dense<0> : tensor<1xi64>
  %c8 = tfc.constant dense<8> : tensor<1xi64>
  %c16 = tfc.constant dense<16> : tensor<1xi64>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %m1 = tfc.mul %qh, %cos : (tensor<?x?x4x16xf32>, tensor<1x?x1x16xf32>) -> tensor<?x?x4x16xf32>
  %x1 = tfc.slice %qh, %c0, %c8 {axes = array<i64: 3>} : (tensor<?x?x4x16xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x4x8xf32>
  %x2 = tfc.slice %qh, %c8, %c16 {axes = array<i64: 3>} : (tensor<?x?x4x16xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x4x8xf32>
  %n = tfc.neg %x2 : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32>
  %rh = tfc.concat %n, %x1 {axis = 3 : i64} : (tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32>) -> tensor<?x?x4x16xf32>
  %m2 = tfc.mul %rh, %sin : (tensor<?x?x4x16xf32>, tensor<1x?x1x16xf32>) -> tensor<?x?x4x16xf32>
  %r = tfc.add %m1, %m2 : (tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>) -> tensor<?x?x4x16xf32>
  return %r : tensor<?x?x4x16xf32>
}

// -----

// Must not fuse: concat(x1, -x2) is the inverse rotation, not rotate_half.
// CHECK-LABEL: func.func @inverse_rotation
// CHECK-NOT: tfc.rotary
// CHECK: tfc.neg
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
  %r = tfc.add %m1, %m2 : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %r : tensor<?x4x?x16xf32>
}

// -----

// Must not fuse: cos varies over the heads ([B, 4, S, dh]).
// CHECK-LABEL: func.func @cos_per_head
// CHECK-NOT: tfc.rotary
// CHECK: tfc.neg
func.func @cos_per_head(%q: tensor<?x?x64xf32>, %cos: tensor<?x4x?x16xf32>, %sin: tensor<?x1x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %c0 = tfc.constant dense<0> : tensor<1xi64>
  %c8 = tfc.constant dense<8> : tensor<1xi64>
  %c16 = tfc.constant dense<16> : tensor<1xi64>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %m1 = tfc.mul %qt, %cos : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %x1 = tfc.slice %qt, %c0, %c8 {axes = array<i64: 3>} : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %x2 = tfc.slice %qt, %c8, %c16 {axes = array<i64: 3>} : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %n = tfc.neg %x2 : (tensor<?x4x?x8xf32>) -> tensor<?x4x?x8xf32>
  %rh = tfc.concat %n, %x1 {axis = -1 : i64} : (tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>) -> tensor<?x4x?x16xf32>
  %m2 = tfc.mul %rh, %sin : (tensor<?x4x?x16xf32>, tensor<?x1x?x16xf32>) -> tensor<?x4x?x16xf32>
  %r = tfc.add %m1, %m2 : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %r : tensor<?x4x?x16xf32>
}

// -----

// Rotary Q and K feeding attention: after tfc-fuse-rotary the attention
// matcher finds its usual head split, with the tfc.rotary results as Q and K.
// ATTN-LABEL: func.func @rotary_then_attention
// ATTN: %[[Q:.*]] = tfc.rotary %arg0
// ATTN: %[[K:.*]] = tfc.rotary %arg1
// ATTN: tfc.attention %[[Q]], %[[K]], %arg2 {num_heads = 4 : i64, scale = 2.500000e-01 : f32}
// ATTN-NOT: tfc.softmax
func.func @rotary_then_attention(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %cos: tensor<?x1x?x16xf32>, %sin: tensor<?x1x?x16xf32>) -> tensor<?x?x64xf32> {
  %c0 = tfc.constant dense<0> : tensor<1xi64>
  %c8 = tfc.constant dense<8> : tensor<1xi64>
  %c16 = tfc.constant dense<16> : tensor<1xi64>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %qm1 = tfc.mul %qt, %cos : (tensor<?x4x?x16xf32>, tensor<?x1x?x16xf32>) -> tensor<?x4x?x16xf32>
  %qx1 = tfc.slice %qt, %c0, %c8 {axes = array<i64: 3>} : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %qx2 = tfc.slice %qt, %c8, %c16 {axes = array<i64: 3>} : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %qn = tfc.neg %qx2 : (tensor<?x4x?x8xf32>) -> tensor<?x4x?x8xf32>
  %qrh = tfc.concat %qn, %qx1 {axis = -1 : i64} : (tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>) -> tensor<?x4x?x16xf32>
  %qm2 = tfc.mul %qrh, %sin : (tensor<?x4x?x16xf32>, tensor<?x1x?x16xf32>) -> tensor<?x4x?x16xf32>
  %qr = tfc.add %qm1, %qm2 : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt0 = tfc.transpose %kh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %km1 = tfc.mul %kt0, %cos : (tensor<?x4x?x16xf32>, tensor<?x1x?x16xf32>) -> tensor<?x4x?x16xf32>
  %kx1 = tfc.slice %kt0, %c0, %c8 {axes = array<i64: 3>} : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %kx2 = tfc.slice %kt0, %c8, %c16 {axes = array<i64: 3>} : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %kn = tfc.neg %kx2 : (tensor<?x4x?x8xf32>) -> tensor<?x4x?x8xf32>
  %krh = tfc.concat %kn, %kx1 {axis = -1 : i64} : (tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>) -> tensor<?x4x?x16xf32>
  %km2 = tfc.mul %krh, %sin : (tensor<?x4x?x16xf32>, tensor<?x1x?x16xf32>) -> tensor<?x4x?x16xf32>
  %kr = tfc.add %km1, %km2 : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %kt = tfc.transpose %kr {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %s = tfc.matmul %qr, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %c = tfc.constant dense<0.25> : tensor<f32>
  %ss = tfc.mul %s, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %ss {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfc.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// GPT-J's interleaved partial rotary (transformers 4.40, torch 1.13 export as
// imported): rotary_dim 8 of dh 16 on the untransposed heads [B, S, H, dh],
// rotate_every_two(x) = flatten(stack(-x[1::2], x[0::2])) written as step-2
// slices, unit-axis reshapes and a concat on a new last axis; cos / sin are
// the repeat_interleave'd rows [B, S, 1, 8]; the transpose follows the concat.
// CHECK-LABEL: func.func @gptj_interleaved
// CHECK: %[[C:.*]] = tfc.reshape %arg1 {shape = array<i64: 0, -1, 8>} : (tensor<?x?x1x8xf32>) -> tensor<?x?x8xf32>
// CHECK: %[[S:.*]] = tfc.reshape %arg2 {shape = array<i64: 0, -1, 8>} : (tensor<?x?x1x8xf32>) -> tensor<?x?x8xf32>
// CHECK: %[[R:.*]] = tfc.rotary %arg0, %[[C]], %[[S]] {interleaved = true, num_heads = 4 : i64, rotary_dim = 8 : i64}
// CHECK: %[[H:.*]] = tfc.reshape %[[R]] {shape = array<i64: 0, 0, 4, 16>}
// CHECK: %[[T:.*]] = tfc.transpose %[[H]] {perm = array<i64: 0, 2, 1, 3>}
// CHECK-NOT: tfc.neg
// CHECK-NOT: tfc.concat
// CHECK: return %[[T]]
func.func @gptj_interleaved(%q: tensor<?x?x64xf32>, %cos: tensor<?x?x1x8xf32>, %sin: tensor<?x?x1x8xf32>) -> tensor<?x4x?x16xf32> {
  %c0 = tfc.constant dense<0> : tensor<1xi64>
  %c1 = tfc.constant dense<1> : tensor<1xi64>
  %c8 = tfc.constant dense<8> : tensor<1xi64>
  %c16 = tfc.constant dense<16> : tensor<1xi64>
  %end = tfc.constant dense<9223372036854775807> : tensor<1xi64>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %rot = tfc.slice %qh, %c0, %c8 {axes = array<i64: 3>} : (tensor<?x?x4x16xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x4x8xf32>
  %pass = tfc.slice %qh, %c8, %c16 {axes = array<i64: 3>} : (tensor<?x?x4x16xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x4x8xf32>
  %m1 = tfc.mul %rot, %cos : (tensor<?x?x4x8xf32>, tensor<?x?x1x8xf32>) -> tensor<?x?x4x8xf32>
  %x1 = tfc.slice %rot, %c0, %end {axes = array<i64: 3>, steps = array<i64: 2>} : (tensor<?x?x4x8xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x4x4xf32>
  %x2 = tfc.slice %rot, %c1, %end {axes = array<i64: 3>, steps = array<i64: 2>} : (tensor<?x?x4x8xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x4x4xf32>
  %n = tfc.neg %x2 : (tensor<?x?x4x4xf32>) -> tensor<?x?x4x4xf32>
  %u1 = tfc.reshape %n {shape = array<i64: 0, 0, 4, 4, 1>} : (tensor<?x?x4x4xf32>) -> tensor<?x?x4x4x1xf32>
  %u2 = tfc.reshape %x1 {shape = array<i64: 0, 0, 4, 4, 1>} : (tensor<?x?x4x4xf32>) -> tensor<?x?x4x4x1xf32>
  %st = tfc.concat %u1, %u2 {axis = -1 : i64} : (tensor<?x?x4x4x1xf32>, tensor<?x?x4x4x1xf32>) -> tensor<?x?x4x4x2xf32>
  %rt = tfc.reshape %st {shape = array<i64: 0, 0, 4, 8>} : (tensor<?x?x4x4x2xf32>) -> tensor<?x?x4x8xf32>
  %m2 = tfc.mul %rt, %sin : (tensor<?x?x4x8xf32>, tensor<?x?x1x8xf32>) -> tensor<?x?x4x8xf32>
  %r = tfc.add %m1, %m2 : (tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32>
  %out = tfc.concat %r, %pass {axis = -1 : i64} : (tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32>) -> tensor<?x?x4x16xf32>
  %t = tfc.transpose %out {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  return %t : tensor<?x4x?x16xf32>
}

// -----

// The interleaved form, full rotary (r = dh = 16), the neg after the unit
// axis, written as a mul by -1, products' operands swapped, tables [S, 1, r].
// CHECK-LABEL: func.func @interleaved_full
// CHECK: %[[C:.*]] = tfc.reshape %arg1 {shape = array<i64: -1, 16>} : (tensor<?x1x16xf32>) -> tensor<?x16xf32>
// CHECK: tfc.rotary %arg0, %[[C]], {{.*}} {interleaved = true, num_heads = 4 : i64, rotary_dim = 16 : i64}
// CHECK-NOT: tfc.concat
func.func @interleaved_full(%q: tensor<?x?x64xf32>, %cos: tensor<?x1x16xf32>, %sin: tensor<?x1x16xf32>) -> tensor<?x?x4x16xf32> {
  %c0 = tfc.constant dense<0> : tensor<1xi64>
  %c1 = tfc.constant dense<1> : tensor<1xi64>
  %end = tfc.constant dense<16> : tensor<1xi64>
  %m1c = tfc.constant dense<-1.0> : tensor<f32>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %m1 = tfc.mul %cos, %qh : (tensor<?x1x16xf32>, tensor<?x?x4x16xf32>) -> tensor<?x?x4x16xf32>
  %x1 = tfc.slice %qh, %c0, %end {axes = array<i64: -1>, steps = array<i64: 2>} : (tensor<?x?x4x16xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x4x8xf32>
  %x2 = tfc.slice %qh, %c1, %end {axes = array<i64: -1>, steps = array<i64: 2>} : (tensor<?x?x4x16xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x4x8xf32>
  %u1 = tfc.reshape %x2 {shape = array<i64: 0, 0, 4, 8, 1>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8x1xf32>
  %n = tfc.mul %u1, %m1c : (tensor<?x?x4x8x1xf32>, tensor<f32>) -> tensor<?x?x4x8x1xf32>
  %u2 = tfc.reshape %x1 {shape = array<i64: 0, 0, 4, 8, 1>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8x1xf32>
  %st = tfc.concat %n, %u2 {axis = 4 : i64} : (tensor<?x?x4x8x1xf32>, tensor<?x?x4x8x1xf32>) -> tensor<?x?x4x8x2xf32>
  %rt = tfc.reshape %st {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x4x8x2xf32>) -> tensor<?x?x4x16xf32>
  %m2 = tfc.mul %sin, %rt : (tensor<?x1x16xf32>, tensor<?x?x4x16xf32>) -> tensor<?x?x4x16xf32>
  %r = tfc.add %m2, %m1 : (tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>) -> tensor<?x?x4x16xf32>
  return %r : tensor<?x?x4x16xf32>
}

// -----

// Must not fuse: stack(x[0::2], -x[1::2]) is the inverse rotation, not
// rotate_every_two.
// CHECK-LABEL: func.func @interleaved_inverse_rotation
// CHECK-NOT: tfc.rotary
// CHECK: tfc.neg
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
  %r = tfc.add %m1, %m2 : (tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>) -> tensor<?x?x4x16xf32>
  return %r : tensor<?x?x4x16xf32>
}

// -----

// Must not fuse: the step-2 halves are taken from different values (x[0::2]
// of the query, x[1::2] of another tensor).
// CHECK-LABEL: func.func @interleaved_two_sources
// CHECK-NOT: tfc.rotary
// CHECK: tfc.neg
func.func @interleaved_two_sources(%q: tensor<?x?x64xf32>, %other: tensor<?x?x4x16xf32>, %cos: tensor<?x?x1x16xf32>, %sin: tensor<?x?x1x16xf32>) -> tensor<?x?x4x16xf32> {
  %c0 = tfc.constant dense<0> : tensor<1xi64>
  %c1 = tfc.constant dense<1> : tensor<1xi64>
  %end = tfc.constant dense<16> : tensor<1xi64>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %m1 = tfc.mul %qh, %cos : (tensor<?x?x4x16xf32>, tensor<?x?x1x16xf32>) -> tensor<?x?x4x16xf32>
  %x1 = tfc.slice %qh, %c0, %end {axes = array<i64: 3>, steps = array<i64: 2>} : (tensor<?x?x4x16xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x4x8xf32>
  %x2 = tfc.slice %other, %c1, %end {axes = array<i64: 3>, steps = array<i64: 2>} : (tensor<?x?x4x16xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x4x8xf32>
  %n = tfc.neg %x2 : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32>
  %u1 = tfc.reshape %n {shape = array<i64: 0, 0, 4, 8, 1>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8x1xf32>
  %u2 = tfc.reshape %x1 {shape = array<i64: 0, 0, 4, 8, 1>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8x1xf32>
  %st = tfc.concat %u1, %u2 {axis = -1 : i64} : (tensor<?x?x4x8x1xf32>, tensor<?x?x4x8x1xf32>) -> tensor<?x?x4x8x2xf32>
  %rt = tfc.reshape %st {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x4x8x2xf32>) -> tensor<?x?x4x16xf32>
  %m2 = tfc.mul %rt, %sin : (tensor<?x?x4x16xf32>, tensor<?x?x1x16xf32>) -> tensor<?x?x4x16xf32>
  %r = tfc.add %m1, %m2 : (tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>) -> tensor<?x?x4x16xf32>
  return %r : tensor<?x?x4x16xf32>
}
