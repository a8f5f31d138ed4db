// RUN: tfc-opt %s --allow-unregistered-dialect --split-input-file --tfc-derive-generation | FileCheck %s
//
// The derivation asks each op for its role (GenerationRoleOpInterface) and the shape analysis
// for its symbolic shape (SymbolicShapeOpInterface): an op without either stops the derivation
// with a reason naming the op and its location.

// tfc.cached_attention has a symbolic shape but no generation role (it is what the derivation
// makes, never part of @forward).
// CHECK-LABEL: module attributes
// CHECK-SAME: mode = "recompute", reason = "'tfc.cached_attention' at 'layer.0.cached' is not known to be position-wise"
// CHECK-NOT: func.func @prefill
module attributes {tfc.family = "decoder"} {
  func.func @forward(%ids: tensor<?x?xi64> {tfc.dims = ["batch", "seq"], tfc.name = "input_ids"}) -> (tensor<?x?x32xf32> {tfc.name = "logits"}) {
    %tok = tfc.weight "tok" : tensor<32x8xf32>
    %head = tfc.weight "head" : tensor<8x32xf32>
    %e = tfc.gather %tok, %ids : (tensor<32x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %a = tfc.attention %e, %e, %e {mask_kind = #tfc<mask causal>, num_heads = 2 : i64, scale = 0.25 : f32} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %c = tfc.cached_attention %a key(%a) value(%a) {mask_kind = #tfc<mask causal>, num_heads = 2 : i64, scale = 0.25 : f32, slot = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32> loc("layer.0.cached")
    %l = tfc.linear %c, %head : (tensor<?x?x8xf32>, tensor<8x32xf32>) -> tensor<?x?x32xf32>
    return %l : tensor<?x?x32xf32>
  }
}

// -----

// An op of another dialect has no symbolic shape rule: the shapes of @forward are unknown.
// CHECK-LABEL: module attributes
// CHECK-SAME: mode = "recompute", reason = "the shapes of forward are not known: 'test.opaque' at 'layer.0.opaque': the op has no symbolic shape rule (SymbolicShapeOpInterface)"
// CHECK-NOT: func.func @prefill
module attributes {tfc.family = "decoder"} {
  func.func @forward(%ids: tensor<?x?xi64> {tfc.dims = ["batch", "seq"], tfc.name = "input_ids"}) -> (tensor<?x?x32xf32> {tfc.name = "logits"}) {
    %tok = tfc.weight "tok" : tensor<32x8xf32>
    %head = tfc.weight "head" : tensor<8x32xf32>
    %e = tfc.gather %tok, %ids : (tensor<32x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %a = tfc.attention %e, %e, %e {mask_kind = #tfc<mask causal>, num_heads = 2 : i64, scale = 0.25 : f32} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %o = "test.opaque"(%a) : (tensor<?x?x8xf32>) -> tensor<?x?x8xf32> loc("layer.0.opaque")
    %l = tfc.linear %o, %head : (tensor<?x?x8xf32>, tensor<8x32xf32>) -> tensor<?x?x32xf32>
    return %l : tensor<?x?x32xf32>
  }
}
