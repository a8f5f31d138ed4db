// RUN: tfc-opt %s --split-input-file --tfc-derive-generation | FileCheck %s
//
// tfc-derive-generation: prefill / decode_step (/ encode) from a fused @forward, or "recompute"
// with the reason when some op is not position-wise.

// A causal decoder: learned positions sliced [0, seq), one causal attention.
// CHECK-LABEL: module attributes
// CHECK-SAME: tfc.generation = {key_mask_inputs = [], mode = "kv-cache", token_input = "input_ids"}
// CHECK: func.func @forward
// CHECK: func.func @prefill(%{{.*}}: tensor<?x?xi64> {tfc.dims = ["batch", "seq"], tfc.name = "input_ids"}) -> (tensor<?x?x32xf32> {tfc.name = "logits"}) attributes {tfc.cache_op = "prefill"}
// CHECK: tfc.slice {{.*}}cache_offset = array<i64: 1>
// CHECK: tfc.cached_attention %{{.*}} key(%{{.*}}) value(%{{.*}}) {mask_kind = #tfc<mask causal>, num_heads = 2 : i64, scale = 2.500000e-01 : f32, slot = 0 : i64}
// CHECK-NOT: tfc.attention
// CHECK: func.func @decode_step(%{{.*}}: tensor<?x1xi64> {tfc.dims = ["batch", ""], tfc.name = "input_ids"}) -> (tensor<?x?x32xf32> {tfc.name = "logits"}) attributes {tfc.cache_op = "append"}
// CHECK: tfc.cached_attention
// CHECK-NOT: func.func @encode
module attributes {tfc.family = "decoder"} {
  func.func @forward(%ids: tensor<?x?xi64> {tfc.dims = ["batch", "seq"], tfc.name = "input_ids"}) -> (tensor<?x?x32xf32> {tfc.name = "logits"}) {
    %zero = tfc.constant dense<0> : tensor<1xi64>
    %one = tfc.constant dense<1> : tensor<1xi64>
    %tok = tfc.weight "tok" : tensor<32x8xf32>
    %pos = tfc.weight "pos" : tensor<16x8xf32>
    %w = tfc.weight "w" : tensor<8x8xf32>
    %head = tfc.weight "head" : tensor<8x32xf32>
    %e = tfc.gather %tok, %ids : (tensor<32x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %s = tfc.shape %ids : (tensor<?x?xi64>) -> tensor<2xi64>
    %n = tfc.gather %s, %one : (tensor<2xi64>, tensor<1xi64>) -> tensor<1xi64>
    %p = tfc.slice %pos, %zero, %n {axes = array<i64: 0>} : (tensor<16x8xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x8xf32>
    %x = tfc.add %e, %p : (tensor<?x?x8xf32>, tensor<?x8xf32>) -> tensor<?x?x8xf32>
    %q = tfc.linear %x, %w : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
    %a = tfc.attention %q, %q, %q {mask_kind = #tfc<mask causal>, num_heads = 2 : i64, scale = 0.25 : f32} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %l = tfc.linear %a, %head : (tensor<?x?x8xf32>, tensor<8x32xf32>) -> tensor<?x?x32xf32>
    return %l : tensor<?x?x32xf32>
  }
}

// -----

// Mean pooling over the sequence: not position-wise.
// CHECK-LABEL: module attributes
// CHECK-SAME: tfc.generation = {key_mask_inputs = [], mode = "recompute", reason = "'tfc.reduce_mean' at '{{.*}}' reduces over the sequence axis (pooling)", token_input = "input_ids"}
// CHECK-NOT: func.func @prefill
// CHECK-NOT: func.func @decode_step
module attributes {tfc.family = "decoder"} {
  func.func @forward(%ids: tensor<?x?xi64> {tfc.dims = ["batch", "seq"], tfc.name = "input_ids"}) -> (tensor<?x?x32xf32> {tfc.name = "logits"}) {
    %tok = tfc.weight "tok" : tensor<32x8xf32>
    %head = tfc.weight "head" : tensor<8x32xf32>
    %e = tfc.gather %tok, %ids : (tensor<32x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %a = tfc.attention %e, %e, %e {mask_kind = #tfc<mask causal>, num_heads = 2 : i64, scale = 0.25 : f32} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %m = tfc.reduce_mean %a {axes = array<i64: 1>, keepdims = true} : (tensor<?x?x8xf32>) -> tensor<?x1x8xf32>
    %x = tfc.add %a, %m : (tensor<?x?x8xf32>, tensor<?x1x8xf32>) -> tensor<?x?x8xf32>
    %l = tfc.linear %x, %head : (tensor<?x?x8xf32>, tensor<8x32xf32>) -> tensor<?x?x32xf32>
    return %l : tensor<?x?x32xf32>
  }
}

// -----

// A bidirectional self-attention next to a causal one: later tokens would change the past.
// CHECK-LABEL: module attributes
// CHECK-SAME: mode = "recompute", reason = "'tfc.attention' at '{{.*}}' attends in both directions over the generated sequence (later tokens would change earlier positions)"
module attributes {tfc.family = "decoder"} {
  func.func @forward(%ids: tensor<?x?xi64> {tfc.dims = ["batch", "seq"], tfc.name = "input_ids"}) -> (tensor<?x?x32xf32> {tfc.name = "logits"}) {
    %tok = tfc.weight "tok" : tensor<32x8xf32>
    %head = tfc.weight "head" : tensor<8x32xf32>
    %e = tfc.gather %tok, %ids : (tensor<32x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %a = tfc.attention %e, %e, %e {mask_kind = #tfc<mask causal>, num_heads = 2 : i64, scale = 0.25 : f32} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %b = tfc.attention %a, %a, %a {num_heads = 2 : i64, scale = 0.25 : f32} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %l = tfc.linear %b, %head : (tensor<?x?x8xf32>, tensor<8x32xf32>) -> tensor<?x?x32xf32>
    return %l : tensor<?x?x32xf32>
  }
}

// -----

// An attention mask input covers the keys: it becomes [batch, total_seq] in the step functions.
// CHECK-LABEL: module attributes
// CHECK-SAME: tfc.generation = {key_mask_inputs = ["attention_mask"], mode = "kv-cache", token_input = "input_ids"}
// CHECK: func.func @prefill(%{{.*}}: tensor<?x?xi64> {tfc.dims = ["batch", "seq"], tfc.name = "input_ids"}, %{{.*}}: tensor<?x?xi64> {tfc.dims = ["batch", "total_seq"], tfc.name = "attention_mask"})
// CHECK: tfc.cached_attention %{{.*}} key(%{{.*}}) value(%{{.*}}) mask(%{{.*}}) {mask_kind = #tfc<mask causal_padding>
// CHECK: func.func @decode_step(%{{.*}}: tensor<?x1xi64> {tfc.dims = ["batch", ""], tfc.name = "input_ids"}, %{{.*}}: tensor<?x?xi64> {tfc.dims = ["batch", "total_seq"], tfc.name = "attention_mask"})
module attributes {tfc.family = "onnx"} {
  func.func @forward(%ids: tensor<?x?xi64> {tfc.dims = ["batch", "seq"], tfc.name = "input_ids"}, %mask: tensor<?x?xi64> {tfc.dims = ["batch", "seq"], tfc.name = "attention_mask"}) -> (tensor<?x?x32xf32> {tfc.name = "logits"}) {
    %tok = tfc.weight "tok" : tensor<32x8xf32>
    %head = tfc.weight "head" : tensor<8x32xf32>
    %e = tfc.gather %tok, %ids : (tensor<32x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %r = tfc.reshape %mask {shape = array<i64: 0, 1, 1, -1>} : (tensor<?x?xi64>) -> tensor<?x1x1x?xi64>
    %m = tfc.cast %r : (tensor<?x1x1x?xi64>) -> tensor<?x1x1x?xf32>
    %a = tfc.attention %e, %e, %e, %m {mask_kind = #tfc<mask causal_padding>, num_heads = 2 : i64, scale = 0.25 : f32} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x1x1x?xf32>) -> tensor<?x?x8xf32>
    %l = tfc.linear %a, %head : (tensor<?x?x8xf32>, tensor<8x32xf32>) -> tensor<?x?x32xf32>
    return %l : tensor<?x?x32xf32>
  }
}

// -----

// The attention mask also feeds the queries (positions from the mask): mixes keys and queries.
// CHECK-LABEL: module attributes
// CHECK-SAME: mode = "recompute", reason = "'tfc.add' at '{{.*}}' mixes key positions with query positions"
module attributes {tfc.family = "onnx"} {
  func.func @forward(%ids: tensor<?x?xi64> {tfc.dims = ["batch", "seq"], tfc.name = "input_ids"}, %mask: tensor<?x?xi64> {tfc.dims = ["batch", "seq"], tfc.name = "attention_mask"}) -> (tensor<?x?x32xf32> {tfc.name = "logits"}) {
    %tok = tfc.weight "tok" : tensor<32x8xf32>
    %head = tfc.weight "head" : tensor<8x32xf32>
    %x = tfc.add %ids, %mask : (tensor<?x?xi64>, tensor<?x?xi64>) -> tensor<?x?xi64>
    %e = tfc.gather %tok, %x : (tensor<32x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %a = tfc.attention %e, %e, %e {mask_kind = #tfc<mask causal>, num_heads = 2 : i64, scale = 0.25 : f32} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %l = tfc.linear %a, %head : (tensor<?x?x8xf32>, tensor<8x32xf32>) -> tensor<?x?x32xf32>
    return %l : tensor<?x?x32xf32>
  }
}

// -----

// Encoder-decoder: cross-attention keys/values from the source go to slots that @encode fills.
// CHECK-LABEL: module attributes
// CHECK-SAME: tfc.generation = {key_mask_inputs = [], mode = "kv-cache", token_input = "tgt_ids"}
// CHECK: func.func @prefill(%{{.*}}: tensor<?x?xi64> {tfc.dims = ["batch", "tgt_seq"], tfc.name = "tgt_ids"})
// CHECK: tfc.cached_attention %{{.*}} key(%{{.*}}) value(%{{.*}}) {mask_kind = #tfc<mask causal>, {{.*}}slot = 0 : i64}
// CHECK: tfc.cached_attention %{{.*}} {cross, num_heads = 2 : i64, scale = 2.500000e-01 : f32, slot = 1 : i64}
// CHECK: func.func @decode_step(%{{.*}}: tensor<?x1xi64>
// CHECK: func.func @encode(%{{.*}}: tensor<?x?xi64> {tfc.dims = ["batch", "src_seq"], tfc.name = "src_ids"}) attributes {tfc.cache_op = "encode"}
// CHECK: tfc.attention
// CHECK: tfc.cache_store %{{.*}}, %{{.*}} {slot = 1 : i64}
// CHECK-NEXT: return
module attributes {tfc.family = "encoder_decoder"} {
  func.func @forward(%src: tensor<?x?xi64> {tfc.dims = ["batch", "src_seq"], tfc.name = "src_ids"}, %tgt: tensor<?x?xi64> {tfc.dims = ["batch", "tgt_seq"], tfc.name = "tgt_ids"}) -> (tensor<?x?x32xf32> {tfc.name = "logits"}) {
    %tok = tfc.weight "tok" : tensor<32x8xf32>
    %wk = tfc.weight "wk" : tensor<8x8xf32>
    %head = tfc.weight "head" : tensor<8x32xf32>
    %s = tfc.gather %tok, %src : (tensor<32x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %enc = tfc.attention %s, %s, %s {num_heads = 2 : i64, scale = 0.25 : f32} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %k = tfc.linear %enc, %wk : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
    %t = tfc.gather %tok, %tgt : (tensor<32x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %a = tfc.attention %t, %t, %t {mask_kind = #tfc<mask causal>, num_heads = 2 : i64, scale = 0.25 : f32} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %c = tfc.attention %a, %k, %k {num_heads = 2 : i64, scale = 0.25 : f32} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
    %l = tfc.linear %c, %head : (tensor<?x?x8xf32>, tensor<8x32xf32>) -> tensor<?x?x32xf32>
    return %l : tensor<?x?x32xf32>
  }
}
