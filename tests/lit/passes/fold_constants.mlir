// RUN: tfc-opt %s -tfc-fold-constants -tfc-dce -split-input-file | FileCheck %s

// tfc-fold-constants without the weights' bytes (tfc-opt): ops on tfc.constant values fold,
// tfc.weight stays opaque. The weight case (`transpose(wte)` -> `tfc.weight "lm_head/transpose"`)
// is in tests/lit/tools/fold_weights.test. tfc-dce then removes the constants nothing reads
// any more. Expected values are worked out by hand.

// A transpose of a constant becomes the transposed constant.
// CHECK-LABEL: func.func @transpose
// CHECK-NEXT: %[[C:.*]] = tfc.constant dense<{{\[}}[1.000000e+00, 4.000000e+00], [2.000000e+00, 5.000000e+00], [3.000000e+00, 6.000000e+00]]> : tensor<3x2xf32>
// CHECK-NEXT: %[[M:.*]] = tfc.matmul %arg0, %[[C]]
// CHECK-NEXT: return %[[M]]
func.func @transpose(%x: tensor<?x3xf32>) -> tensor<?x2xf32> {
  %w = tfc.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %t = tfc.transpose %w {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %y = tfc.matmul %x, %t : (tensor<?x3xf32>, tensor<3x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// A chain folds in one walk and only its last value is materialized: slice rows [1, 3) with
// a negative end (-1 = 3), then reshape, then a 3-D transpose.
// CHECK-LABEL: func.func @chain
// CHECK-NEXT: %[[C:.*]] = tfc.constant dense<{{\[}}[
// CHECK-SAME: [4, 6], [5, 7]]]> : tensor<1x2x2xi64>
// CHECK-NEXT: tfc.add %arg0, %[[C]]
// CHECK-NOT: tfc.slice
func.func @chain(%x: tensor<?x2x2xi64>) -> tensor<?x2x2xi64> {
  %table = tfc.constant dense<[[0, 1], [4, 5], [6, 7], [8, 9]]> : tensor<4x2xi64>
  %s = tfc.constant dense<[1]> : tensor<1xi64>
  %e = tfc.constant dense<[-1]> : tensor<1xi64>
  %rows = tfc.slice %table, %s, %e {axes = array<i64: 0>} : (tensor<4x2xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x2xi64>
  %r = tfc.reshape %rows {shape = array<i64: 1, 2, 2>} : (tensor<2x2xi64>) -> tensor<1x2x2xi64>
  %t = tfc.transpose %r {perm = array<i64: 0, 2, 1>} : (tensor<1x2x2xi64>) -> tensor<1x2x2xi64>
  %y = tfc.add %x, %t : (tensor<?x2x2xi64>, tensor<1x2x2xi64>) -> tensor<?x2x2xi64>
  return %y : tensor<?x2x2xi64>
}

// -----

// A slice with a negative step walks backwards (ONNX clamping: start 10 -> 3).
// CHECK-LABEL: func.func @slice_reverse
// CHECK-NEXT: %[[C:.*]] = tfc.constant dense<[4.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK-NEXT: return %[[C]]
func.func @slice_reverse() -> tensor<2xf32> {
  %v = tfc.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %s = tfc.constant dense<[10]> : tensor<1xi64>
  %e = tfc.constant dense<[0]> : tensor<1xi64>
  %r = tfc.slice %v, %s, %e {axes = array<i64: 0>, steps = array<i64: -2>} : (tensor<4xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

// Gather with a negative index (-1 = the last row) along axis 0.
// CHECK-LABEL: func.func @gather
// CHECK-NEXT: %[[C:.*]] = tfc.constant dense<{{\[}}[5.000000e+00, 6.000000e+00], [1.000000e+00, 2.000000e+00]]> : tensor<2x2xf32>
// CHECK-NEXT: return %[[C]]
func.func @gather() -> tensor<2x2xf32> {
  %t = tfc.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
  %i = tfc.constant dense<[-1, 0]> : tensor<2xi64>
  %g = tfc.gather %t, %i {axis = 0 : i64} : (tensor<3x2xf32>, tensor<2xi64>) -> tensor<2x2xf32>
  return %g : tensor<2x2xf32>
}

// -----

// Concat on the last axis, then expand [2, 3] -> [2, 2, 3] (a new leading dim).
// CHECK-LABEL: func.func @concat_expand
// CHECK-NEXT: %[[C:.*]] = tfc.constant dense<{{\[}}{{\[}}[1, 2, 3], [4, 5, 6]], {{\[}}[1, 2, 3], [4, 5, 6]]]> : tensor<2x2x3xi64>
// CHECK-NEXT: return %[[C]]
func.func @concat_expand() -> tensor<2x2x3xi64> {
  %a = tfc.constant dense<[[1], [4]]> : tensor<2x1xi64>
  %b = tfc.constant dense<[[2, 3], [5, 6]]> : tensor<2x2xi64>
  %c = tfc.concat %a, %b {axis = -1 : i64} : (tensor<2x1xi64>, tensor<2x2xi64>) -> tensor<2x3xi64>
  %shape = tfc.constant dense<[2, 2, 3]> : tensor<3xi64>
  %e = tfc.expand %c, %shape : (tensor<2x3xi64>, tensor<3xi64>) -> tensor<2x2x3xi64>
  return %e : tensor<2x2x3xi64>
}

// -----

// A causal mask built from constants: where(cast<i1>(table), 0, -inf) with broadcasting.
// CHECK-LABEL: func.func @where_cast
// CHECK-NEXT: %[[C:.*]] = tfc.constant dense<{{\[}}[0.000000e+00, 0xFF800000], [0.000000e+00, 0.000000e+00]]> : tensor<2x2xf32>
// CHECK-NEXT: return %[[C]]
func.func @where_cast() -> tensor<2x2xf32> {
  %t = tfc.constant dense<[[1, 0], [1, 1]]> : tensor<2x2xi64>
  %b = tfc.cast %t : (tensor<2x2xi64>) -> tensor<2x2xi1>
  %zero = tfc.constant dense<0.0> : tensor<f32>
  %ninf = tfc.constant dense<0xFF800000> : tensor<1xf32>
  %m = tfc.where %b, %zero, %ninf : (tensor<2x2xi1>, tensor<f32>, tensor<1xf32>) -> tensor<2x2xf32>
  return %m : tensor<2x2xf32>
}

// -----

// Binary ops broadcast ([2, 1] - [3] -> [2, 3]); unary ops follow the runtime's formulas;
// cast f32 -> i64 truncates toward zero; shape of a constant is its static dims.
// CHECK-LABEL: func.func @arithmetic
// CHECK-DAG: tfc.constant dense<{{\[}}[9.000000e+00, 8.000000e+00, 7.000000e+00], [1.900000e+01, 1.800000e+01, 1.700000e+01]]> : tensor<2x3xf32>
// CHECK-DAG: tfc.constant dense<[2.000000e+00, 3.000000e+00, -0.000000e+00]> : tensor<3xf32>
// CHECK-DAG: tfc.constant dense<[1, -2, 0]> : tensor<3xi64>
// CHECK-DAG: tfc.constant dense<[3, 1]> : tensor<2xi64>
// CHECK-DAG: tfc.constant dense<[2, -1]> : tensor<2xi64>
// CHECK-NOT: tfc.sub
// CHECK-NOT: tfc.sqrt
// CHECK: return
func.func @arithmetic() -> (tensor<2x3xf32>, tensor<3xf32>, tensor<3xi64>, tensor<2xi64>, tensor<2xi64>) {
  %a = tfc.constant dense<[[10.0], [20.0]]> : tensor<2x1xf32>
  %b = tfc.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %d = tfc.sub %a, %b : (tensor<2x1xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %sq = tfc.constant dense<[4.0, 9.0, -0.0]> : tensor<3xf32>
  %r = tfc.sqrt %sq : (tensor<3xf32>) -> tensor<3xf32>
  %f = tfc.constant dense<[1.9, -2.7, 0.2]> : tensor<3xf32>
  %i = tfc.cast %f : (tensor<3xf32>) -> tensor<3xi64>
  %b2 = tfc.constant dense<[[1.0], [2.0], [3.0]]> : tensor<3x1xf32>
  %s = tfc.shape %b2 : (tensor<3x1xf32>) -> tensor<2xi64>
  %n = tfc.constant dense<[7, -3]> : tensor<2xi64>
  %m = tfc.constant dense<[3]> : tensor<1xi64>
  %q = tfc.div %n, %m : (tensor<2xi64>, tensor<1xi64>) -> tensor<2xi64>
  return %d, %r, %i, %s, %q : tensor<2x3xf32>, tensor<3xf32>, tensor<3xi64>, tensor<2xi64>, tensor<2xi64>
}

// -----

// Must not fold: an operand that is not a constant (the function argument).
// CHECK-LABEL: func.func @runtime_operand
// CHECK: tfc.transpose %arg0
// CHECK: tfc.add
func.func @runtime_operand(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %t = tfc.transpose %x {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %one = tfc.constant dense<1.0> : tensor<f32>
  %y = tfc.add %t, %one : (tensor<3x2xf32>, tensor<f32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// Must not fold: weights without their bytes (tfc-opt has no model); an index out of range
// and an integer division by zero (the runtime reports those); a softmax (no host evaluation);
// a slice shifted by the cache length (decode steps).
// CHECK-LABEL: func.func @left_alone
// CHECK: tfc.transpose %{{.*}} {perm = array<i64: 1, 0>} : (tensor<4x3xf32>)
// CHECK: tfc.gather
// CHECK: tfc.div
// CHECK: tfc.softmax
// CHECK: tfc.slice {{.*}}cache_offset
func.func @left_alone() -> (tensor<3x4xf32>, tensor<1x2xf32>, tensor<1xi64>, tensor<2x2xf32>, tensor<1x2xf32>) {
  %w = tfc.weight "embeddings.token" : tensor<4x3xf32>
  %t = tfc.transpose %w {perm = array<i64: 1, 0>} : (tensor<4x3xf32>) -> tensor<3x4xf32>
  %c = tfc.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %i = tfc.constant dense<[2]> : tensor<1xi64>
  %g = tfc.gather %c, %i {axis = 0 : i64} : (tensor<2x2xf32>, tensor<1xi64>) -> tensor<1x2xf32>
  %z = tfc.constant dense<[0]> : tensor<1xi64>
  %q = tfc.div %i, %z : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %mm = tfc.softmax %c {axis = -1 : i64} : (tensor<2x2xf32>) -> tensor<2x2xf32>
  %one = tfc.constant dense<[1]> : tensor<1xi64>
  %s = tfc.slice %c, %z, %one {axes = array<i64: 0>, cache_offset = array<i64: 1>} : (tensor<2x2xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x2xf32>
  return %t, %g, %q, %mm, %s : tensor<3x4xf32>, tensor<1x2xf32>, tensor<1xi64>, tensor<2x2xf32>, tensor<1x2xf32>
}

// -----

// Must not fold: a broadcast that would store 4 MiB in the plan for a 4-byte operand.
// CHECK-LABEL: func.func @inflating_expand
// CHECK: tfc.expand
func.func @inflating_expand() -> tensor<1024x1024xf32> {
  %v = tfc.constant dense<1.0> : tensor<1x1xf32>
  %shape = tfc.constant dense<[1024, 1024]> : tensor<2xi64>
  %e = tfc.expand %v, %shape : (tensor<1x1xf32>, tensor<2xi64>) -> tensor<1024x1024xf32>
  return %e : tensor<1024x1024xf32>
}

// -----

// DeBERTa's relative position embeddings: a layer normalization of constants folds (the
// runtime's formula: mean and biased variance of the last axis, eps 1e-5) and is counted in
// the module attribute tfc.folded_layer_norms; the matmul projecting it folds too (batch
// dims broadcast). Values from NumPy:
//   LN([[1, 2, 3, 6], [0.5, -0.5, 1.5, 2.5]]) * [1, 2, 0.5, -1] + [0, 1, -1, 0.25]
//     = [[-1.0690434, -0.0690434, -1, -1.3535652], [-0.44721183, -1.6832709, -0.77639407, -1.0916355]]
//   x @ [[1, 2], [3, 4], [5, 6], [7, 8]] = [[64, 76], [24, 28]]
//   arange(12).reshape(2, 2, 3) @ [[1, 0], [0, 1], [1, 1]] = [[[2, 3], [8, 9]], [[14, 15], [20, 21]]]
// CHECK: module attributes {tfc.folded_layer_norms = 1 : i64}
// CHECK-LABEL: func.func @layer_norm_and_matmul
// CHECK-NEXT: %[[LN:.*]] = tfc.constant dense<{{\[}}[-1.06904{{[0-9]*}}, -0.069043{{[0-9]*}}, -1.000000e+00, -1.35356{{[0-9]*}}], [-0.447211{{[0-9]*}}, -1.68327{{[0-9]*}}, -0.776394{{[0-9]*}}, -1.09163{{[0-9]*}}]]> : tensor<2x4xf32>
// CHECK-NEXT: %[[P:.*]] = tfc.constant dense<{{\[}}[6.400000e+01, 7.600000e+01], [2.400000e+01, 2.800000e+01]]> : tensor<2x2xf32>
// CHECK-NEXT: %[[B:.*]] = tfc.constant dense<{{\[}}{{\[}}[2.000000e+00, 3.000000e+00], [8.000000e+00, 9.000000e+00]], {{\[}}[1.400000e+01, 1.500000e+01], [2.000000e+01, 2.100000e+01]]]> : tensor<2x2x2xf32>
// CHECK-NOT: tfc.layer_normalization
// CHECK-NOT: tfc.matmul
// CHECK: return %[[LN]], %[[P]], %[[B]]
func.func @layer_norm_and_matmul() -> (tensor<2x4xf32>, tensor<2x2xf32>, tensor<2x2x2xf32>) {
  %x = tfc.constant dense<[[1.0, 2.0, 3.0, 6.0], [0.5, -0.5, 1.5, 2.5]]> : tensor<2x4xf32>
  %g = tfc.constant dense<[1.0, 2.0, 0.5, -1.0]> : tensor<4xf32>
  %b = tfc.constant dense<[0.0, 1.0, -1.0, 0.25]> : tensor<4xf32>
  %y = tfc.layer_normalization %x, %g, %b {axis = -1 : i64, epsilon = 1.0e-05 : f32} : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %w = tfc.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %p = tfc.matmul %x, %w : (tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<2x2xf32>
  %a = tfc.constant dense<[[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], [[6.0, 7.0, 8.0], [9.0, 10.0, 11.0]]]> : tensor<2x2x3xf32>
  %s = tfc.constant dense<[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]> : tensor<3x2xf32>
  %q = tfc.matmul %a, %s : (tensor<2x2x3xf32>, tensor<3x2xf32>) -> tensor<2x2x2xf32>
  return %y, %p, %q : tensor<2x4xf32>, tensor<2x2xf32>, tensor<2x2x2xf32>
}

// -----

// Must not fold: a layer normalization or a matmul with a run-time operand stays, and no
// folded norm is counted.
// CHECK-NOT: tfc.folded_layer_norms
// CHECK-LABEL: func.func @layer_norm_of_activation
// CHECK: tfc.layer_normalization %arg0
// CHECK: tfc.matmul %arg0
func.func @layer_norm_of_activation(%x: tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x2xf32>) {
  %g = tfc.constant dense<[1.0, 2.0, 0.5, -1.0]> : tensor<4xf32>
  %y = tfc.layer_normalization %x, %g {axis = -1 : i64, epsilon = 1.0e-05 : f32} : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  %w = tfc.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %p = tfc.matmul %x, %w : (tensor<?x4xf32>, tensor<4x2xf32>) -> tensor<?x2xf32>
  return %y, %p : tensor<?x4xf32>, tensor<?x2xf32>
}
