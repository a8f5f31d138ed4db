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

// -----

// Scalar shape arithmetic of the exporters folds to constants: GPT-2's
// pow(cast(reshape(16)), 0.5) and torch 2 SDPA's sqrt(1 / sqrt(cast(16))).
// CHECK-LABEL: func.func @fold_splat_constants
// CHECK-DAG: %[[A:.*]] = tfc.constant dense<4.000000e+00> : tensor<f32>
// CHECK-DAG: %[[B:.*]] = tfc.constant dense<5.000000e-01> : tensor<1xf32>
// CHECK-NOT: tfc.pow
// CHECK-NOT: tfc.sqrt
// CHECK-NOT: tfc.cast
// CHECK: return %[[A]], %[[B]]
func.func @fold_splat_constants() -> (tensor<f32>, tensor<1xf32>) {
  %d16 = tfc.constant dense<16> : tensor<1xi64>
  %d = tfc.reshape %d16 {shape = array<i64>} : (tensor<1xi64>) -> tensor<i64>
  %df = tfc.cast %d : (tensor<i64>) -> tensor<f32>
  %half = tfc.constant dense<0.5> : tensor<f32>
  %a = tfc.pow %df, %half : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %one = tfc.constant dense<1.0> : tensor<1xf32>
  %df1 = tfc.cast %d16 : (tensor<1xi64>) -> tensor<1xf32>
  %s = tfc.sqrt %df1 : (tensor<1xf32>) -> tensor<1xf32>
  %r = tfc.div %one, %s : (tensor<1xf32>, tensor<1xf32>) -> tensor<1xf32>
  %b = tfc.sqrt %r : (tensor<1xf32>) -> tensor<1xf32>
  return %a, %b : tensor<f32>, tensor<1xf32>
}

// -----

// Negative: an operand from a run-time shape, a non-splat constant and a
// dynamic result type stay; a cast to an integer type is not folded.
// CHECK-LABEL: func.func @keep_non_constant_arithmetic
// CHECK: tfc.cast %{{.*}} : (tensor<1xi64>) -> tensor<1xf32>
// CHECK: tfc.sqrt %{{.*}} : (tensor<2xf32>) -> tensor<2xf32>
// CHECK: tfc.mul %{{.*}} : (tensor<?xf32>, tensor<f32>) -> tensor<?xf32>
// CHECK: tfc.cast %{{.*}} : (tensor<f32>) -> tensor<i64>
func.func @keep_non_constant_arithmetic(%x: tensor<?x64xf32>, %y: tensor<?xf32>) -> (tensor<1xf32>, tensor<2xf32>, tensor<?xf32>, tensor<i64>) {
  %shp = tfc.shape %x : (tensor<?x64xf32>) -> tensor<2xi64>
  %i0 = tfc.constant dense<0> : tensor<1xi64>
  %n = tfc.gather %shp, %i0 {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>) -> tensor<1xi64>
  %a = tfc.cast %n : (tensor<1xi64>) -> tensor<1xf32>
  %c = tfc.constant dense<[4.0, 9.0]> : tensor<2xf32>
  %b = tfc.sqrt %c : (tensor<2xf32>) -> tensor<2xf32>
  %two = tfc.constant dense<2.0> : tensor<f32>
  %m = tfc.mul %y, %two : (tensor<?xf32>, tensor<f32>) -> tensor<?xf32>
  %i = tfc.cast %two : (tensor<f32>) -> tensor<i64>
  return %a, %b, %m, %i : tensor<1xf32>, tensor<2xf32>, tensor<?xf32>, tensor<i64>
}
