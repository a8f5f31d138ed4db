// RUN: tfc-opt %s -tfc-canonicalize -split-input-file | FileCheck %s

// Two transposes compose into one ([0,2,1,3] then [0,1,3,2] = [0,2,3,1]).
// CHECK-LABEL: func.func @compose_transposes
// CHECK-NEXT: %[[T:.*]] = tfc.transpose %arg0 {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
// CHECK-NEXT: return %[[T]]
func.func @compose_transposes(%x: tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32> {
  %a = tfc.transpose %x {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %b = tfc.transpose %a {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  return %b : tensor<?x4x16x?xf32>
}

// -----

// Transposes that undo each other disappear.
// CHECK-LABEL: func.func @inverse_transposes
// CHECK-NEXT: return %arg0
func.func @inverse_transposes(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %a = tfc.transpose %x {perm = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  %b = tfc.transpose %a {perm = array<i64: 2, 0, 1>} : (tensor<3x4x2xf32>) -> tensor<2x3x4xf32>
  return %b : tensor<2x3x4xf32>
}

// -----

// A reshape to a static shape ignores the reshape before it.
// CHECK-LABEL: func.func @compose_static_reshapes
// CHECK-NEXT: %[[R:.*]] = tfc.reshape %arg0 {shape = array<i64: 8, 16>} : (tensor<2x4x16xf32>) -> tensor<8x16xf32>
// CHECK-NEXT: return %[[R]]
func.func @compose_static_reshapes(%x: tensor<2x4x16xf32>) -> tensor<8x16xf32> {
  %a = tfc.reshape %x {shape = array<i64: 2, 64>} : (tensor<2x4x16xf32>) -> tensor<2x64xf32>
  %b = tfc.reshape %a {shape = array<i64: 8, 16>} : (tensor<2x64xf32>) -> tensor<8x16xf32>
  return %b : tensor<8x16xf32>
}

// -----

// A reshape that copies (0) or infers (-1) dims depends on its input's shape:
// both reshapes stay.
// CHECK-LABEL: func.func @keep_dynamic_reshapes
// CHECK: tfc.reshape %arg0 {shape = array<i64: 0, 0, 4, 16>}
// CHECK: tfc.reshape %{{.*}} {shape = array<i64: 0, -1, 16>}
func.func @keep_dynamic_reshapes(%x: tensor<?x?x64xf32>) -> tensor<?x?x16xf32> {
  %a = tfc.reshape %x {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %b = tfc.reshape %a {shape = array<i64: 0, -1, 16>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x16xf32>
  return %b : tensor<?x?x16xf32>
}

// -----

// x * 1, 1 * x, x / 1, x + 0, 0 + x, x - 0 are x; a cast to the same type is x.
// CHECK-LABEL: func.func @neutral_operands
// CHECK-NOT: tfc.mul
// CHECK-NOT: tfc.div
// CHECK-NOT: tfc.add
// CHECK-NOT: tfc.sub
// CHECK-NOT: tfc.cast
// CHECK: return %arg0
func.func @neutral_operands(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %one = tfc.constant dense<1.0> : tensor<f32>
  %zero = tfc.constant dense<0.0> : tensor<f32>
  %a = tfc.mul %x, %one : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %b = tfc.mul %one, %a : (tensor<f32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  %c = tfc.div %b, %one : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %d = tfc.add %c, %zero : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %e = tfc.add %zero, %d : (tensor<f32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  %f = tfc.sub %e, %zero : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %g = tfc.cast %f : (tensor<?x64xf32>) -> tensor<?x64xf32>
  return %g : tensor<?x64xf32>
}

// -----

// Negative: 0 - x is not x, 1 / x is not x, and x * ones that broadcasts x to
// a larger shape is not x.
// CHECK-LABEL: func.func @not_neutral
// CHECK: tfc.sub %{{.*}}, %arg0
// CHECK: tfc.div %{{.*}}, %arg0
// CHECK: tfc.mul %arg0, %{{.*}} : (tensor<64xf32>, tensor<2x64xf32>) -> tensor<2x64xf32>
// CHECK: tfc.cast %arg0 : (tensor<64xf32>) -> tensor<64xf16>
func.func @not_neutral(%x: tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>, tensor<2x64xf32>, tensor<64xf16>) {
  %zero = tfc.constant dense<0.0> : tensor<f32>
  %one = tfc.constant dense<1.0> : tensor<f32>
  %ones = tfc.constant dense<1.0> : tensor<2x64xf32>
  %a = tfc.sub %zero, %x : (tensor<f32>, tensor<64xf32>) -> tensor<64xf32>
  %b = tfc.div %one, %x : (tensor<f32>, tensor<64xf32>) -> tensor<64xf32>
  %c = tfc.mul %x, %ones : (tensor<64xf32>, tensor<2x64xf32>) -> tensor<2x64xf32>
  %d = tfc.cast %x : (tensor<64xf32>) -> tensor<64xf16>
  return %a, %b, %c, %d : tensor<64xf32>, tensor<64xf32>, tensor<2x64xf32>, tensor<64xf16>
}
