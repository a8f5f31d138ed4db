// RUN: tfc-opt %s -split-input-file -tfc-canonicalize -tfc-fuse-attention | FileCheck %s

// DeBERTa-v2/v3 disentangled attention as the ONNX importer leaves it
// (tests/onnx/arch/models/deberta-v2.onnx, transformers 4.40 DebertaV2Model):
// the scores are Q K^T / sqrt(3 dh) plus the content->position and
// position->content terms, gather_elements of Q @ pos_key^T and of
// K @ pos_query^T by relative-position indices (the p2c term transposed), each
// divided by sqrt(3 dh); XSoftmax masks with where(hide, lowest, s) before the
// softmax and where(hide, 0, p) after it. D = 64, H = 4, dh = 16; B, S dynamic;
// pos_key^T / pos_query^T are [B, 4, 16, 2k] with 2k = 32.
// fusion_report_deberta.mlir checks the reasons of the negative cases.

// The c2p and p2c terms are float mask terms that the Q and K head splits
// also feed (those uses stay: the terms become the mask operand); the hide
// mask is and-ed into it as -inf. The where after the softmax zeroes what the
// where before it hid: a row hiding every key is zeros in the graph, so the
// lowest-float fill's clamp is dropped (no tfc.max: the fused op's rows with
// every key hidden are zeros).
// CHECK-LABEL: func.func @deberta
// CHECK: %[[C2P:.*]] = tfc.div %{{.*}}, %{{.*}} : (tensor<?x4x?x?xf32>, tensor<f32>)
// CHECK: %[[P2C:.*]] = tfc.div %{{.*}}, %{{.*}} : (tensor<?x4x?x?xf32>, tensor<f32>)
// CHECK: %[[KEEP:.*]] = tfc.where %arg7, %{{.*}}, %{{.*}} : (tensor<?x1x?x?xi1>, tensor<i1>, tensor<i1>)
// CHECK: %[[BIAS:.*]] = tfc.add %[[C2P]], %[[P2C]]
// CHECK: %[[HIDDEN:.*]] = tfc.where %[[KEEP]], %{{.*}}, %{{.*}} : (tensor<?x1x?x?xi1>, tensor<f32>, tensor<f32>) -> tensor<?x1x?x?xf32>
// CHECK: %[[M:.*]] = tfc.add %[[BIAS]], %[[HIDDEN]]
// CHECK-NOT: tfc.max
// CHECK: tfc.attention %arg0, %arg1, %arg2, %[[M]] {mask_kind = #tfc<mask padding>, num_heads = 4 : i64, scale = 0.144337565 : f32}
// CHECK-NOT: tfc.softmax
// CHECK: return
func.func @deberta(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %pkt: tensor<?x4x16x32xf32>, %pqt: tensor<?x4x16x32xf32>, %idx: tensor<?x4x?x?xi64>, %idx2: tensor<?x4x?x?xi64>, %hide: tensor<?x1x?x?xi1>) -> (tensor<?x?x64xf32>) {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %ktt = tfc.transpose %kt {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %c = tfc.constant dense<6.92820311> : tensor<f32>
  %ktd = tfc.div %ktt, %c : (tensor<?x4x16x?xf32>, tensor<f32>) -> tensor<?x4x16x?xf32>
  %s = tfc.matmul %qt, %ktd : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %c2pa = tfc.matmul %qt, %pkt : (tensor<?x4x?x16xf32>, tensor<?x4x16x32xf32>) -> tensor<?x4x?x32xf32>
  %c2p = tfc.gather_elements %c2pa, %idx {axis = 3 : i64} : (tensor<?x4x?x32xf32>, tensor<?x4x?x?xi64>) -> tensor<?x4x?x?xf32>
  %c2pd = tfc.div %c2p, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %p2ca = tfc.matmul %kt, %pqt : (tensor<?x4x?x16xf32>, tensor<?x4x16x32xf32>) -> tensor<?x4x?x32xf32>
  %p2c = tfc.gather_elements %p2ca, %idx2 {axis = 3 : i64} : (tensor<?x4x?x32xf32>, tensor<?x4x?x?xi64>) -> tensor<?x4x?x?xf32>
  %p2ct = tfc.transpose %p2c {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p2cd = tfc.div %p2ct, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %bias = tfc.add %c2pd, %p2cd : (tensor<?x4x?x?xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %sb = tfc.add %s, %bias : (tensor<?x4x?x?xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %low = tfc.constant dense<-3.40282347E+38> : tensor<f32>
  %sw = tfc.where %hide, %low, %sb : (tensor<?x1x?x?xi1>, tensor<f32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %sw {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %zero = tfc.constant dense<0.000000e+00> : tensor<f32>
  %pz = tfc.where %hide, %zero, %p : (tensor<?x1x?x?xi1>, tensor<f32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %o = tfc.matmul %pz, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// The condition written out once per use: two casts of one value to i1 are
// the same condition.
// CHECK-LABEL: func.func @deberta_two_casts
// CHECK: tfc.attention %arg0, %arg1, %arg2, %{{.*}} {mask_kind = #tfc<mask padding>, num_heads = 4 : i64, scale = 0.144337565 : f32}
// CHECK-NOT: tfc.softmax
func.func @deberta_two_casts(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %pkt: tensor<?x4x16x32xf32>, %pqt: tensor<?x4x16x32xf32>, %idx: tensor<?x4x?x?xi64>, %idx2: tensor<?x4x?x?xi64>, %m: tensor<?x1x?x?xi64>) -> (tensor<?x?x64xf32>) {
  %hide = tfc.cast %m : (tensor<?x1x?x?xi64>) -> tensor<?x1x?x?xi1>
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %ktt = tfc.transpose %kt {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %c = tfc.constant dense<6.92820311> : tensor<f32>
  %ktd = tfc.div %ktt, %c : (tensor<?x4x16x?xf32>, tensor<f32>) -> tensor<?x4x16x?xf32>
  %s = tfc.matmul %qt, %ktd : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %c2pa = tfc.matmul %qt, %pkt : (tensor<?x4x?x16xf32>, tensor<?x4x16x32xf32>) -> tensor<?x4x?x32xf32>
  %c2p = tfc.gather_elements %c2pa, %idx {axis = 3 : i64} : (tensor<?x4x?x32xf32>, tensor<?x4x?x?xi64>) -> tensor<?x4x?x?xf32>
  %c2pd = tfc.div %c2p, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %p2ca = tfc.matmul %kt, %pqt : (tensor<?x4x?x16xf32>, tensor<?x4x16x32xf32>) -> tensor<?x4x?x32xf32>
  %p2c = tfc.gather_elements %p2ca, %idx2 {axis = 3 : i64} : (tensor<?x4x?x32xf32>, tensor<?x4x?x?xi64>) -> tensor<?x4x?x?xf32>
  %p2ct = tfc.transpose %p2c {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p2cd = tfc.div %p2ct, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %bias = tfc.add %c2pd, %p2cd : (tensor<?x4x?x?xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %sb = tfc.add %s, %bias : (tensor<?x4x?x?xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %low = tfc.constant dense<-3.40282347E+38> : tensor<f32>
  %sw = tfc.where %hide, %low, %sb : (tensor<?x1x?x?xi1>, tensor<f32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %sw {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %zero = tfc.constant dense<0.000000e+00> : tensor<f32>
  %hide2 = tfc.cast %m : (tensor<?x1x?x?xi64>) -> tensor<?x1x?x?xi1>
  %pz = tfc.where %hide2, %zero, %p : (tensor<?x1x?x?xi1>, tensor<f32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %o = tfc.matmul %pz, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// Must not fuse: the where after the softmax zeroes by another condition
// than the one the where before it hid (it changes visible probabilities).
// CHECK-LABEL: func.func @deberta_zero_other_condition
// CHECK-NOT: tfc.attention
// CHECK: tfc.softmax
func.func @deberta_zero_other_condition(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %pkt: tensor<?x4x16x32xf32>, %pqt: tensor<?x4x16x32xf32>, %idx: tensor<?x4x?x?xi64>, %idx2: tensor<?x4x?x?xi64>, %hide: tensor<?x1x?x?xi1>, %other: tensor<?x1x?x?xi1>) -> (tensor<?x?x64xf32>) {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %ktt = tfc.transpose %kt {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %c = tfc.constant dense<6.92820311> : tensor<f32>
  %ktd = tfc.div %ktt, %c : (tensor<?x4x16x?xf32>, tensor<f32>) -> tensor<?x4x16x?xf32>
  %s = tfc.matmul %qt, %ktd : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %c2pa = tfc.matmul %qt, %pkt : (tensor<?x4x?x16xf32>, tensor<?x4x16x32xf32>) -> tensor<?x4x?x32xf32>
  %c2p = tfc.gather_elements %c2pa, %idx {axis = 3 : i64} : (tensor<?x4x?x32xf32>, tensor<?x4x?x?xi64>) -> tensor<?x4x?x?xf32>
  %c2pd = tfc.div %c2p, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %p2ca = tfc.matmul %kt, %pqt : (tensor<?x4x?x16xf32>, tensor<?x4x16x32xf32>) -> tensor<?x4x?x32xf32>
  %p2c = tfc.gather_elements %p2ca, %idx2 {axis = 3 : i64} : (tensor<?x4x?x32xf32>, tensor<?x4x?x?xi64>) -> tensor<?x4x?x?xf32>
  %p2ct = tfc.transpose %p2c {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p2cd = tfc.div %p2ct, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %bias = tfc.add %c2pd, %p2cd : (tensor<?x4x?x?xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %sb = tfc.add %s, %bias : (tensor<?x4x?x?xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %low = tfc.constant dense<-3.40282347E+38> : tensor<f32>
  %sw = tfc.where %hide, %low, %sb : (tensor<?x1x?x?xi1>, tensor<f32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %sw {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %zero = tfc.constant dense<0.000000e+00> : tensor<f32>
  %pz = tfc.where %other, %zero, %p : (tensor<?x1x?x?xi1>, tensor<f32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %o = tfc.matmul %pz, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// Must not fuse: the where after the softmax zeroes the keys the mask keeps.
// CHECK-LABEL: func.func @deberta_zero_keeps
// CHECK-NOT: tfc.attention
// CHECK: tfc.softmax
func.func @deberta_zero_keeps(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %pkt: tensor<?x4x16x32xf32>, %pqt: tensor<?x4x16x32xf32>, %idx: tensor<?x4x?x?xi64>, %idx2: tensor<?x4x?x?xi64>, %hide: tensor<?x1x?x?xi1>) -> (tensor<?x?x64xf32>) {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %ktt = tfc.transpose %kt {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %c = tfc.constant dense<6.92820311> : tensor<f32>
  %ktd = tfc.div %ktt, %c : (tensor<?x4x16x?xf32>, tensor<f32>) -> tensor<?x4x16x?xf32>
  %s = tfc.matmul %qt, %ktd : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %c2pa = tfc.matmul %qt, %pkt : (tensor<?x4x?x16xf32>, tensor<?x4x16x32xf32>) -> tensor<?x4x?x32xf32>
  %c2p = tfc.gather_elements %c2pa, %idx {axis = 3 : i64} : (tensor<?x4x?x32xf32>, tensor<?x4x?x?xi64>) -> tensor<?x4x?x?xf32>
  %c2pd = tfc.div %c2p, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %p2ca = tfc.matmul %kt, %pqt : (tensor<?x4x?x16xf32>, tensor<?x4x16x32xf32>) -> tensor<?x4x?x32xf32>
  %p2c = tfc.gather_elements %p2ca, %idx2 {axis = 3 : i64} : (tensor<?x4x?x32xf32>, tensor<?x4x?x?xi64>) -> tensor<?x4x?x?xf32>
  %p2ct = tfc.transpose %p2c {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p2cd = tfc.div %p2ct, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %bias = tfc.add %c2pd, %p2cd : (tensor<?x4x?x?xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %sb = tfc.add %s, %bias : (tensor<?x4x?x?xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %low = tfc.constant dense<-3.40282347E+38> : tensor<f32>
  %sw = tfc.where %hide, %low, %sb : (tensor<?x1x?x?xi1>, tensor<f32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %sw {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %zero = tfc.constant dense<0.000000e+00> : tensor<f32>
  %pz = tfc.where %hide, %p, %zero : (tensor<?x1x?x?xi1>, tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %o = tfc.matmul %pz, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// Must not fuse: the Q heads are also used by something other than the score
// terms (returned).
// CHECK-LABEL: func.func @deberta_query_used_elsewhere
// CHECK-NOT: tfc.attention
// CHECK: tfc.softmax
func.func @deberta_query_used_elsewhere(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %pkt: tensor<?x4x16x32xf32>, %pqt: tensor<?x4x16x32xf32>, %idx: tensor<?x4x?x?xi64>, %idx2: tensor<?x4x?x?xi64>, %hide: tensor<?x1x?x?xi1>) -> (tensor<?x?x64xf32>, tensor<?x4x?x16xf32>) {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %ktt = tfc.transpose %kt {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %c = tfc.constant dense<6.92820311> : tensor<f32>
  %ktd = tfc.div %ktt, %c : (tensor<?x4x16x?xf32>, tensor<f32>) -> tensor<?x4x16x?xf32>
  %s = tfc.matmul %qt, %ktd : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %c2pa = tfc.matmul %qt, %pkt : (tensor<?x4x?x16xf32>, tensor<?x4x16x32xf32>) -> tensor<?x4x?x32xf32>
  %c2p = tfc.gather_elements %c2pa, %idx {axis = 3 : i64} : (tensor<?x4x?x32xf32>, tensor<?x4x?x?xi64>) -> tensor<?x4x?x?xf32>
  %c2pd = tfc.div %c2p, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %p2ca = tfc.matmul %kt, %pqt : (tensor<?x4x?x16xf32>, tensor<?x4x16x32xf32>) -> tensor<?x4x?x32xf32>
  %p2c = tfc.gather_elements %p2ca, %idx2 {axis = 3 : i64} : (tensor<?x4x?x32xf32>, tensor<?x4x?x?xi64>) -> tensor<?x4x?x?xf32>
  %p2ct = tfc.transpose %p2c {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p2cd = tfc.div %p2ct, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %bias = tfc.add %c2pd, %p2cd : (tensor<?x4x?x?xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %sb = tfc.add %s, %bias : (tensor<?x4x?x?xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %low = tfc.constant dense<-3.40282347E+38> : tensor<f32>
  %sw = tfc.where %hide, %low, %sb : (tensor<?x1x?x?xi1>, tensor<f32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %sw {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %zero = tfc.constant dense<0.000000e+00> : tensor<f32>
  %pz = tfc.where %hide, %zero, %p : (tensor<?x1x?x?xi1>, tensor<f32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %o = tfc.matmul %pz, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om, %qt : tensor<?x?x64xf32>, tensor<?x4x?x16xf32>
}

// -----

// Must not fuse: K @ pos_query^T is also used outside the score terms, so the
// K head split feeds more than the scores and the terms.
// CHECK-LABEL: func.func @deberta_key_split_used_elsewhere
// CHECK-NOT: tfc.attention
// CHECK: tfc.softmax
func.func @deberta_key_split_used_elsewhere(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %pkt: tensor<?x4x16x32xf32>, %pqt: tensor<?x4x16x32xf32>, %idx: tensor<?x4x?x?xi64>, %idx2: tensor<?x4x?x?xi64>, %hide: tensor<?x1x?x?xi1>) -> (tensor<?x?x64xf32>, tensor<?x4x?x32xf32>) {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %ktt = tfc.transpose %kt {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %c = tfc.constant dense<6.92820311> : tensor<f32>
  %ktd = tfc.div %ktt, %c : (tensor<?x4x16x?xf32>, tensor<f32>) -> tensor<?x4x16x?xf32>
  %s = tfc.matmul %qt, %ktd : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %c2pa = tfc.matmul %qt, %pkt : (tensor<?x4x?x16xf32>, tensor<?x4x16x32xf32>) -> tensor<?x4x?x32xf32>
  %c2p = tfc.gather_elements %c2pa, %idx {axis = 3 : i64} : (tensor<?x4x?x32xf32>, tensor<?x4x?x?xi64>) -> tensor<?x4x?x?xf32>
  %c2pd = tfc.div %c2p, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %p2ca = tfc.matmul %kt, %pqt : (tensor<?x4x?x16xf32>, tensor<?x4x16x32xf32>) -> tensor<?x4x?x32xf32>
  %p2c = tfc.gather_elements %p2ca, %idx2 {axis = 3 : i64} : (tensor<?x4x?x32xf32>, tensor<?x4x?x?xi64>) -> tensor<?x4x?x?xf32>
  %p2ct = tfc.transpose %p2c {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p2cd = tfc.div %p2ct, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %bias = tfc.add %c2pd, %p2cd : (tensor<?x4x?x?xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %sb = tfc.add %s, %bias : (tensor<?x4x?x?xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %low = tfc.constant dense<-3.40282347E+38> : tensor<f32>
  %sw = tfc.where %hide, %low, %sb : (tensor<?x1x?x?xi1>, tensor<f32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p = tfc.softmax %sw {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %zero = tfc.constant dense<0.000000e+00> : tensor<f32>
  %pz = tfc.where %hide, %zero, %p : (tensor<?x1x?x?xi1>, tensor<f32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %o = tfc.matmul %pz, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om, %p2ca : tensor<?x?x64xf32>, tensor<?x4x?x32xf32>
}
