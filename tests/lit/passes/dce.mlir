// RUN: tfc-opt %s -tfc-dce -split-input-file | FileCheck %s

// A dead chain goes in one run, back to its unused weight and constant.
// CHECK-LABEL: func.func @dead_chain
// CHECK-NOT: "dead.w"
// CHECK-NOT: tfc.relu
// CHECK-NOT: tfc.constant
// CHECK: %[[W:.*]] = tfc.weight "live.w"
// CHECK-NEXT: %[[Y:.*]] = tfc.matmul %arg0, %[[W]]
// CHECK-NEXT: return %[[Y]]
func.func @dead_chain(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %dw = tfc.weight "dead.w" : tensor<64x64xf32>
  %c = tfc.constant dense<2.0> : tensor<f32>
  %w = tfc.weight "live.w" : tensor<64x64xf32>
  %d0 = tfc.matmul %x, %dw : (tensor<?x64xf32>, tensor<64x64xf32>) -> tensor<?x64xf32>
  %d1 = tfc.mul %d0, %c : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %d2 = tfc.relu %d1 : (tensor<?x64xf32>) -> tensor<?x64xf32>
  %y = tfc.matmul %x, %w : (tensor<?x64xf32>, tensor<64x64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// A dead op that uses a live value leaves the live value alone; functions and
// their arguments stay even when nothing uses them.
// CHECK-LABEL: func.func @partly_dead
// CHECK: %[[A:.*]] = tfc.relu %arg0
// CHECK-NOT: tfc.exp
// CHECK: return %[[A]]
// CHECK-LABEL: func.func @empty
// CHECK-NEXT: return
func.func @partly_dead(%x: tensor<4xf32>, %unused: tensor<4xf32>) -> tensor<4xf32> {
  %a = tfc.relu %x : (tensor<4xf32>) -> tensor<4xf32>
  %b = tfc.exp %a : (tensor<4xf32>) -> tensor<4xf32>
  return %a : tensor<4xf32>
}
func.func @empty(%x: tensor<4xf32>) {
  %c = tfc.constant dense<0.0> : tensor<4xf32>
  return
}
