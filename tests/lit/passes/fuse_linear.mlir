// RUN: tfc-opt %s -tfc-fuse-linear -split-input-file | FileCheck %s

// matmul + bias + gelu + residual, the FFN output of an encoder layer.
// CHECK-LABEL: func.func @bias_gelu_residual
// CHECK-DAG: %[[W:.*]] = tfc.weight "ffn.w"
// CHECK-DAG: %[[B:.*]] = tfc.weight "ffn.b"
// CHECK: %[[Y:.*]] = tfc.linear %arg0, %[[W]] bias(%[[B]]) residual(%arg1) {activation = #tfc<activation gelu_erf>} : (tensor<?x?x64xf32>, tensor<64x256xf32>, tensor<256xf32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
// CHECK-NOT: tfc.matmul
// CHECK-NOT: tfc.add
// CHECK: return %[[Y]]
func.func @bias_gelu_residual(%x: tensor<?x?x64xf32>, %res: tensor<?x?x256xf32>) -> tensor<?x?x256xf32> {
  %w = tfc.weight "ffn.w" : tensor<64x256xf32>
  %b = tfc.weight "ffn.b" : tensor<256xf32>
  %y = tfc.matmul %x, %w : (tensor<?x?x64xf32>, tensor<64x256xf32>) -> tensor<?x?x256xf32>
  %z = tfc.add %y, %b : (tensor<?x?x256xf32>, tensor<256xf32>) -> tensor<?x?x256xf32>
  %a = tfc.gelu %z : (tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  %r = tfc.add %res, %a : (tensor<?x?x256xf32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  return %r : tensor<?x?x256xf32>
}

// -----

// Bias first in the add, relu, no residual.
// CHECK-LABEL: func.func @bias_relu
// CHECK: tfc.linear %arg0, %{{.*}} bias(%{{.*}}) {activation = #tfc<activation relu>}
// CHECK-NOT: tfc.relu
func.func @bias_relu(%x: tensor<?x?x64xf32>) -> tensor<?x?x256xf32> {
  %w = tfc.weight "fc.w" : tensor<64x256xf32>
  %b = tfc.weight "fc.b" : tensor<256xf32>
  %y = tfc.matmul %x, %w : (tensor<?x?x64xf32>, tensor<64x256xf32>) -> tensor<?x?x256xf32>
  %z = tfc.add %b, %y : (tensor<256xf32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  %a = tfc.relu %z : (tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  return %a : tensor<?x?x256xf32>
}

// -----

// tanh GELU without bias.
// CHECK-LABEL: func.func @gelu_tanh_no_bias
// CHECK: tfc.linear %arg0, %{{.*}} {activation = #tfc<activation gelu_tanh>}
func.func @gelu_tanh_no_bias(%x: tensor<?x?x64xf32>) -> tensor<?x?x256xf32> {
  %w = tfc.weight "fc.w" : tensor<64x256xf32>
  %y = tfc.matmul %x, %w : (tensor<?x?x64xf32>, tensor<64x256xf32>) -> tensor<?x?x256xf32>
  %a = tfc.gelu %y {approximate = #tfc<gelu tanh>} : (tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  return %a : tensor<?x?x256xf32>
}

// -----

// Bias + residual without activation (the attention output projection).
// CHECK-LABEL: func.func @bias_residual
// CHECK: tfc.linear %arg0, %{{.*}} bias(%{{.*}}) residual(%arg1) :
func.func @bias_residual(%x: tensor<?x?x64xf32>, %res: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %w = tfc.weight "o.w" : tensor<64x64xf32>
  %b = tfc.weight "o.b" : tensor<64xf32>
  %y = tfc.matmul %x, %w : (tensor<?x?x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
  %z = tfc.add %y, %b : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  %r = tfc.add %z, %res : (tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return %r : tensor<?x?x64xf32>
}

// -----

// Tied LM head: the weight is a transpose of the embedding table; plain matmul.
// CHECK-LABEL: func.func @tied_lm_head
// CHECK: %[[WT:.*]] = tfc.transpose
// CHECK: tfc.linear %arg0, %[[WT]] : (tensor<?x?x64xf32>, tensor<64x512xf32>) -> tensor<?x?x512xf32>
func.func @tied_lm_head(%h: tensor<?x?x64xf32>) -> tensor<?x?x512xf32> {
  %e = tfc.weight "embeddings.token" : tensor<512x64xf32>
  %wt = tfc.transpose %e {perm = array<i64: 1, 0>} : (tensor<512x64xf32>) -> tensor<64x512xf32>
  %y = tfc.matmul %h, %wt : (tensor<?x?x64xf32>, tensor<64x512xf32>) -> tensor<?x?x512xf32>
  return %y : tensor<?x?x512xf32>
}

// -----

// The matmul result is used twice: the bias add is not taken, the matmul
// alone becomes a linear.
// CHECK-LABEL: func.func @matmul_used_twice
// CHECK: %[[L:.*]] = tfc.linear %arg0, %{{[^ ]*}} :
// CHECK: tfc.add %[[L]]
// CHECK: tfc.relu %[[L]]
func.func @matmul_used_twice(%x: tensor<?x64xf32>) -> (tensor<?x256xf32>, tensor<?x256xf32>) {
  %w = tfc.weight "fc.w" : tensor<64x256xf32>
  %b = tfc.weight "fc.b" : tensor<256xf32>
  %y = tfc.matmul %x, %w : (tensor<?x64xf32>, tensor<64x256xf32>) -> tensor<?x256xf32>
  %z = tfc.add %y, %b : (tensor<?x256xf32>, tensor<256xf32>) -> tensor<?x256xf32>
  %a = tfc.relu %y : (tensor<?x256xf32>) -> tensor<?x256xf32>
  return %z, %a : tensor<?x256xf32>, tensor<?x256xf32>
}

// -----

// Negative: a batched matmul of two activations (rank-4 rhs) is not a linear.
// CHECK-LABEL: func.func @batched_matmul
// CHECK-NOT: tfc.linear
// CHECK: tfc.matmul
func.func @batched_matmul(%a: tensor<?x4x?x16xf32>, %b: tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32> {
  %s = tfc.matmul %a, %b : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  return %s : tensor<?x4x?x?xf32>
}
