// RUN: tfc-opt %s -tfc-convert-precision=precision=bf16 | FileCheck %s
// RUN: not tfc-opt %s -tfc-convert-precision=precision=f8 2>&1 | FileCheck %s --check-prefix=BAD

// bf16: the same rules in bfloat16. The lowest f32 rounds to -inf in bf16 (round to nearest
// even); as a constant of features it is saturated to bf16's lowest finite value instead.
// 1e9 is in range (bf16 has f32's exponents): rounded to nearest even, 998244352.
// CHECK-LABEL: func.func @block(%arg0: tensor<?x64xf32>, %arg1: tensor<?x64xi1>) -> tensor<?x64xf32>
// CHECK-DAG: %[[X:.*]] = tfc.cast %arg0 : (tensor<?x64xf32>) -> tensor<?x64xbf16>
// CHECK-DAG: %[[W:.*]] = tfc.weight "fc.weight" : tensor<64x64xbf16>
// CHECK-DAG: %[[LOW:.*]] = tfc.constant dense<-3.389530e+38> : tensor<bf16>
// CHECK-DAG: %[[BIG:.*]] = tfc.constant dense<9.982440e+08> : tensor<bf16>
// CHECK: %[[L:.*]] = tfc.linear %[[X]], %[[W]] : (tensor<?x64xbf16>, tensor<64x64xbf16>) -> tensor<?x64xbf16>
// CHECK: %[[M:.*]] = tfc.mul %[[L]], %[[BIG]] : (tensor<?x64xbf16>, tensor<bf16>) -> tensor<?x64xbf16>
// CHECK: %[[S:.*]] = tfc.where %arg1, %[[M]], %[[LOW]] : (tensor<?x64xi1>, tensor<?x64xbf16>, tensor<bf16>) -> tensor<?x64xbf16>
// CHECK: %[[Y:.*]] = tfc.cast %[[S]] : (tensor<?x64xbf16>) -> tensor<?x64xf32>
// CHECK: return %[[Y]]
// BAD: error: tfc-convert-precision: unknown precision 'f8' (f32, f16 or bf16)
func.func @block(%x: tensor<?x64xf32>, %keep: tensor<?x64xi1>) -> tensor<?x64xf32> {
  %w = tfc.weight "fc.weight" : tensor<64x64xf32>
  %low = tfc.constant dense<-3.40282347E+38> : tensor<f32>
  %big = tfc.constant dense<1.0e9> : tensor<f32>
  %l = tfc.linear %x, %w : (tensor<?x64xf32>, tensor<64x64xf32>) -> tensor<?x64xf32>
  %m = tfc.mul %l, %big : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %s = tfc.where %keep, %m, %low : (tensor<?x64xi1>, tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  return %s : tensor<?x64xf32>
}
