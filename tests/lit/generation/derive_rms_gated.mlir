// RUN: tfc-opt %s --split-input-file --tfc-derive-generation | FileCheck %s
//
// tfc.rms_norm and tfc.gated_linear are position-wise (GenerationRoleOpInterface): a LLaMA-style
// decoder built from them derives prefill / decode_step with both ops in the step functions.

// CHECK-LABEL: module attributes
// CHECK-SAME: tfc.generation = {key_mask_inputs = [], mode = "kv-cache", token_input = "input_ids"}
// CHECK: func.func @prefill
// CHECK: tfc.rms_norm
// CHECK: tfc.cached_attention
// CHECK: tfc.gated_linear
// CHECK: func.func @decode_step
// CHECK: tfc.rms_norm
// CHECK: tfc.cached_attention
// CHECK: tfc.gated_linear {{.*}}{activation = #tfc<gate silu>}
module attributes {tfc.family = "decoder"} {
  func.func @forward(%ids: tensor<?x?xi64> {tfc.dims = ["batch", "seq"], tfc.name = "input_ids"}) -> (tensor<?x?x32xf32> {tfc.name = "logits"}) {
    %tok = tfc.weight "tok" : tensor<32x8xf32>
    %norm = tfc.weight "norm" : tensor<8xf32>
    %w = tfc.weight "w" : tensor<8x8xf32>
    %wg = tfc.weight "wg" : tensor<8x16xf32>
    %wu = tfc.weight "wu" : tensor<8x16xf32>
    %wd = tfc.weight "wd" : tensor<16x8xf32>
    %head = tfc.weight "head" : tensor<8x32xf32>
    %e = tfc.gather %tok, %ids : (tensor<32x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %n = tfc.rms_norm %e, %norm {epsilon = 1.0e-06 : f32} : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
    %q = tfc.linear %n, %w : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
    %a = tfc.attention %q, %q, %q {mask_kind = #tfc<mask causal>, num_heads = 2 : i64, scale = 0.25 : f32} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %h = tfc.add %a, %e : (tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %n2 = tfc.rms_norm %h, %norm {epsilon = 1.0e-06 : f32, unit_offset = true} : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
    %g = tfc.gated_linear %n2, %wg, %wu {activation = #tfc<gate silu>} : (tensor<?x?x8xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<?x?x16xf32>
    %f = tfc.linear %g, %wd residual(%h) : (tensor<?x?x16xf32>, tensor<16x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %l = tfc.linear %f, %head : (tensor<?x?x8xf32>, tensor<8x32xf32>) -> tensor<?x?x32xf32>
    return %l : tensor<?x?x32xf32>
  }
}
