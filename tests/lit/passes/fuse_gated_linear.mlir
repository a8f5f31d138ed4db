// RUN: tfc-opt %s -tfc-fuse-gated-linear -split-input-file | FileCheck %s

// SwiGLU as torch exports LLaMA's MLP: silu(x Wg) = (x Wg) * sigmoid(x Wg),
// times x Wu, then the down projection (left for tfc-fuse-linear).
// CHECK-LABEL: func.func @swiglu_torch_export
// CHECK-DAG: %[[WG:.*]] = tfc.weight "mlp.gate_proj"
// CHECK-DAG: %[[WU:.*]] = tfc.weight "mlp.up_proj"
// CHECK-DAG: %[[WD:.*]] = tfc.weight "mlp.down_proj"
// CHECK: %[[H:.*]] = tfc.gated_linear %arg0, %[[WG]], %[[WU]] {activation = #tfc<gate silu>} : (tensor<?x?x64xf32>, tensor<64x128xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
// CHECK-NOT: tfc.sigmoid
// CHECK: tfc.matmul %[[H]], %[[WD]]
func.func @swiglu_torch_export(%x: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %wg = tfc.weight "mlp.gate_proj" : tensor<64x128xf32>
  %wu = tfc.weight "mlp.up_proj" : tensor<64x128xf32>
  %wd = tfc.weight "mlp.down_proj" : tensor<128x64xf32>
  %g = tfc.matmul %x, %wg : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %s = tfc.sigmoid %g : (tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %a = tfc.mul %g, %s : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %u = tfc.matmul %x, %wu : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %h = tfc.mul %a, %u : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %y = tfc.matmul %h, %wd : (tensor<?x?x128xf32>, tensor<128x64xf32>) -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// -----

// SiLU without sigmoid: g / (1 + exp(-g)); the product and the sum with
// their operands swapped.
// CHECK-LABEL: func.func @swiglu_exp_form
// CHECK: tfc.gated_linear %arg0, %arg1, %arg2 {activation = #tfc<gate silu>}
// CHECK-NOT: tfc.exp
func.func @swiglu_exp_form(%x: tensor<?x?x64xf32>, %wg: tensor<64x128xf32>, %wu: tensor<64x128xf32>) -> tensor<?x?x128xf32> {
  %one = tfc.constant dense<1.0> : tensor<f32>
  %g = tfc.matmul %x, %wg : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %ng = tfc.neg %g : (tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %e = tfc.exp %ng : (tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %d = tfc.add %e, %one : (tensor<?x?x128xf32>, tensor<f32>) -> tensor<?x?x128xf32>
  %a = tfc.div %g, %d : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %u = tfc.matmul %x, %wu : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %h = tfc.mul %u, %a : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  return %h : tensor<?x?x128xf32>
}

// -----

// -g written as g * -1, sigmoid(g) * g.
// CHECK-LABEL: func.func @swiglu_mul_minus_one
// CHECK: tfc.gated_linear %arg0, %arg1, %arg2 {activation = #tfc<gate silu>}
// CHECK-LABEL: func.func @swiglu_sigmoid_first
// CHECK: tfc.gated_linear %arg0, %arg1, %arg2 {activation = #tfc<gate silu>}
func.func @swiglu_mul_minus_one(%x: tensor<?x?x64xf32>, %wg: tensor<64x128xf32>, %wu: tensor<64x128xf32>) -> tensor<?x?x128xf32> {
  %one = tfc.constant dense<1.0> : tensor<f32>
  %m1 = tfc.constant dense<-1.0> : tensor<f32>
  %g = tfc.matmul %x, %wg : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %ng = tfc.mul %m1, %g : (tensor<f32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %e = tfc.exp %ng : (tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %d = tfc.add %one, %e : (tensor<f32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %a = tfc.div %g, %d : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %u = tfc.matmul %x, %wu : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %h = tfc.mul %a, %u : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  return %h : tensor<?x?x128xf32>
}
func.func @swiglu_sigmoid_first(%x: tensor<?x?x64xf32>, %wg: tensor<64x128xf32>, %wu: tensor<64x128xf32>) -> tensor<?x?x128xf32> {
  %g = tfc.matmul %x, %wg : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %s = tfc.sigmoid %g : (tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %a = tfc.mul %s, %g : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %u = tfc.matmul %x, %wu : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %h = tfc.mul %u, %a : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  return %h : tensor<?x?x128xf32>
}

// -----

// GeGLU (T5 v1.1: erf GELU; Gemma: tanh GELU), after tfc-fuse-gelu.
// CHECK-LABEL: func.func @geglu
// CHECK: %[[E:.*]] = tfc.gated_linear %arg0, %arg1, %arg2 {activation = #tfc<gate gelu_erf>}
// CHECK: %[[T:.*]] = tfc.gated_linear %[[E]], %arg3, %arg3 {activation = #tfc<gate gelu_tanh>}
// CHECK-NOT: tfc.gelu
func.func @geglu(%x: tensor<?x?x64xf32>, %wg: tensor<64x64xf32>, %wu: tensor<64x64xf32>, %w2: tensor<64x64xf32>) -> tensor<?x?x64xf32> {
  %g = tfc.matmul %x, %wg : (tensor<?x?x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
  %a = tfc.gelu %g : (tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %u = tfc.matmul %x, %wu : (tensor<?x?x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
  %h = tfc.mul %a, %u : (tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %g2 = tfc.matmul %h, %w2 : (tensor<?x?x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
  %a2 = tfc.gelu %g2 {approximate = #tfc<gelu tanh>} : (tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %u2 = tfc.matmul %h, %w2 : (tensor<?x?x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
  %h2 = tfc.mul %u2, %a2 : (tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return %h2 : tensor<?x?x64xf32>
}

// -----

// Negative: the gate projection adds a bias.
// CHECK-LABEL: func.func @gate_bias
// CHECK-NOT: tfc.gated_linear
// CHECK: tfc.sigmoid
func.func @gate_bias(%x: tensor<?x?x64xf32>, %wg: tensor<64x128xf32>, %wu: tensor<64x128xf32>, %b: tensor<128xf32>) -> tensor<?x?x128xf32> {
  %m = tfc.matmul %x, %wg : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %g = tfc.add %m, %b : (tensor<?x?x128xf32>, tensor<128xf32>) -> tensor<?x?x128xf32>
  %s = tfc.sigmoid %g : (tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %a = tfc.mul %g, %s : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %u = tfc.matmul %x, %wu : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %h = tfc.mul %a, %u : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  return %h : tensor<?x?x128xf32>
}

// -----

// Negative: gate and up project different inputs.
// CHECK-LABEL: func.func @different_inputs
// CHECK-NOT: tfc.gated_linear
func.func @different_inputs(%x: tensor<?x?x64xf32>, %z: tensor<?x?x64xf32>, %wg: tensor<64x128xf32>, %wu: tensor<64x128xf32>) -> tensor<?x?x128xf32> {
  %g = tfc.matmul %x, %wg : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %s = tfc.sigmoid %g : (tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %a = tfc.mul %g, %s : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %u = tfc.matmul %z, %wu : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %h = tfc.mul %a, %u : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  return %h : tensor<?x?x128xf32>
}

// -----

// Negative: the gate projection is also used elsewhere.
// CHECK-LABEL: func.func @gate_used_elsewhere
// CHECK-NOT: tfc.gated_linear
func.func @gate_used_elsewhere(%x: tensor<?x?x64xf32>, %wg: tensor<64x128xf32>, %wu: tensor<64x128xf32>) -> (tensor<?x?x128xf32>, tensor<?x?x128xf32>) {
  %g = tfc.matmul %x, %wg : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %s = tfc.sigmoid %g : (tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %a = tfc.mul %g, %s : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %u = tfc.matmul %x, %wu : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %h = tfc.mul %a, %u : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  return %h, %g : tensor<?x?x128xf32>, tensor<?x?x128xf32>
}

// -----

// Negative: the activated gate and the up projection are used elsewhere.
// CHECK-LABEL: func.func @activation_used_elsewhere
// CHECK-NOT: tfc.gated_linear
// CHECK-LABEL: func.func @up_used_elsewhere
// CHECK-NOT: tfc.gated_linear
func.func @activation_used_elsewhere(%x: tensor<?x?x64xf32>, %wg: tensor<64x128xf32>, %wu: tensor<64x128xf32>) -> (tensor<?x?x128xf32>, tensor<?x?x128xf32>) {
  %g = tfc.matmul %x, %wg : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %a = tfc.gelu %g : (tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %u = tfc.matmul %x, %wu : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %h = tfc.mul %a, %u : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  return %h, %a : tensor<?x?x128xf32>, tensor<?x?x128xf32>
}
func.func @up_used_elsewhere(%x: tensor<?x?x64xf32>, %wg: tensor<64x128xf32>, %wu: tensor<64x128xf32>) -> (tensor<?x?x128xf32>, tensor<?x?x128xf32>) {
  %g = tfc.matmul %x, %wg : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %a = tfc.gelu %g : (tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %u = tfc.matmul %x, %wu : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %h = tfc.mul %a, %u : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  return %h, %u : tensor<?x?x128xf32>, tensor<?x?x128xf32>
}

// -----

// Negative: sigmoid of another value than the one it multiplies (not SiLU).
// CHECK-LABEL: func.func @sigmoid_of_other_value
// CHECK-NOT: tfc.gated_linear
func.func @sigmoid_of_other_value(%x: tensor<?x?x64xf32>, %wg: tensor<64x128xf32>, %wu: tensor<64x128xf32>, %z: tensor<?x?x128xf32>) -> tensor<?x?x128xf32> {
  %g = tfc.matmul %x, %wg : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %s = tfc.sigmoid %z : (tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %a = tfc.mul %g, %s : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %u = tfc.matmul %x, %wu : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %h = tfc.mul %a, %u : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  return %h : tensor<?x?x128xf32>
}

// -----

// Negative: ReLU is not a gate activation this fusion takes.
// CHECK-LABEL: func.func @relu_gate
// CHECK-NOT: tfc.gated_linear
func.func @relu_gate(%x: tensor<?x?x64xf32>, %wg: tensor<64x128xf32>, %wu: tensor<64x128xf32>) -> tensor<?x?x128xf32> {
  %g = tfc.matmul %x, %wg : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %a = tfc.relu %g : (tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  %u = tfc.matmul %x, %wu : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
  %h = tfc.mul %a, %u : (tensor<?x?x128xf32>, tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
  return %h : tensor<?x?x128xf32>
}

// -----

// Negative: batched weights (rank 3) are not projections.
// CHECK-LABEL: func.func @batched_up_weight
// CHECK-NOT: tfc.gated_linear
func.func @batched_up_weight(%x: tensor<2x8x64xf32>, %wg: tensor<64x128xf32>, %wu: tensor<2x64x128xf32>) -> tensor<2x8x128xf32> {
  %g = tfc.matmul %x, %wg : (tensor<2x8x64xf32>, tensor<64x128xf32>) -> tensor<2x8x128xf32>
  %a = tfc.gelu %g : (tensor<2x8x128xf32>) -> tensor<2x8x128xf32>
  %u = tfc.matmul %x, %wu : (tensor<2x8x64xf32>, tensor<2x64x128xf32>) -> tensor<2x8x128xf32>
  %h = tfc.mul %a, %u : (tensor<2x8x128xf32>, tensor<2x8x128xf32>) -> tensor<2x8x128xf32>
  return %h : tensor<2x8x128xf32>
}
