// RUN: tfc-opt %s -split-input-file -tfc-canonicalize -tfc-fuse-attention -tfc-report-fusions -verify-diagnostics -o /dev/null

// The "why not fused" reasons for the negative cases of
// fuse_attention_deberta.mlir (DeBERTa's disentangled attention).

// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 0, linear 0}}
func.func @deberta_zero_other_condition(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %pkt: tensor<?x4x16x32xf32>, %pqt: tensor<?x4x16x32xf32>, %idx: tensor<?x4x?x?xi64>, %idx2: tensor<?x4x?x?xi64>, %hide: tensor<?x1x?x?xi1>, %other: tensor<?x1x?x?xi1>) -> (tensor<?x?x64xf32>) {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %ktt = tfc.transpose %kt {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %c = tfc.constant dense<6.92820311> : tensor<f32>
  %ktd = tfc.div %ktt, %c : (tensor<?x4x16x?xf32>, tensor<f32>) -> tensor<?x4x16x?xf32>
  %s = tfc.matmul %qt, %ktd : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %c2pa = tfc.matmul %qt, %pkt : (tensor<?x4x?x16xf32>, tensor<?x4x16x32xf32>) -> tensor<?x4x?x32xf32>
  %c2p = tfc.gather_elements %c2pa, %idx {axis = 3 : i64} : (tensor<?x4x?x32xf32>, tensor<?x4x?x?xi64>) -> tensor<?x4x?x?xf32>
  %c2pd = tfc.div %c2p, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %p2ca = tfc.matmul %kt, %pqt : (tensor<?x4x?x16xf32>, tensor<?x4x16x32xf32>) -> tensor<?x4x?x32xf32>
  %p2c = tfc.gather_elements %p2ca, %idx2 {axis = 3 : i64} : (tensor<?x4x?x32xf32>, tensor<?x4x?x?xi64>) -> tensor<?x4x?x?xf32>
  %p2ct = tfc.transpose %p2c {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p2cd = tfc.div %p2ct, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %bias = tfc.add %c2pd, %p2cd : (tensor<?x4x?x?xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %sb = tfc.add %s, %bias : (tensor<?x4x?x?xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %low = tfc.constant dense<-3.40282347E+38> : tensor<f32>
  %sw = tfc.where %hide, %low, %sb : (tensor<?x1x?x?xi1>, tensor<f32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  // expected-remark @below {{unfused attention candidate: the where after the softmax does not zero exactly what the where before it hides}}
  %p = tfc.softmax %sw {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %zero = tfc.constant dense<0.000000e+00> : tensor<f32>
  %pz = tfc.where %other, %zero, %p : (tensor<?x1x?x?xi1>, tensor<f32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %o = tfc.matmul %pz, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 0, linear 0}}
func.func @deberta_zero_keeps(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %pkt: tensor<?x4x16x32xf32>, %pqt: tensor<?x4x16x32xf32>, %idx: tensor<?x4x?x?xi64>, %idx2: tensor<?x4x?x?xi64>, %hide: tensor<?x1x?x?xi1>) -> (tensor<?x?x64xf32>) {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %ktt = tfc.transpose %kt {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %c = tfc.constant dense<6.92820311> : tensor<f32>
  %ktd = tfc.div %ktt, %c : (tensor<?x4x16x?xf32>, tensor<f32>) -> tensor<?x4x16x?xf32>
  %s = tfc.matmul %qt, %ktd : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %c2pa = tfc.matmul %qt, %pkt : (tensor<?x4x?x16xf32>, tensor<?x4x16x32xf32>) -> tensor<?x4x?x32xf32>
  %c2p = tfc.gather_elements %c2pa, %idx {axis = 3 : i64} : (tensor<?x4x?x32xf32>, tensor<?x4x?x?xi64>) -> tensor<?x4x?x?xf32>
  %c2pd = tfc.div %c2p, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %p2ca = tfc.matmul %kt, %pqt : (tensor<?x4x?x16xf32>, tensor<?x4x16x32xf32>) -> tensor<?x4x?x32xf32>
  %p2c = tfc.gather_elements %p2ca, %idx2 {axis = 3 : i64} : (tensor<?x4x?x32xf32>, tensor<?x4x?x?xi64>) -> tensor<?x4x?x?xf32>
  %p2ct = tfc.transpose %p2c {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p2cd = tfc.div %p2ct, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %bias = tfc.add %c2pd, %p2cd : (tensor<?x4x?x?xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %sb = tfc.add %s, %bias : (tensor<?x4x?x?xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %low = tfc.constant dense<-3.40282347E+38> : tensor<f32>
  %sw = tfc.where %hide, %low, %sb : (tensor<?x1x?x?xi1>, tensor<f32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  // expected-remark @below {{unfused attention candidate: the where after the softmax does not zero exactly what the where before it hides}}
  %p = tfc.softmax %sw {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %zero = tfc.constant dense<0.000000e+00> : tensor<f32>
  %pz = tfc.where %hide, %p, %zero : (tensor<?x1x?x?xi1>, tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %o = tfc.matmul %pz, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om : tensor<?x?x64xf32>
}

// -----

// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 0, linear 0}}
func.func @deberta_query_used_elsewhere(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %pkt: tensor<?x4x16x32xf32>, %pqt: tensor<?x4x16x32xf32>, %idx: tensor<?x4x?x?xi64>, %idx2: tensor<?x4x?x?xi64>, %hide: tensor<?x1x?x?xi1>) -> (tensor<?x?x64xf32>, tensor<?x4x?x16xf32>) {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %ktt = tfc.transpose %kt {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %c = tfc.constant dense<6.92820311> : tensor<f32>
  %ktd = tfc.div %ktt, %c : (tensor<?x4x16x?xf32>, tensor<f32>) -> tensor<?x4x16x?xf32>
  %s = tfc.matmul %qt, %ktd : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %c2pa = tfc.matmul %qt, %pkt : (tensor<?x4x?x16xf32>, tensor<?x4x16x32xf32>) -> tensor<?x4x?x32xf32>
  %c2p = tfc.gather_elements %c2pa, %idx {axis = 3 : i64} : (tensor<?x4x?x32xf32>, tensor<?x4x?x?xi64>) -> tensor<?x4x?x?xf32>
  %c2pd = tfc.div %c2p, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %p2ca = tfc.matmul %kt, %pqt : (tensor<?x4x?x16xf32>, tensor<?x4x16x32xf32>) -> tensor<?x4x?x32xf32>
  %p2c = tfc.gather_elements %p2ca, %idx2 {axis = 3 : i64} : (tensor<?x4x?x32xf32>, tensor<?x4x?x?xi64>) -> tensor<?x4x?x?xf32>
  %p2ct = tfc.transpose %p2c {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p2cd = tfc.div %p2ct, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %bias = tfc.add %c2pd, %p2cd : (tensor<?x4x?x?xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %sb = tfc.add %s, %bias : (tensor<?x4x?x?xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %low = tfc.constant dense<-3.40282347E+38> : tensor<f32>
  %sw = tfc.where %hide, %low, %sb : (tensor<?x1x?x?xi1>, tensor<f32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  // expected-remark @below {{unfused attention candidate: Q is not split into heads by reshape [0,0,H,dh] + transpose [0,2,1,3] (its heads have uses besides QK^T and the score terms)}}
  %p = tfc.softmax %sw {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %zero = tfc.constant dense<0.000000e+00> : tensor<f32>
  %pz = tfc.where %hide, %zero, %p : (tensor<?x1x?x?xi1>, tensor<f32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %o = tfc.matmul %pz, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om, %qt : tensor<?x?x64xf32>, tensor<?x4x?x16xf32>
}

// -----

// expected-remark @below {{fused: attention 0, layer_norm 0, gelu 0, linear 0}}
func.func @deberta_key_split_used_elsewhere(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %pkt: tensor<?x4x16x32xf32>, %pqt: tensor<?x4x16x32xf32>, %idx: tensor<?x4x?x?xi64>, %idx2: tensor<?x4x?x?xi64>, %hide: tensor<?x1x?x?xi1>) -> (tensor<?x?x64xf32>, tensor<?x4x?x32xf32>) {
  %qh = tfc.reshape %q {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %qt = tfc.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kh = tfc.reshape %k {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %kt = tfc.transpose %kh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %ktt = tfc.transpose %kt {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %c = tfc.constant dense<6.92820311> : tensor<f32>
  %ktd = tfc.div %ktt, %c : (tensor<?x4x16x?xf32>, tensor<f32>) -> tensor<?x4x16x?xf32>
  %s = tfc.matmul %qt, %ktd : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %c2pa = tfc.matmul %qt, %pkt : (tensor<?x4x?x16xf32>, tensor<?x4x16x32xf32>) -> tensor<?x4x?x32xf32>
  %c2p = tfc.gather_elements %c2pa, %idx {axis = 3 : i64} : (tensor<?x4x?x32xf32>, tensor<?x4x?x?xi64>) -> tensor<?x4x?x?xf32>
  %c2pd = tfc.div %c2p, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %p2ca = tfc.matmul %kt, %pqt : (tensor<?x4x?x16xf32>, tensor<?x4x16x32xf32>) -> tensor<?x4x?x32xf32>
  %p2c = tfc.gather_elements %p2ca, %idx2 {axis = 3 : i64} : (tensor<?x4x?x32xf32>, tensor<?x4x?x?xi64>) -> tensor<?x4x?x?xf32>
  %p2ct = tfc.transpose %p2c {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p2cd = tfc.div %p2ct, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %bias = tfc.add %c2pd, %p2cd : (tensor<?x4x?x?xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %sb = tfc.add %s, %bias : (tensor<?x4x?x?xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %low = tfc.constant dense<-3.40282347E+38> : tensor<f32>
  %sw = tfc.where %hide, %low, %sb : (tensor<?x1x?x?xi1>, tensor<f32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  // expected-remark @below {{unfused attention candidate: K is not split into heads by reshape [0,0,H,dh] + transpose (its heads have uses besides QK^T and the score terms)}}
  %p = tfc.softmax %sw {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %zero = tfc.constant dense<0.000000e+00> : tensor<f32>
  %pz = tfc.where %hide, %zero, %p : (tensor<?x1x?x?xi1>, tensor<f32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %vh = tfc.reshape %v {shape = array<i64: 0, 0, 4, 16>} : (tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32>
  %vt = tfc.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %o = tfc.matmul %pz, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfc.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %om = tfc.reshape %ot {shape = array<i64: 0, 0, 64>} : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  return %om, %p2ca : tensor<?x?x64xf32>, tensor<?x4x?x32xf32>
}
