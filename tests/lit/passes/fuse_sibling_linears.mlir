// RUN: tfc-opt %s -tfc-fuse-sibling-linears -split-input-file | FileCheck %s

// An attention block's q, k, v projections of one input: one linear over the
// concatenated weights and biases, one slice of its last dim per projection.
// CHECK-LABEL: func.func @qkv
// CHECK-DAG: %[[WQ:.*]] = tfc.weight "q.w"
// CHECK-DAG: %[[WK:.*]] = tfc.weight "k.w"
// CHECK-DAG: %[[WV:.*]] = tfc.weight "v.w"
// CHECK-DAG: %[[BQ:.*]] = tfc.weight "q.b"
// CHECK-DAG: %[[BK:.*]] = tfc.weight "k.b"
// CHECK-DAG: %[[BV:.*]] = tfc.weight "v.b"
// CHECK: %[[W:.*]] = tfc.concat %[[WQ]], %[[WK]], %[[WV]] {axis = 1 : i64} : (tensor<64x64xf32>, tensor<64x16xf32>, tensor<64x16xf32>) -> tensor<64x96xf32>
// CHECK: %[[B:.*]] = tfc.concat %[[BQ]], %[[BK]], %[[BV]] {axis = 0 : i64} : (tensor<64xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<96xf32>
// CHECK: %[[Y:.*]] = tfc.linear %arg0, %[[W]] bias(%[[B]]) {tfc.merged_linears = 3 : i64} : (tensor<?x?x64xf32>, tensor<64x96xf32>, tensor<96xf32>) -> tensor<?x?x96xf32>
// CHECK-DAG: %[[C0:.*]] = tfc.constant dense<0> : tensor<1xi64>
// CHECK-DAG: %[[C64:.*]] = tfc.constant dense<64> : tensor<1xi64>
// CHECK-DAG: %[[C80:.*]] = tfc.constant dense<80> : tensor<1xi64>
// CHECK-DAG: %[[C96:.*]] = tfc.constant dense<96> : tensor<1xi64>
// CHECK-DAG: %[[Q:.*]] = tfc.slice %[[Y]], %[[C0]], %[[C64]] {axes = array<i64: 2>} : (tensor<?x?x96xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x64xf32>
// CHECK-DAG: %[[K:.*]] = tfc.slice %[[Y]], %[[C64]], %[[C80]] {axes = array<i64: 2>}
// CHECK-DAG: %[[V:.*]] = tfc.slice %[[Y]], %[[C80]], %[[C96]] {axes = array<i64: 2>}
// CHECK-NOT: tfc.linear
// CHECK: return %[[Q]], %[[K]], %[[V]]
func.func @qkv(%x: tensor<?x?x64xf32>) -> (tensor<?x?x64xf32>, tensor<?x?x16xf32>, tensor<?x?x16xf32>) {
  %wq = tfc.weight "q.w" : tensor<64x64xf32>
  %bq = tfc.weight "q.b" : tensor<64xf32>
  %q = tfc.linear %x, %wq bias(%bq) : (tensor<?x?x64xf32>, tensor<64x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  %wk = tfc.weight "k.w" : tensor<64x16xf32>
  %bk = tfc.weight "k.b" : tensor<16xf32>
  %k = tfc.linear %x, %wk bias(%bk) : (tensor<?x?x64xf32>, tensor<64x16xf32>, tensor<16xf32>) -> tensor<?x?x16xf32>
  %wv = tfc.weight "v.w" : tensor<64x16xf32>
  %bv = tfc.weight "v.b" : tensor<16xf32>
  %v = tfc.linear %x, %wv bias(%bv) : (tensor<?x?x64xf32>, tensor<64x16xf32>, tensor<16xf32>) -> tensor<?x?x16xf32>
  return %q, %k, %v : tensor<?x?x64xf32>, tensor<?x?x16xf32>, tensor<?x?x16xf32>
}

// -----

// Not grouped: another input, a residual, a different activation, a bias on one
// only, a weight computed at run time. The two plain ones of %x group.
// CHECK-LABEL: func.func @mixed
// CHECK-COUNT-1: tfc.concat
// CHECK: tfc.linear %arg0, %{{.*}} {tfc.merged_linears = 2 : i64} : (tensor<?x32xf32>, tensor<32x16xf32>) -> tensor<?x16xf32>
// CHECK: tfc.linear %arg1, %{{.*}} : (tensor<?x32xf32>, tensor<32x8xf32>) -> tensor<?x8xf32>
// CHECK: tfc.linear %arg0, %{{.*}} residual(%arg2)
// CHECK: tfc.linear %arg0, %{{.*}} {activation = #tfc<activation relu>}
// CHECK: tfc.linear %arg0, %{{.*}} bias(%{{.*}})
// CHECK: tfc.linear %arg0, %arg3
func.func @mixed(%x: tensor<?x32xf32>, %y: tensor<?x32xf32>, %r: tensor<?x8xf32>, %wrt: tensor<32x8xf32>)
    -> (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>) {
  %w1 = tfc.weight "a.w" : tensor<32x8xf32>
  %w2 = tfc.weight "b.w" : tensor<32x8xf32>
  %w3 = tfc.weight "c.w" : tensor<32x8xf32>
  %w4 = tfc.weight "d.w" : tensor<32x8xf32>
  %w5 = tfc.weight "e.w" : tensor<32x8xf32>
  %w6 = tfc.weight "f.w" : tensor<32x8xf32>
  %b5 = tfc.weight "e.b" : tensor<8xf32>
  %a = tfc.linear %x, %w1 : (tensor<?x32xf32>, tensor<32x8xf32>) -> tensor<?x8xf32>
  %b = tfc.linear %y, %w2 : (tensor<?x32xf32>, tensor<32x8xf32>) -> tensor<?x8xf32>
  %c = tfc.linear %x, %w3 residual(%r) : (tensor<?x32xf32>, tensor<32x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  %d = tfc.linear %x, %w4 {activation = #tfc<activation relu>} : (tensor<?x32xf32>, tensor<32x8xf32>) -> tensor<?x8xf32>
  %e = tfc.linear %x, %w5 bias(%b5) : (tensor<?x32xf32>, tensor<32x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  %f = tfc.linear %x, %wrt : (tensor<?x32xf32>, tensor<32x8xf32>) -> tensor<?x8xf32>
  %g = tfc.linear %x, %w6 : (tensor<?x32xf32>, tensor<32x8xf32>) -> tensor<?x8xf32>
  return %a, %b, %c, %d, %e, %f, %g : tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>
}
