// RUN: fathom-opt %s | fathom-opt | FileCheck %s

// CHECK-LABEL: func.func @heads
func.func @heads(%x: tensor<?x?x4x24xbf16>) -> (tensor<?x?x4x16xbf16>, tensor<?x?x4x8xbf16>) {
  // CHECK: fathom.slice %{{.*}}[0, 16] : tensor<?x?x4x24xbf16> -> tensor<?x?x4x16xbf16>
  %0 = fathom.slice %x[0, 16] : tensor<?x?x4x24xbf16> -> tensor<?x?x4x16xbf16>
  // CHECK: fathom.slice %{{.*}}[16, 8] : tensor<?x?x4x24xbf16> -> tensor<?x?x4x8xbf16>
  %1 = fathom.slice %x[16, 8] : tensor<?x?x4x24xbf16> -> tensor<?x?x4x8xbf16>
  return %0, %1 : tensor<?x?x4x16xbf16>, tensor<?x?x4x8xbf16>
}

// CHECK-LABEL: func.func @latent
func.func @latent(%x: tensor<2x5x40xf32>) -> tensor<2x5x8xf32> {
  // CHECK: fathom.slice %{{.*}}[32, 8] : tensor<2x5x40xf32> -> tensor<2x5x8xf32>
  %0 = fathom.slice %x[32, 8] : tensor<2x5x40xf32> -> tensor<2x5x8xf32>
  return %0 : tensor<2x5x8xf32>
}

// The whole width is the input itself (fold, kept without canonicalization).
// CHECK-LABEL: func.func @whole
func.func @whole(%x: tensor<?x40xf32>) -> tensor<?x40xf32> {
  // CHECK: fathom.slice %{{.*}}[0, 40] : tensor<?x40xf32> -> tensor<?x40xf32>
  %0 = fathom.slice %x[0, 40] : tensor<?x40xf32> -> tensor<?x40xf32>
  return %0 : tensor<?x40xf32>
}
