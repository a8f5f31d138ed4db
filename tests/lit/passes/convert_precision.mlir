// RUN: tfc-opt %s -tfc-convert-precision=precision=f16 -split-input-file | FileCheck %s
// RUN: tfc-opt %s -tfc-convert-precision=precision=f16 -split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=WARN
// RUN: tfc-opt %s -tfc-convert-precision=precision=f32 -split-input-file | FileCheck %s --check-prefix=F32

// An encoder block: the signature stays f32; the argument is cast to f16 at the entry, the
// weights are retyped (the lowering converts their bytes), every op computes in f16, the result
// is cast back to f32 before the return.
// CHECK-LABEL: func.func @block(%arg0: tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
// CHECK: %[[X:.*]] = tfc.cast %arg0 : (tensor<?x?x64xf32>) -> tensor<?x?x64xf16>
// CHECK-DAG: %[[W:.*]] = tfc.weight "fc.weight" : tensor<64x64xf16>
// CHECK-DAG: %[[B:.*]] = tfc.weight "fc.bias" : tensor<64xf16>
// CHECK-DAG: %[[G:.*]] = tfc.weight "ln.weight" : tensor<64xf16>
// CHECK-DAG: %[[BT:.*]] = tfc.weight "ln.bias" : tensor<64xf16>
// CHECK: %[[L:.*]] = tfc.linear %[[X]], %[[W]] bias(%[[B]]) {{.*}}(tensor<?x?x64xf16>, tensor<64x64xf16>, tensor<64xf16>) -> tensor<?x?x64xf16>
// CHECK: %[[N:.*]] = tfc.layer_norm %[[L]], %[[G]], %[[BT]] residual(%[[X]]) {{.*}} -> tensor<?x?x64xf16>
// CHECK: %[[Y:.*]] = tfc.cast %[[N]] : (tensor<?x?x64xf16>) -> tensor<?x?x64xf32>
// CHECK: return %[[Y]] : tensor<?x?x64xf32>
// F32-LABEL: func.func @block
// F32-NOT: f16
// F32-NOT: tfc.cast
// F32: return
func.func @block(%x: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %w = tfc.weight "fc.weight" : tensor<64x64xf32>
  %b = tfc.weight "fc.bias" : tensor<64xf32>
  %g = tfc.weight "ln.weight" : tensor<64xf32>
  %bt = tfc.weight "ln.bias" : tensor<64xf32>
  %l = tfc.linear %x, %w bias(%b) {activation = #tfc<activation gelu_erf>} : (tensor<?x?x64xf32>, tensor<64x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  %n = tfc.layer_norm %l, %g, %bt residual(%x) {epsilon = 1.0e-5 : f32} : (tensor<?x?x64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return %n : tensor<?x?x64xf32>
}

// -----

// Integer values are untouched: the ids, shapes, comparisons (bool) and the argmax (i64); the
// embedding table is a weight read by a lookup (features: f16); the logits compared with an f32
// constant make the constant f16.
// CHECK-LABEL: func.func @ints_untouched(%arg0: tensor<?x?xi64>) -> (tensor<?x?xi64>, tensor<3xi64>, tensor<?x?x16xi1>)
// CHECK-DAG: %[[T:.*]] = tfc.weight "embed" : tensor<100x16xf16>
// CHECK-DAG: %[[Z:.*]] = tfc.constant dense<5.000000e-01> : tensor<f16>
// CHECK: %[[E:.*]] = tfc.gather %[[T]], %arg0 : (tensor<100x16xf16>, tensor<?x?xi64>) -> tensor<?x?x16xf16>
// CHECK: %[[S:.*]] = tfc.shape %[[E]] : (tensor<?x?x16xf16>) -> tensor<3xi64>
// CHECK: %[[A:.*]] = tfc.argmax %[[E]] {{.*}}: (tensor<?x?x16xf16>) -> tensor<?x?xi64>
// CHECK: %[[C:.*]] = tfc.greater %[[E]], %[[Z]] : (tensor<?x?x16xf16>, tensor<f16>) -> tensor<?x?x16xi1>
// CHECK: return %[[A]], %[[S]], %[[C]] : tensor<?x?xi64>, tensor<3xi64>, tensor<?x?x16xi1>
func.func @ints_untouched(%ids: tensor<?x?xi64>) -> (tensor<?x?xi64>, tensor<3xi64>, tensor<?x?x16xi1>) {
  %t = tfc.weight "embed" : tensor<100x16xf32>
  %half = tfc.constant dense<0.5> : tensor<f32>
  %e = tfc.gather %t, %ids : (tensor<100x16xf32>, tensor<?x?xi64>) -> tensor<?x?x16xf32>
  %s = tfc.shape %e : (tensor<?x?x16xf32>) -> tensor<3xi64>
  %a = tfc.argmax %e {axis = -1 : i64, keepdims = false} : (tensor<?x?x16xf32>) -> tensor<?x?xi64>
  %c = tfc.greater %e, %half : (tensor<?x?x16xf32>, tensor<f32>) -> tensor<?x?x16xi1>
  return %a, %s, %c : tensor<?x?xi64>, tensor<3xi64>, tensor<?x?x16xi1>
}

// -----

// Must not convert: a padding mask computed from the integer attention_mask stays f32 (the
// lowest f32 has no f16 value), and the attention reads it in f32; q, k, v are f16.
// CHECK-LABEL: func.func @padding_mask
// CHECK-DAG: %[[ONE:.*]] = tfc.constant dense<1.000000e+00> : tensor<f32>
// CHECK-DAG: %[[LOW:.*]] = tfc.constant dense<-3.40282347E+38> : tensor<f32>
// CHECK-DAG: %[[X:.*]] = tfc.cast %arg0 : (tensor<?x?x64xf32>) -> tensor<?x?x64xf16>
// CHECK: %[[M:.*]] = tfc.cast %arg1 : (tensor<?x?xi64>) -> tensor<?x?xf32>
// CHECK: %[[INV:.*]] = tfc.sub %[[ONE]], %[[M]] : (tensor<f32>, tensor<?x?xf32>) -> tensor<?x?xf32>
// CHECK: %[[BIAS:.*]] = tfc.mul %[[INV]], %[[LOW]] : (tensor<?x?xf32>, tensor<f32>) -> tensor<?x?xf32>
// CHECK: %[[R:.*]] = tfc.reshape %[[BIAS]] {{.*}}: (tensor<?x?xf32>) -> tensor<?x1x1x?xf32>
// CHECK: tfc.attention %[[X]], %[[X]], %[[X]], %[[R]] {{.*}}: (tensor<?x?x64xf16>, tensor<?x?x64xf16>, tensor<?x?x64xf16>, tensor<?x1x1x?xf32>) -> tensor<?x?x64xf16>
func.func @padding_mask(%x: tensor<?x?x64xf32>, %mask: tensor<?x?xi64>) -> tensor<?x?x64xf32> {
  %one = tfc.constant dense<1.0> : tensor<f32>
  %low = tfc.constant dense<-3.40282347E+38> : tensor<f32>
  %m = tfc.cast %mask : (tensor<?x?xi64>) -> tensor<?x?xf32>
  %inv = tfc.sub %one, %m : (tensor<f32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %bias = tfc.mul %inv, %low : (tensor<?x?xf32>, tensor<f32>) -> tensor<?x?xf32>
  %r = tfc.reshape %bias {shape = array<i64: 0, 1, 1, -1>} : (tensor<?x?xf32>) -> tensor<?x1x1x?xf32>
  %a = tfc.attention %x, %x, %x, %r {mask_kind = #tfc<mask padding>, num_heads = 4 : i64, scale = 0.25 : f32} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x1x1x?xf32>) -> tensor<?x?x64xf32>
  return %a : tensor<?x?x64xf32>
}

// -----

// Must not convert: rotary tables computed from the position ids (positions times inv_freq,
// then cos and sin) stay f32, inv_freq too; they are cast to f16 where the rotary reads them.
// CHECK-LABEL: func.func @rotary_tables
// CHECK-DAG: %[[INV:.*]] = tfc.weight "rotary.inv_freq" : tensor<8xf32>
// CHECK-DAG: %[[X:.*]] = tfc.cast %arg0 : (tensor<1x?x64xf32>) -> tensor<1x?x64xf16>
// CHECK: %[[P:.*]] = tfc.cast %arg1 : (tensor<?x1xi64>) -> tensor<?x1xf32>
// CHECK: %[[F:.*]] = tfc.mul %[[P]], %[[INV]] : (tensor<?x1xf32>, tensor<8xf32>) -> tensor<?x8xf32>
// CHECK: %[[FF:.*]] = tfc.concat %[[F]], %[[F]] {{.*}} -> tensor<?x16xf32>
// CHECK: %[[COS:.*]] = tfc.cos %[[FF]] : (tensor<?x16xf32>) -> tensor<?x16xf32>
// CHECK: %[[COS16:.*]] = tfc.cast %[[COS]] : (tensor<?x16xf32>) -> tensor<?x16xf16>
// CHECK: %[[SIN:.*]] = tfc.sin %[[FF]] : (tensor<?x16xf32>) -> tensor<?x16xf32>
// CHECK: %[[SIN16:.*]] = tfc.cast %[[SIN]] : (tensor<?x16xf32>) -> tensor<?x16xf16>
// CHECK: tfc.rotary %[[X]], %[[COS16]], %[[SIN16]] {{.*}}: (tensor<1x?x64xf16>, tensor<?x16xf16>, tensor<?x16xf16>) -> tensor<1x?x64xf16>
func.func @rotary_tables(%x: tensor<1x?x64xf32>, %pos: tensor<?x1xi64>) -> tensor<1x?x64xf32> {
  %inv = tfc.weight "rotary.inv_freq" : tensor<8xf32>
  %p = tfc.cast %pos : (tensor<?x1xi64>) -> tensor<?x1xf32>
  %f = tfc.mul %p, %inv : (tensor<?x1xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  %ff = tfc.concat %f, %f {axis = -1 : i64} : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
  %cos = tfc.cos %ff : (tensor<?x16xf32>) -> tensor<?x16xf32>
  %sin = tfc.sin %ff : (tensor<?x16xf32>) -> tensor<?x16xf32>
  %y = tfc.rotary %x, %cos, %sin {num_heads = 4 : i64, rotary_dim = 16 : i64} : (tensor<1x?x64xf32>, tensor<?x16xf32>, tensor<?x16xf32>) -> tensor<1x?x64xf32>
  return %y : tensor<1x?x64xf32>
}

// -----

// Must not convert: a relative-position bucket computed in float and cast back to an integer
// (T5) stays f32, so the bucket cannot move; the bias table gathered by it is read only as the
// attention's mask (through a transpose), so it is an f32 score term too: the weight, the
// lookup and the transpose stay f32 and need no cast.
// CHECK-LABEL: func.func @position_bucket
// CHECK-DAG: %[[TABLE:.*]] = tfc.weight "rel_bias" : tensor<32x4xf32>
// CHECK-DAG: %[[D:.*]] = tfc.cast %arg1 : (tensor<?x?xi64>) -> tensor<?x?xf32>
// CHECK: %[[LG:.*]] = tfc.log %[[D]] : (tensor<?x?xf32>) -> tensor<?x?xf32>
// CHECK: %[[B:.*]] = tfc.cast %[[LG]] : (tensor<?x?xf32>) -> tensor<?x?xi64>
// CHECK: %[[G:.*]] = tfc.gather %[[TABLE]], %[[B]] : (tensor<32x4xf32>, tensor<?x?xi64>) -> tensor<?x?x4xf32>
// CHECK: %[[T:.*]] = tfc.transpose %[[G]] {{.*}}-> tensor<4x?x?xf32>
// CHECK-NEXT: tfc.attention {{.*}}, %[[T]] {{.*}}tensor<4x?x?xf32>) -> tensor<1x?x64xf16>
func.func @position_bucket(%x: tensor<1x?x64xf32>, %dist: tensor<?x?xi64>) -> tensor<1x?x64xf32> {
  %table = tfc.weight "rel_bias" : tensor<32x4xf32>
  %d = tfc.cast %dist : (tensor<?x?xi64>) -> tensor<?x?xf32>
  %lg = tfc.log %d : (tensor<?x?xf32>) -> tensor<?x?xf32>
  %b = tfc.cast %lg : (tensor<?x?xf32>) -> tensor<?x?xi64>
  %g = tfc.gather %table, %b : (tensor<32x4xf32>, tensor<?x?xi64>) -> tensor<?x?x4xf32>
  %t = tfc.transpose %g {perm = array<i64: 2, 0, 1>} : (tensor<?x?x4xf32>) -> tensor<4x?x?xf32>
  %a = tfc.attention %x, %x, %x, %t {mask_kind = #tfc<mask padding>, num_heads = 4 : i64, scale = 1.0 : f32} : (tensor<1x?x64xf32>, tensor<1x?x64xf32>, tensor<1x?x64xf32>, tensor<4x?x?xf32>) -> tensor<1x?x64xf32>
  return %a : tensor<1x?x64xf32>
}

// -----

// A value of features that is also read as a mask: computed in f16 (its other reader wants
// features), cast to f32 for the attention's mask.
// CHECK-LABEL: func.func @mask_shared
// CHECK: %[[X:.*]] = tfc.cast %arg0 : (tensor<1x8x64xf32>) -> tensor<1x8x64xf16>
// CHECK: %[[S:.*]] = tfc.reshape %[[X]] {{.*}}-> tensor<1x8x8x8xf16>
// CHECK-NEXT: %[[S32:.*]] = tfc.cast %[[S]] : (tensor<1x8x8x8xf16>) -> tensor<1x8x8x8xf32>
// CHECK: %[[A:.*]] = tfc.attention %[[X]], %[[X]], %[[X]], %[[S32]] {{.*}}tensor<1x8x8x8xf32>) -> tensor<1x8x64xf16>
// CHECK: %[[R:.*]] = tfc.reshape %[[S]] {{.*}}-> tensor<1x8x64xf16>
// CHECK: tfc.add %[[A]], %[[R]] : (tensor<1x8x64xf16>, tensor<1x8x64xf16>) -> tensor<1x8x64xf16>
func.func @mask_shared(%x: tensor<1x8x64xf32>) -> tensor<1x8x64xf32> {
  %s = tfc.reshape %x {shape = array<i64: 1, 8, 8, 8>} : (tensor<1x8x64xf32>) -> tensor<1x8x8x8xf32>
  %a = tfc.attention %x, %x, %x, %s {mask_kind = #tfc<mask padding>, num_heads = 8 : i64, scale = 1.0 : f32} : (tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x8x8xf32>) -> tensor<1x8x64xf32>
  %r = tfc.reshape %s {shape = array<i64: 1, 8, 64>} : (tensor<1x8x8x8xf32>) -> tensor<1x8x64xf32>
  %y = tfc.add %a, %r : (tensor<1x8x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// An exporter's fill value computed with features (an unfused masked softmax): the lowest f32
// becomes f16's lowest finite value (-65504), not -inf, with a warning at the constant (the only
// warning of this file: the f32 mask of @padding_mask is not converted).
// WARN: convert_precision.mlir{{.*}}: warning: 1 value(s) beyond the f16 range saturated to the largest finite value (65504)
// WARN-NEXT: %low = tfc.constant dense<-3.40282347E+38> : tensor<f32>
// WARN-NOT: warning
// CHECK-LABEL: func.func @fill_saturates
// CHECK: tfc.constant dense<-6.550400e+04> : tensor<f16>
// CHECK: tfc.where %arg1, %{{.*}}, %{{.*}} : (tensor<?x?xi1>, tensor<?x?xf16>, tensor<f16>) -> tensor<?x?xf16>
func.func @fill_saturates(%s: tensor<?x?xf32>, %keep: tensor<?x?xi1>) -> tensor<?x?xf32> {
  %low = tfc.constant dense<-3.40282347E+38> : tensor<f32>
  %w = tfc.where %keep, %s, %low : (tensor<?x?xi1>, tensor<?x?xf32>, tensor<f32>) -> tensor<?x?xf32>
  %p = tfc.softmax %w {axis = -1 : i64} : (tensor<?x?xf32>) -> tensor<?x?xf32>
  return %p : tensor<?x?xf32>
}

// -----

// A constant read as f32 (by index arithmetic) and as f16 (by features) is cloned, converted;
// so is a weight (one f32, one f16 tfc.weight of the same name). A value returned as computed
// from integers alone (f32) needs no cast; the feature result does.
// CHECK-LABEL: func.func @read_in_both
// CHECK-DAG: %[[C32:.*]] = tfc.constant dense<2.000000e+00> : tensor<f32>
// CHECK-DAG: %[[C16:.*]] = tfc.constant dense<2.000000e+00> : tensor<f16>
// CHECK-DAG: %[[W32:.*]] = tfc.weight "scale" : tensor<4xf32>
// CHECK-DAG: %[[W16:.*]] = tfc.weight "scale" : tensor<4xf16>
// CHECK-DAG: %[[X:.*]] = tfc.cast %arg0 : (tensor<?x4xf32>) -> tensor<?x4xf16>
// CHECK-DAG: %[[P:.*]] = tfc.cast %arg1 : (tensor<?x1xi64>) -> tensor<?x1xf32>
// CHECK: %[[I:.*]] = tfc.mul %[[P]], %[[C32]] : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
// CHECK: %[[IW:.*]] = tfc.mul %[[I]], %[[W32]] : (tensor<?x1xf32>, tensor<4xf32>) -> tensor<?x4xf32>
// CHECK: %[[F:.*]] = tfc.mul %[[X]], %[[C16]] : (tensor<?x4xf16>, tensor<f16>) -> tensor<?x4xf16>
// CHECK: %[[FW:.*]] = tfc.mul %[[F]], %[[W16]] : (tensor<?x4xf16>, tensor<4xf16>) -> tensor<?x4xf16>
// CHECK: %[[FW32:.*]] = tfc.cast %[[FW]] : (tensor<?x4xf16>) -> tensor<?x4xf32>
// CHECK: return %[[IW]], %[[FW32]] : tensor<?x4xf32>, tensor<?x4xf32>
func.func @read_in_both(%x: tensor<?x4xf32>, %pos: tensor<?x1xi64>) -> (tensor<?x4xf32>, tensor<?x4xf32>) {
  %two = tfc.constant dense<2.0> : tensor<f32>
  %w = tfc.weight "scale" : tensor<4xf32>
  %p = tfc.cast %pos : (tensor<?x1xi64>) -> tensor<?x1xf32>
  %i = tfc.mul %p, %two : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %iw = tfc.mul %i, %w : (tensor<?x1xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  %f = tfc.mul %x, %two : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  %fw = tfc.mul %f, %w : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return %iw, %fw : tensor<?x4xf32>, tensor<?x4xf32>
}

// -----

// The generation functions: the KV cache holds f16 keys/values (cached attention and
// cache_store read f16), an f32 mask input is read as it is, and an f32 argument used only as
// the mask needs no cast.
// CHECK-LABEL: func.func @decode_step
// CHECK-NOT: tfc.cast %arg2
// CHECK: tfc.cached_attention %{{.*}} key(%{{.*}}) value(%{{.*}}) mask(%arg2) {{.*}}: (tensor<?x?x64xf16>, tensor<?x?x64xf16>, tensor<?x?x64xf16>, tensor<?x1x1x?xf32>) -> tensor<?x?x64xf16>
// CHECK-LABEL: func.func @encode
// CHECK: tfc.cache_store %{{.*}}, %{{.*}} {slot = 1 : i64} : tensor<?x?x64xf16>, tensor<?x?x64xf16>
func.func @decode_step(%x: tensor<?x?x64xf32>, %wq: tensor<64x64xf32>, %mask: tensor<?x1x1x?xf32>) -> tensor<?x?x64xf32> {
  %q = tfc.linear %x, %wq : (tensor<?x?x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
  %a = tfc.cached_attention %q key(%q) value(%q) mask(%mask) {mask_kind = #tfc<mask causal_padding>, num_heads = 4 : i64, scale = 0.25 : f32, slot = 0 : i64} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x1x1x?xf32>) -> tensor<?x?x64xf32>
  return %a : tensor<?x?x64xf32>
}
func.func @encode(%k: tensor<?x?x64xf32>) {
  tfc.cache_store %k, %k {slot = 1 : i64} : tensor<?x?x64xf32>, tensor<?x?x64xf32>
  return
}
