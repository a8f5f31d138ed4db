// RUN: tfc-opt %s -tfc-pack-attention-inputs -tfc-dce -split-input-file | FileCheck %s

// What tfc-fuse-sibling-linears leaves: one q/k/v product, three slices of its
// last dim. The attention reads the product's columns; the slices go away.
// CHECK-LABEL: func.func @qkv
// CHECK: %[[Y:.*]] = tfc.linear
// CHECK-NOT: tfc.slice
// CHECK: %[[O:.*]] = tfc.attention %[[Y]], %[[Y]], %[[Y]], %arg1 {columns = array<i64: 0, 64, 128, 16>, mask_kind = #tfc<mask padding>, num_heads = 4 : i64, scale = 2.500000e-01 : f32} : (tensor<?x?x192xf32>, tensor<?x?x192xf32>, tensor<?x?x192xf32>, tensor<?x1x1x?xf32>) -> tensor<?x?x64xf32>
// CHECK: return %[[O]]
func.func @qkv(%x: tensor<?x?x64xf32>, %m: tensor<?x1x1x?xf32>) -> tensor<?x?x64xf32> {
  %w = tfc.weight "qkv.w" : tensor<64x192xf32>
  %y = tfc.linear %x, %w : (tensor<?x?x64xf32>, tensor<64x192xf32>) -> tensor<?x?x192xf32>
  %c0 = tfc.constant dense<0> : tensor<1xi64>
  %c64 = tfc.constant dense<64> : tensor<1xi64>
  %c128 = tfc.constant dense<128> : tensor<1xi64>
  %c192 = tfc.constant dense<192> : tensor<1xi64>
  %q = tfc.slice %y, %c0, %c64 {axes = array<i64: 2>} : (tensor<?x?x192xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x64xf32>
  %k = tfc.slice %y, %c64, %c128 {axes = array<i64: 2>} : (tensor<?x?x192xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x64xf32>
  %v = tfc.slice %y, %c128, %c192 {axes = array<i64: -1>} : (tensor<?x?x192xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x64xf32>
  %o = tfc.attention %q, %k, %v, %m {num_heads = 4 : i64, scale = 0.25 : f32, mask_kind = #tfc<mask padding>} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x1x1x?xf32>) -> tensor<?x?x64xf32>
  return %o : tensor<?x?x64xf32>
}

// -----

// Cross-attention with grouped heads: q is a whole value (column 0), k and v
// are columns of one k/v product (v first).
// CHECK-LABEL: func.func @cross
// CHECK: %[[O:.*]] = tfc.attention %arg0, %arg1, %arg1 {columns = array<i64: 0, 32, 0, 16>, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 2.500000e-01 : f32} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
// CHECK-NOT: tfc.slice
func.func @cross(%q: tensor<?x?x64xf32>, %kv: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %c0 = tfc.constant dense<0> : tensor<1xi64>
  %c32 = tfc.constant dense<32> : tensor<1xi64>
  %c64 = tfc.constant dense<64> : tensor<1xi64>
  %v = tfc.slice %kv, %c0, %c32 {axes = array<i64: 2>} : (tensor<?x?x64xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x32xf32>
  %k = tfc.slice %kv, %c32, %c64 {axes = array<i64: 2>} : (tensor<?x?x64xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x32xf32>
  %o = tfc.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 0.25 : f32} : (tensor<?x?x64xf32>, tensor<?x?x32xf32>, tensor<?x?x32xf32>) -> tensor<?x?x64xf32>
  return %o : tensor<?x?x64xf32>
}

// -----

// Left alone: a slice with a second use (k also returned), a slice of another
// axis, a strided slice and a slice with run-time bounds stay slices; the
// attention packs only the operands that qualify (here v).
// CHECK-LABEL: func.func @mixed
// CHECK: %[[K:.*]] = tfc.slice %arg0
// CHECK: %[[Q:.*]] = tfc.slice %arg1
// CHECK: %[[O:.*]] = tfc.attention %[[Q]], %[[K]], %arg0 {columns = array<i64: 0, 0, 128, 16>, num_heads = 4 : i64, scale = 2.500000e-01 : f32}
// CHECK: return %[[O]], %[[K]]
func.func @mixed(%y: tensor<?x?x192xf32>, %z: tensor<?x?x64xf32>, %end: tensor<1xi64>) -> (tensor<?x?x64xf32>, tensor<?x?x64xf32>) {
  %c0 = tfc.constant dense<0> : tensor<1xi64>
  %c64 = tfc.constant dense<64> : tensor<1xi64>
  %c128 = tfc.constant dense<128> : tensor<1xi64>
  %c192 = tfc.constant dense<192> : tensor<1xi64>
  %k = tfc.slice %y, %c64, %c128 {axes = array<i64: 2>} : (tensor<?x?x192xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x64xf32>
  %q = tfc.slice %z, %c0, %c64 {axes = array<i64: 1>} : (tensor<?x?x64xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x64xf32>
  %v = tfc.slice %y, %c128, %c192 {axes = array<i64: 2>} : (tensor<?x?x192xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x64xf32>
  %o = tfc.attention %q, %k, %v {num_heads = 4 : i64, scale = 0.25 : f32} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return %o, %k : tensor<?x?x64xf32>, tensor<?x?x64xf32>
}

// -----

// Strided or run-time bounds: nothing changes.
// CHECK-LABEL: func.func @unchanged
// CHECK-COUNT-3: tfc.slice
// CHECK: tfc.attention
// CHECK-NOT: columns
func.func @unchanged(%y: tensor<?x?x192xf32>, %end: tensor<1xi64>) -> tensor<?x?x64xf32> {
  %c0 = tfc.constant dense<0> : tensor<1xi64>
  %c64 = tfc.constant dense<64> : tensor<1xi64>
  %c128 = tfc.constant dense<128> : tensor<1xi64>
  %c192 = tfc.constant dense<192> : tensor<1xi64>
  %q = tfc.slice %y, %c0, %end {axes = array<i64: 2>} : (tensor<?x?x192xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x64xf32>
  %k = tfc.slice %y, %c0, %c128 {axes = array<i64: 2>, steps = array<i64: 2>} : (tensor<?x?x192xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x64xf32>
  %v = tfc.slice %y, %c64, %c192 {axes = array<i64: 2>, steps = array<i64: 2>} : (tensor<?x?x192xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x64xf32>
  %o = tfc.attention %q, %k, %v {num_heads = 4 : i64, scale = 0.25 : f32} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return %o : tensor<?x?x64xf32>
}
