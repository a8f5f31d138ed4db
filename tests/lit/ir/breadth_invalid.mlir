// RUN: tfc-opt %s -split-input-file -verify-diagnostics

// Verifier and type-inference errors of the breadth ops (issue 11).

func.func @abs_of_bool(%a: tensor<4xi1>) -> tensor<4xi1> {
  // expected-error @below {{'tfc.abs' op operand #0 must be ranked tensor of}}
  %r = tfc.abs %a : (tensor<4xi1>) -> tensor<4xi1>
  return %r : tensor<4xi1>
}

// -----

func.func @sin_of_integer(%a: tensor<4xi64>) -> tensor<4xi64> {
  // expected-error @below {{'tfc.sin' op operand #0 must be ranked tensor of}}
  %r = tfc.sin %a : (tensor<4xi64>) -> tensor<4xi64>
  return %r : tensor<4xi64>
}

// -----

func.func @min_types(%a: tensor<4xf32>, %b: tensor<4xi64>) -> tensor<4xf32> {
  // expected-error @below {{'tfc.min' op operands have different element types (f32 vs i64)}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.min %a, %b : (tensor<4xf32>, tensor<4xi64>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

func.func @compare_result_not_bool(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{'tfc.less' op result #0 must be ranked tensor of 1-bit signless integer values}}
  %r = tfc.less %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

func.func @compare_broadcast(%a: tensor<3xi64>, %b: tensor<4xi64>) -> tensor<4xi1> {
  // expected-error @below {{'tfc.greater' op shapes [3] and [4] do not broadcast (dim 0: 3 vs 4)}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.greater %a, %b : (tensor<3xi64>, tensor<4xi64>) -> tensor<4xi1>
  return %r : tensor<4xi1>
}

// -----

func.func @order_of_bools(%a: tensor<4xi1>) -> tensor<4xi1> {
  // expected-error @below {{'tfc.less_equal' op operands are i1, which have no order (only tfc.equal compares them)}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.less_equal %a, %a : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  return %r : tensor<4xi1>
}

// -----

func.func @cumsum_axis(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @below {{'tfc.cumsum' op axis 2 is out of range [-2, 1]}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.cumsum %a {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

func.func @tile_repeats_count(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @below {{'tfc.tile' op repeats has 1 entries but the input has rank 2}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.tile %a {repeats = array<i64: 2>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

func.func @tile_zero(%a: tensor<2x3xf32>) -> tensor<0x3xf32> {
  // expected-error @below {{'tfc.tile' op repeats must be >= 1, got 0}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.tile %a {repeats = array<i64: 0, 1>} : (tensor<2x3xf32>) -> tensor<0x3xf32>
  return %r : tensor<0x3xf32>
}

// -----

func.func @tile_wrong_declared(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @below {{'tfc.tile' op inferred type(s) 'tensor<4x3xf32>' are incompatible with return type(s) of operation 'tensor<2x3xf32>'}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.tile %a {repeats = array<i64: 2, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

func.func @gather_elements_rank(%a: tensor<2x3xf32>, %i: tensor<4xi64>) -> tensor<4xf32> {
  // expected-error @below {{'tfc.gather_elements' op indices have rank 1 but data has rank 2}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.gather_elements %a, %i {axis = 1 : i64} : (tensor<2x3xf32>, tensor<4xi64>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

func.func @gather_elements_dim(%a: tensor<2x3xf32>, %i: tensor<3x3xi64>) -> tensor<3x3xf32> {
  // expected-error @below {{'tfc.gather_elements' op indices dim 0 (3) exceeds the data's (2)}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.gather_elements %a, %i {axis = 1 : i64} : (tensor<2x3xf32>, tensor<3x3xi64>) -> tensor<3x3xf32>
  return %r : tensor<3x3xf32>
}

// -----

func.func @argmax_empty(%a: tensor<2x0xf32>) -> tensor<2xi64> {
  // expected-error @below {{'tfc.argmax' op the reduced axis is empty}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.argmax %a {axis = 1 : i64, keepdims = false} : (tensor<2x0xf32>) -> tensor<2xi64>
  return %r : tensor<2xi64>
}

// -----

func.func @trilu_rank(%a: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @below {{'tfc.trilu' op input must have rank >= 2, got 1}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.trilu %a : (tensor<3xf32>) -> tensor<3xf32>
  return %r : tensor<3xf32>
}

// -----

func.func @conv_rank(%x: tensor<1x3x4x4x4xf32>, %w: tensor<2x3x1x1x1xf32>) -> tensor<1x2x4x4x4xf32> {
  // expected-error @below {{'tfc.conv' op input must be [N, C, W] or [N, C, H, W], got rank 5}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.conv %x, %w {strides = array<i64: 1, 1, 1>, pads = array<i64: 0, 0, 0, 0, 0, 0>, dilations = array<i64: 1, 1, 1>} : (tensor<1x3x4x4x4xf32>, tensor<2x3x1x1x1xf32>) -> tensor<1x2x4x4x4xf32>
  return %r : tensor<1x2x4x4x4xf32>
}

// -----

func.func @conv_channels(%x: tensor<1x3x8xf32>, %w: tensor<4x2x3xf32>) -> tensor<1x4x6xf32> {
  // expected-error @below {{'tfc.conv' op input channels 3 differ from the weight's 2 x group 1}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.conv %x, %w {strides = array<i64: 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1>} : (tensor<1x3x8xf32>, tensor<4x2x3xf32>) -> tensor<1x4x6xf32>
  return %r : tensor<1x4x6xf32>
}

// -----

func.func @conv_pads(%x: tensor<1x3x8xf32>, %w: tensor<4x3x3xf32>) -> tensor<1x4x6xf32> {
  // expected-error @below {{'tfc.conv' op strides and dilations need 1 entries and pads 2, got 1, 1 and 1}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.conv %x, %w {strides = array<i64: 1>, pads = array<i64: 0>, dilations = array<i64: 1>} : (tensor<1x3x8xf32>, tensor<4x3x3xf32>) -> tensor<1x4x6xf32>
  return %r : tensor<1x4x6xf32>
}

// -----

func.func @conv_group(%x: tensor<1x4x8xf32>, %w: tensor<3x2x3xf32>) -> tensor<1x3x6xf32> {
  // expected-error @below {{'tfc.conv' op group 2 must be >= 1 and divide the 3 output channels}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.conv %x, %w {strides = array<i64: 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1>, group = 2 : i64} : (tensor<1x4x8xf32>, tensor<3x2x3xf32>) -> tensor<1x3x6xf32>
  return %r : tensor<1x3x6xf32>
}

// -----

func.func @conv_too_small(%x: tensor<1x3x2xf32>, %w: tensor<4x3x3xf32>) -> tensor<1x4x1xf32> {
  // expected-error @below {{'tfc.conv' op spatial dim 0 (2 padded to 2) is smaller than the dilated kernel (3)}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.conv %x, %w {strides = array<i64: 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1>} : (tensor<1x3x2xf32>, tensor<4x3x3xf32>) -> tensor<1x4x1xf32>
  return %r : tensor<1x4x1xf32>
}

// -----

func.func @conv_bias(%x: tensor<1x3x8xf32>, %w: tensor<4x3x3xf32>, %b: tensor<3xf32>) -> tensor<1x4x6xf32> {
  // expected-error @below {{'tfc.conv' op bias must be 1-D of size 4, got tensor<3xf32>}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.conv %x, %w, %b {strides = array<i64: 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1>} : (tensor<1x3x8xf32>, tensor<4x3x3xf32>, tensor<3xf32>) -> tensor<1x4x6xf32>
  return %r : tensor<1x4x6xf32>
}
