// RUN: tfc-opt %s -tfc-fuse-gelu -split-input-file | FileCheck %s

// erf form, x / sqrt(2), (x * p) * 0.5.
// CHECK-LABEL: func.func @erf_div_sqrt2
// CHECK: %[[G:.*]] = tfc.gelu %arg0 : (tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
// CHECK-NOT: tfc.erf
// CHECK: return %[[G]]
func.func @erf_div_sqrt2(%x: tensor<?x?x256xf32>) -> tensor<?x?x256xf32> {
  %sqrt2 = tfc.constant dense<1.41421354> : tensor<f32>
  %one = tfc.constant dense<1.0> : tensor<f32>
  %half = tfc.constant dense<0.5> : tensor<f32>
  %d = tfc.div %x, %sqrt2 : (tensor<?x?x256xf32>, tensor<f32>) -> tensor<?x?x256xf32>
  %e = tfc.erf %d : (tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  %p = tfc.add %e, %one : (tensor<?x?x256xf32>, tensor<f32>) -> tensor<?x?x256xf32>
  %m = tfc.mul %x, %p : (tensor<?x?x256xf32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  %h = tfc.mul %m, %half : (tensor<?x?x256xf32>, tensor<f32>) -> tensor<?x?x256xf32>
  return %h : tensor<?x?x256xf32>
}

// -----

// erf form, x * 0.70710, 0.5 multiplying x first, constants on the left.
// CHECK-LABEL: func.func @erf_mul_inv_sqrt2_half_first
// CHECK: tfc.gelu %arg0 : (tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
// CHECK-NOT: tfc.erf
func.func @erf_mul_inv_sqrt2_half_first(%x: tensor<?x?x256xf32>) -> tensor<?x?x256xf32> {
  %c = tfc.constant dense<0.707106769> : tensor<f32>
  %one = tfc.constant dense<1.0> : tensor<f32>
  %half = tfc.constant dense<0.5> : tensor<f32>
  %d = tfc.mul %c, %x : (tensor<f32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  %e = tfc.erf %d : (tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  %p = tfc.add %one, %e : (tensor<f32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  %xh = tfc.mul %half, %x : (tensor<f32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  %h = tfc.mul %xh, %p : (tensor<?x?x256xf32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  return %h : tensor<?x?x256xf32>
}

// -----

// erf form factored as x * ((1 + erf) * 0.5).
// CHECK-LABEL: func.func @erf_half_times_branch
// CHECK: tfc.gelu %arg0
// CHECK-NOT: tfc.erf
func.func @erf_half_times_branch(%x: tensor<8x256xf32>) -> tensor<8x256xf32> {
  %sqrt2 = tfc.constant dense<1.41421354> : tensor<f32>
  %one = tfc.constant dense<1.0> : tensor<f32>
  %half = tfc.constant dense<0.5> : tensor<f32>
  %d = tfc.div %x, %sqrt2 : (tensor<8x256xf32>, tensor<f32>) -> tensor<8x256xf32>
  %e = tfc.erf %d : (tensor<8x256xf32>) -> tensor<8x256xf32>
  %p = tfc.add %e, %one : (tensor<8x256xf32>, tensor<f32>) -> tensor<8x256xf32>
  %ph = tfc.mul %p, %half : (tensor<8x256xf32>, tensor<f32>) -> tensor<8x256xf32>
  %h = tfc.mul %x, %ph : (tensor<8x256xf32>, tensor<8x256xf32>) -> tensor<8x256xf32>
  return %h : tensor<8x256xf32>
}

// -----

// tanh form with pow(x, 3).
// CHECK-LABEL: func.func @tanh_pow
// CHECK: tfc.gelu %arg0 {approximate = #tfc<gelu tanh>} : (tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
// CHECK-NOT: tfc.tanh
// CHECK-NOT: tfc.pow
func.func @tanh_pow(%x: tensor<?x?x256xf32>) -> tensor<?x?x256xf32> {
  %three = tfc.constant dense<3.0> : tensor<f32>
  %k = tfc.constant dense<0.044715> : tensor<f32>
  %s2pi = tfc.constant dense<0.797884583> : tensor<f32>
  %one = tfc.constant dense<1.0> : tensor<f32>
  %half = tfc.constant dense<0.5> : tensor<f32>
  %x3 = tfc.pow %x, %three : (tensor<?x?x256xf32>, tensor<f32>) -> tensor<?x?x256xf32>
  %kx3 = tfc.mul %x3, %k : (tensor<?x?x256xf32>, tensor<f32>) -> tensor<?x?x256xf32>
  %in = tfc.add %x, %kx3 : (tensor<?x?x256xf32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  %arg = tfc.mul %in, %s2pi : (tensor<?x?x256xf32>, tensor<f32>) -> tensor<?x?x256xf32>
  %t = tfc.tanh %arg : (tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  %p = tfc.add %t, %one : (tensor<?x?x256xf32>, tensor<f32>) -> tensor<?x?x256xf32>
  %m = tfc.mul %x, %p : (tensor<?x?x256xf32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  %h = tfc.mul %m, %half : (tensor<?x?x256xf32>, tensor<f32>) -> tensor<?x?x256xf32>
  return %h : tensor<?x?x256xf32>
}

// -----

// tanh form with x * x * x, operands of add and mul swapped.
// CHECK-LABEL: func.func @tanh_cube_by_muls
// CHECK: tfc.gelu %arg0 {approximate = #tfc<gelu tanh>}
// CHECK-NOT: tfc.tanh
func.func @tanh_cube_by_muls(%x: tensor<?x?x256xf32>) -> tensor<?x?x256xf32> {
  %k = tfc.constant dense<0.044715> : tensor<f32>
  %s2pi = tfc.constant dense<0.797884583> : tensor<f32>
  %one = tfc.constant dense<1.0> : tensor<f32>
  %half = tfc.constant dense<0.5> : tensor<f32>
  %x2 = tfc.mul %x, %x : (tensor<?x?x256xf32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  %x3 = tfc.mul %x2, %x : (tensor<?x?x256xf32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  %kx3 = tfc.mul %k, %x3 : (tensor<f32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  %in = tfc.add %kx3, %x : (tensor<?x?x256xf32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  %arg = tfc.mul %s2pi, %in : (tensor<f32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  %t = tfc.tanh %arg : (tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  %p = tfc.add %one, %t : (tensor<f32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  %xh = tfc.mul %x, %half : (tensor<?x?x256xf32>, tensor<f32>) -> tensor<?x?x256xf32>
  %h = tfc.mul %p, %xh : (tensor<?x?x256xf32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  return %h : tensor<?x?x256xf32>
}

// -----

// Negative: 0.6 instead of 0.5 is not GELU.
// CHECK-LABEL: func.func @wrong_half
// CHECK-NOT: tfc.gelu
// CHECK: tfc.erf
func.func @wrong_half(%x: tensor<?x256xf32>) -> tensor<?x256xf32> {
  %sqrt2 = tfc.constant dense<1.41421354> : tensor<f32>
  %one = tfc.constant dense<1.0> : tensor<f32>
  %c = tfc.constant dense<0.6> : tensor<f32>
  %d = tfc.div %x, %sqrt2 : (tensor<?x256xf32>, tensor<f32>) -> tensor<?x256xf32>
  %e = tfc.erf %d : (tensor<?x256xf32>) -> tensor<?x256xf32>
  %p = tfc.add %e, %one : (tensor<?x256xf32>, tensor<f32>) -> tensor<?x256xf32>
  %m = tfc.mul %x, %p : (tensor<?x256xf32>, tensor<?x256xf32>) -> tensor<?x256xf32>
  %h = tfc.mul %m, %c : (tensor<?x256xf32>, tensor<f32>) -> tensor<?x256xf32>
  return %h : tensor<?x256xf32>
}

// -----

// Negative: erf(x / sqrt(2)) is also returned, so the formula stays.
// CHECK-LABEL: func.func @erf_used_twice
// CHECK-NOT: tfc.gelu
// CHECK: tfc.erf
func.func @erf_used_twice(%x: tensor<?x256xf32>) -> (tensor<?x256xf32>, tensor<?x256xf32>) {
  %sqrt2 = tfc.constant dense<1.41421354> : tensor<f32>
  %one = tfc.constant dense<1.0> : tensor<f32>
  %half = tfc.constant dense<0.5> : tensor<f32>
  %d = tfc.div %x, %sqrt2 : (tensor<?x256xf32>, tensor<f32>) -> tensor<?x256xf32>
  %e = tfc.erf %d : (tensor<?x256xf32>) -> tensor<?x256xf32>
  %p = tfc.add %e, %one : (tensor<?x256xf32>, tensor<f32>) -> tensor<?x256xf32>
  %m = tfc.mul %x, %p : (tensor<?x256xf32>, tensor<?x256xf32>) -> tensor<?x256xf32>
  %h = tfc.mul %m, %half : (tensor<?x256xf32>, tensor<f32>) -> tensor<?x256xf32>
  return %h, %e : tensor<?x256xf32>, tensor<?x256xf32>
}

// -----

// Negative: the erf is of another tensor than the one multiplied.
// CHECK-LABEL: func.func @erf_of_other_tensor
// CHECK-NOT: tfc.gelu
// CHECK: tfc.erf
func.func @erf_of_other_tensor(%x: tensor<?x256xf32>, %y: tensor<?x256xf32>) -> tensor<?x256xf32> {
  %sqrt2 = tfc.constant dense<1.41421354> : tensor<f32>
  %one = tfc.constant dense<1.0> : tensor<f32>
  %half = tfc.constant dense<0.5> : tensor<f32>
  %d = tfc.div %y, %sqrt2 : (tensor<?x256xf32>, tensor<f32>) -> tensor<?x256xf32>
  %e = tfc.erf %d : (tensor<?x256xf32>) -> tensor<?x256xf32>
  %p = tfc.add %e, %one : (tensor<?x256xf32>, tensor<f32>) -> tensor<?x256xf32>
  %m = tfc.mul %x, %p : (tensor<?x256xf32>, tensor<?x256xf32>) -> tensor<?x256xf32>
  %h = tfc.mul %m, %half : (tensor<?x256xf32>, tensor<f32>) -> tensor<?x256xf32>
  return %h : tensor<?x256xf32>
}
