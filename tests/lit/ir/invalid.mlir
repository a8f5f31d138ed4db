// RUN: tfc-opt %s -split-input-file -verify-diagnostics

// Verifier and type-inference errors of the tfc dialect. An op whose result
// type cannot be inferred reports the reason, then "failed to infer returned
// types".

func.func @broadcast_failure(%a: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<2x3xf32> {
  // expected-error @below {{'tfc.add' op shapes [2x3] and [4] do not broadcast (dim 1: 3 vs 4)}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.add %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

func.func @element_type_mismatch(%a: tensor<4xf32>, %b: tensor<4xf16>) -> tensor<4xf32> {
  // expected-error @below {{'tfc.mul' op operands have different element types (f32 vs f16)}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.mul %a, %b : (tensor<4xf32>, tensor<4xf16>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

func.func @declared_type_incompatible(%a: tensor<4xf32>) -> tensor<5xf32> {
  // expected-error @below {{'tfc.relu' op inferred type(s) 'tensor<4xf32>' are incompatible with return type(s) of operation 'tensor<5xf32>'}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.relu %a : (tensor<4xf32>) -> tensor<5xf32>
  return %r : tensor<5xf32>
}

// -----

func.func @gelu_of_integers(%a: tensor<4xi64>) -> tensor<4xi64> {
  // expected-error @below {{'tfc.gelu' op operand #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<4xi64>'}}
  %r = tfc.gelu %a : (tensor<4xi64>) -> tensor<4xi64>
  return %r : tensor<4xi64>
}

// -----

func.func @matmul_contraction_mismatch(%a: tensor<?x8x16xf32>, %b: tensor<32x8xf32>) -> tensor<?x8x8xf32> {
  // expected-error @below {{'tfc.matmul' op contraction dims differ: lhs [?x8x16] rhs [32x8]}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.matmul %a, %b : (tensor<?x8x16xf32>, tensor<32x8xf32>) -> tensor<?x8x8xf32>
  return %r : tensor<?x8x8xf32>
}

// -----

func.func @matmul_rank_1(%a: tensor<16xf32>, %b: tensor<16x8xf32>) -> tensor<8xf32> {
  // expected-error @below {{'tfc.matmul' op operands need rank >= 2, got 1 and 2}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.matmul %a, %b : (tensor<16xf32>, tensor<16x8xf32>) -> tensor<8xf32>
  return %r : tensor<8xf32>
}

// -----

func.func @reduce_axis_out_of_range(%a: tensor<2x3xf32>) -> tensor<2x1xf32> {
  // expected-error @below {{'tfc.reduce_mean' op axis 2 is out of range [-2, 1]}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.reduce_mean %a {axes = array<i64: 2>, keepdims = true} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  return %r : tensor<2x1xf32>
}

// -----

func.func @reduce_axis_twice(%a: tensor<2x3xf32>) -> tensor<2x1xf32> {
  // expected-error @below {{'tfc.reduce_sum' op axis -1 is listed twice}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.reduce_sum %a {axes = array<i64: 1, -1>, keepdims = true} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  return %r : tensor<2x1xf32>
}

// -----

func.func @softmax_axis_out_of_range(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @below {{'tfc.softmax' op axis 2 is out of range [-2, 1]}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.softmax %a {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

func.func @transpose_not_a_permutation(%a: tensor<2x3x4xf32>) -> tensor<3x2x4xf32> {
  // expected-error @below {{'tfc.transpose' op perm is not a permutation of 0..2}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.transpose %a {perm = array<i64: 1, 1, 2>} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
  return %r : tensor<3x2x4xf32>
}

// -----

func.func @transpose_perm_length(%a: tensor<2x3x4xf32>) -> tensor<3x2xf32> {
  // expected-error @below {{'tfc.transpose' op perm has 2 entries but the input has rank 3}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.transpose %a {perm = array<i64: 1, 0>} : (tensor<2x3x4xf32>) -> tensor<3x2xf32>
  return %r : tensor<3x2xf32>
}

// -----

func.func @reshape_two_minus_one(%a: tensor<2x12xf32>) -> tensor<?x?xf32> {
  // expected-error @below {{'tfc.reshape' op shape has more than one -1}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.reshape %a {shape = array<i64: -1, -1>} : (tensor<2x12xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// -----

func.func @reshape_count_mismatch(%a: tensor<2x12xf32>) -> tensor<5x5xf32> {
  // expected-error @below {{'tfc.reshape' op element count changes: [2x12] has 24 elements, target [5x5] has 25}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.reshape %a {shape = array<i64: 5, 5>} : (tensor<2x12xf32>) -> tensor<5x5xf32>
  return %r : tensor<5x5xf32>
}

// -----

func.func @gather_axis_out_of_range(%a: tensor<2x3xf32>, %i: tensor<4xi64>) -> tensor<2x4xf32> {
  // expected-error @below {{'tfc.gather' op axis 2 is out of range [-2, 1]}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.gather %a, %i {axis = 2 : i64} : (tensor<2x3xf32>, tensor<4xi64>) -> tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}

// -----

func.func @concat_dim_mismatch(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{'tfc.concat' op input 1 has dim 1 = 4, expected 3}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<4x3xf32>
  return %r : tensor<4x3xf32>
}

// -----

func.func @slice_axes_mismatch(%x: tensor<8x64xf32>, %s: tensor<2xi64>, %e: tensor<2xi64>) -> tensor<?x64xf32> {
  // expected-error @below {{'tfc.slice' op starts and ends must be 1-D with 1 entries}}
  %r = tfc.slice %x, %s, %e {axes = array<i64: 0>} : (tensor<8x64xf32>, tensor<2xi64>, tensor<2xi64>) -> tensor<?x64xf32>
  return %r : tensor<?x64xf32>
}

// -----

func.func @expand_not_broadcastable(%a: tensor<3x64xf32>, %s: tensor<2xi64>) -> tensor<4x64xf32> {
  // expected-error @below {{'tfc.expand' op input [3x64] does not broadcast to [4x64]}}
  %r = tfc.expand %a, %s : (tensor<3x64xf32>, tensor<2xi64>) -> tensor<4x64xf32>
  return %r : tensor<4x64xf32>
}

// -----

func.func @where_branch_types(%c: tensor<4xi1>, %a: tensor<4xf32>, %b: tensor<4xi64>) -> tensor<4xf32> {
  // expected-error @below {{'tfc.where' op lhs and rhs have different element types}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.where %c, %a, %b : (tensor<4xi1>, tensor<4xf32>, tensor<4xi64>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

func.func @cast_changes_shape(%a: tensor<2x3xi64>) -> tensor<6xf32> {
  // expected-error @below {{'tfc.cast' op cannot change the shape: 'tensor<2x3xi64>' to 'tensor<6xf32>'}}
  %r = tfc.cast %a : (tensor<2x3xi64>) -> tensor<6xf32>
  return %r : tensor<6xf32>
}

// -----

func.func @constant_type_mismatch() -> tensor<3xf32> {
  // expected-error @below {{'tfc.constant' op failed to verify that result type is the value's type}}
  %c = "tfc.constant"() {value = dense<1.0> : tensor<2xf32>} : () -> tensor<3xf32>
  return %c : tensor<3xf32>
}

// -----

func.func @weight_dynamic_shape() -> tensor<?x64xf32> {
  // expected-error @below {{'tfc.weight' op weight 'w' must have a static shape, got 'tensor<?x64xf32>'}}
  %w = tfc.weight "w" : tensor<?x64xf32>
  return %w : tensor<?x64xf32>
}

// -----

func.func @weight_without_name() -> tensor<64xf32> {
  // expected-error @below {{'tfc.weight' op needs a non-empty weight name}}
  %w = tfc.weight "" : tensor<64xf32>
  return %w : tensor<64xf32>
}

// -----

func.func @layer_normalization_epsilon(%x: tensor<?x64xf32>, %g: tensor<64xf32>) -> tensor<?x64xf32> {
  // expected-error @below {{'tfc.layer_normalization' op epsilon must be > 0}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.layer_normalization %x, %g {epsilon = 0.0 : f32} : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  return %r : tensor<?x64xf32>
}

// -----

func.func @layer_norm_gamma_size(%x: tensor<?x64xf32>, %g: tensor<32xf32>, %b: tensor<64xf32>) -> tensor<?x64xf32> {
  // expected-error @below {{'tfc.layer_norm' op gamma must be 1-D of size 64 with the input's element type, got tensor<32xf32>}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.layer_norm %x, %g, %b {epsilon = 1.0e-5 : f32} : (tensor<?x64xf32>, tensor<32xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  return %r : tensor<?x64xf32>
}

// -----

func.func @attention_query_rank(%q: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @below {{'tfc.attention' op query must be [batch, seq, width], got rank 2}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.attention %q, %q, %q {num_heads = 4 : i64, scale = 1.0 : f32} : (tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return %r : tensor<?x64xf32>
}

// -----

func.func @attention_heads_do_not_divide(%q: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  // expected-error @below {{'tfc.attention' op num_heads 5 does not divide the model width 64}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.attention %q, %q, %q {num_heads = 5 : i64, scale = 1.0 : f32} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return %r : tensor<?x?x64xf32>
}

// -----

func.func @attention_mask_shape(%q: tensor<2x5x64xf32>, %m: tensor<2x1x1x7xf32>) -> tensor<2x5x64xf32> {
  // expected-error @below {{'tfc.attention' op mask shape [2x1x1x7] does not broadcast to [batch, heads, q_seq, k_seq] = [2x4x5x5]}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.attention %q, %q, %q, %m {num_heads = 4 : i64, scale = 1.0 : f32, mask_kind = #tfc<mask padding>} : (tensor<2x5x64xf32>, tensor<2x5x64xf32>, tensor<2x5x64xf32>, tensor<2x1x1x7xf32>) -> tensor<2x5x64xf32>
  return %r : tensor<2x5x64xf32>
}

// -----

func.func @attention_padding_without_mask(%q: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  // expected-error @below {{'tfc.attention' op mask_kind padding needs a mask operand}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.attention %q, %q, %q {num_heads = 4 : i64, scale = 1.0 : f32, mask_kind = #tfc<mask padding>} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return %r : tensor<?x?x64xf32>
}

// -----

func.func @attention_causal_with_mask(%q: tensor<?x?x64xf32>, %m: tensor<?x1x1x?xf32>) -> tensor<?x?x64xf32> {
  // expected-error @below {{'tfc.attention' op mask_kind causal takes no mask operand (use padding or causal_padding)}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.attention %q, %q, %q, %m {num_heads = 4 : i64, scale = 1.0 : f32, mask_kind = #tfc<mask causal>} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x1x1x?xf32>) -> tensor<?x?x64xf32>
  return %r : tensor<?x?x64xf32>
}

// -----

func.func @linear_weight_rank(%x: tensor<?x64xf32>, %w: tensor<1x64x32xf32>) -> tensor<?x32xf32> {
  // expected-error @below {{'tfc.linear' op weight must be [in, out], got rank 3}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.linear %x, %w : (tensor<?x64xf32>, tensor<1x64x32xf32>) -> tensor<?x32xf32>
  return %r : tensor<?x32xf32>
}

// -----

func.func @linear_bias_size(%x: tensor<?x64xf32>, %w: tensor<64x32xf32>, %b: tensor<64xf32>) -> tensor<?x32xf32> {
  // expected-error @below {{'tfc.linear' op bias must be 1-D of size 32, got tensor<64xf32>}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.linear %x, %w bias(%b) : (tensor<?x64xf32>, tensor<64x32xf32>, tensor<64xf32>) -> tensor<?x32xf32>
  return %r : tensor<?x32xf32>
}

// -----

func.func @embedding_ids_rank(%ids: tensor<?xi64>, %t: tensor<512x64xf32>, %p: tensor<64x64xf32>) -> tensor<?x?x64xf32> {
  // expected-error @below {{'tfc.embedding' op ids must be [batch, seq]}}
  // expected-error @below {{failed to infer returned types}}
  %r = tfc.embedding %ids, %t, %p : (tensor<?xi64>, tensor<512x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
  return %r : tensor<?x?x64xf32>
}
