// RUN: tfc-opt %s | tfc-opt | FileCheck %s
// RUN: tfc-opt %s -mlir-print-op-generic | tfc-opt | FileCheck %s

// The breadth ops (issue 11), parsed, printed and parsed again. The declared
// result types are static where inference gives a static type, so a wrong
// inferred shape fails the parse ("incompatible with return type").

// CHECK-LABEL: func.func @unary
// CHECK: tfc.abs %arg1 : (tensor<2x?xi64>) -> tensor<2x?xi64>
// CHECK: tfc.sign %arg0 : (tensor<?x64xf32>) -> tensor<?x64xf32>
// CHECK: tfc.ceil
// CHECK: tfc.floor
// CHECK: tfc.sin
// CHECK: tfc.cos
func.func @unary(%x: tensor<?x64xf32>, %i: tensor<2x?xi64>) -> (tensor<2x?xi64>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) {
  %0 = tfc.abs %i : (tensor<2x?xi64>) -> tensor<2x?xi64>
  %1 = tfc.sign %x : (tensor<?x64xf32>) -> tensor<?x64xf32>
  %2 = tfc.ceil %x : (tensor<?x64xf32>) -> tensor<?x64xf32>
  %3 = tfc.floor %x : (tensor<?x64xf32>) -> tensor<?x64xf32>
  %4 = tfc.sin %x : (tensor<?x64xf32>) -> tensor<?x64xf32>
  %5 = tfc.cos %x : (tensor<?x64xf32>) -> tensor<?x64xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<2x?xi64>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>
}

// CHECK-LABEL: func.func @compare
// CHECK: tfc.min %arg0, %arg1 : (tensor<?x1xi64>, tensor<5xi64>) -> tensor<?x5xi64>
// CHECK: tfc.equal %arg0, %arg1 : (tensor<?x1xi64>, tensor<5xi64>) -> tensor<?x5xi1>
// CHECK: tfc.less
// CHECK: tfc.less_equal
// CHECK: tfc.greater
// CHECK: tfc.greater_equal
// CHECK: tfc.equal %arg2, %arg2 : (tensor<3xi1>, tensor<3xi1>) -> tensor<3xi1>
func.func @compare(%a: tensor<?x1xi64>, %b: tensor<5xi64>, %c: tensor<3xi1>) -> (tensor<?x5xi64>, tensor<?x5xi1>, tensor<?x5xi1>, tensor<?x5xi1>, tensor<?x5xi1>, tensor<?x5xi1>, tensor<3xi1>) {
  %m = tfc.min %a, %b : (tensor<?x1xi64>, tensor<5xi64>) -> tensor<?x5xi64>
  %0 = tfc.equal %a, %b : (tensor<?x1xi64>, tensor<5xi64>) -> tensor<?x5xi1>
  %1 = tfc.less %a, %b : (tensor<?x1xi64>, tensor<5xi64>) -> tensor<?x5xi1>
  %2 = tfc.less_equal %a, %b : (tensor<?x1xi64>, tensor<5xi64>) -> tensor<?x5xi1>
  %3 = tfc.greater %a, %b : (tensor<?x1xi64>, tensor<5xi64>) -> tensor<?x5xi1>
  %4 = tfc.greater_equal %a, %b : (tensor<?x1xi64>, tensor<5xi64>) -> tensor<?x5xi1>
  %5 = tfc.equal %c, %c : (tensor<3xi1>, tensor<3xi1>) -> tensor<3xi1>
  return %m, %0, %1, %2, %3, %4, %5 : tensor<?x5xi64>, tensor<?x5xi1>, tensor<?x5xi1>, tensor<?x5xi1>, tensor<?x5xi1>, tensor<?x5xi1>, tensor<3xi1>
}

// CHECK-LABEL: func.func @indexing
// CHECK: tfc.cumsum %arg1 {axis = 1 : i64, exclusive = true, reverse = true} : (tensor<2x?xi64>) -> tensor<2x?xi64>
// CHECK: tfc.tile %arg0 {repeats = array<i64: 3, 2>} : (tensor<2x3xf32>) -> tensor<6x6xf32>
// CHECK: tfc.tile %arg1 {repeats = array<i64: 1, 2>} : (tensor<2x?xi64>) -> tensor<2x?xi64>
// CHECK: tfc.gather_elements %arg0, %arg2 {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x5xi64>) -> tensor<2x5xf32>
// CHECK: tfc.argmax %arg0 {axis = -1 : i64, keepdims = false} : (tensor<2x3xf32>) -> tensor<2xi64>
// CHECK: tfc.argmax %arg0 {axis = 0 : i64, select_last_index = true} : (tensor<2x3xf32>) -> tensor<1x3xi64>
// CHECK: tfc.trilu %arg0 {k = -1 : i64, upper = false} : (tensor<2x3xf32>) -> tensor<2x3xf32>
func.func @indexing(%x: tensor<2x3xf32>, %p: tensor<2x?xi64>, %i: tensor<2x5xi64>) -> (tensor<2x?xi64>, tensor<6x6xf32>, tensor<2x?xi64>, tensor<2x5xf32>, tensor<2xi64>, tensor<1x3xi64>, tensor<2x3xf32>) {
  %0 = tfc.cumsum %p {axis = 1 : i64, exclusive = true, reverse = true} : (tensor<2x?xi64>) -> tensor<2x?xi64>
  %1 = tfc.tile %x {repeats = array<i64: 3, 2>} : (tensor<2x3xf32>) -> tensor<6x6xf32>
  %2 = tfc.tile %p {repeats = array<i64: 1, 2>} : (tensor<2x?xi64>) -> tensor<2x?xi64>
  %3 = tfc.gather_elements %x, %i {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x5xi64>) -> tensor<2x5xf32>
  %4 = tfc.argmax %x {axis = -1 : i64, keepdims = false} : (tensor<2x3xf32>) -> tensor<2xi64>
  %5 = tfc.argmax %x {axis = 0 : i64, select_last_index = true} : (tensor<2x3xf32>) -> tensor<1x3xi64>
  %6 = tfc.trilu %x {upper = false, k = -1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0, %1, %2, %3, %4, %5, %6 : tensor<2x?xi64>, tensor<6x6xf32>, tensor<2x?xi64>, tensor<2x5xf32>, tensor<2xi64>, tensor<1x3xi64>, tensor<2x3xf32>
}

// CHECK-LABEL: func.func @conv
// CHECK: tfc.conv %arg0, %arg1, %arg2 {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 4, 4>} : (tensor<?x3x32x32xf32>, tensor<64x3x4x4xf32>, tensor<64xf32>) -> tensor<?x64x8x8xf32>
// CHECK: tfc.conv %arg3, %arg4 {dilations = array<i64: 2>, group = 2 : i64, pads = array<i64: 1, 2>, strides = array<i64: 2>} : (tensor<?x8x?xf32>, tensor<16x4x3xf32>) -> tensor<?x16x?xf32>
// CHECK: tfc.conv %arg5, %arg4 {dilations = array<i64: 2>, group = 2 : i64, pads = array<i64: 1, 2>, strides = array<i64: 2>} : (tensor<1x8x11xf32>, tensor<16x4x3xf32>) -> tensor<1x16x5xf32>
func.func @conv(%x: tensor<?x3x32x32xf32>, %w: tensor<64x3x4x4xf32>, %b: tensor<64xf32>,
                %a: tensor<?x8x?xf32>, %w1: tensor<16x4x3xf32>, %s: tensor<1x8x11xf32>) -> (tensor<?x64x8x8xf32>, tensor<?x16x?xf32>, tensor<1x16x5xf32>) {
  %0 = tfc.conv %x, %w, %b {strides = array<i64: 4, 4>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<?x3x32x32xf32>, tensor<64x3x4x4xf32>, tensor<64xf32>) -> tensor<?x64x8x8xf32>
  %1 = tfc.conv %a, %w1 {strides = array<i64: 2>, pads = array<i64: 1, 2>, dilations = array<i64: 2>, group = 2 : i64} : (tensor<?x8x?xf32>, tensor<16x4x3xf32>) -> tensor<?x16x?xf32>
  // padded 11 + 1 + 2 = 14, dilated kernel 2 * (3 - 1) + 1 = 5: (14 - 5) / 2 + 1 = 5
  %2 = tfc.conv %s, %w1 {strides = array<i64: 2>, pads = array<i64: 1, 2>, dilations = array<i64: 2>, group = 2 : i64} : (tensor<1x8x11xf32>, tensor<16x4x3xf32>) -> tensor<1x16x5xf32>
  return %0, %1, %2 : tensor<?x64x8x8xf32>, tensor<?x16x?xf32>, tensor<1x16x5xf32>
}
