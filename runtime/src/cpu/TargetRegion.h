//===- TargetRegion.h - code compiled for an instruction set the build's baseline lacks -------===//
//
//   TFC_TARGET_BEGIN("avx2,fma")
//   namespace avx2 { ... }            // every function here may use AVX2 and FMA intrinsics
//   TFC_TARGET_END()
//
// GCC: `#pragma GCC push_options` + `target(...)`; clang, which has no `#pragma GCC target`:
// `#pragma clang attribute push(target(...))`. The caller picks a region's functions at run time
// (__builtin_cpu_supports). Inside a region GCC's -Wmaybe-uninitialized / -Wuninitialized are
// off: GCC 12's avx512fintrin.h trips them on its own _mm512_undefined_*() helpers. Headers go
// before the region, not inside it.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_CPU_TARGETREGION_H
#define TFC_RUNTIME_CPU_TARGETREGION_H

#define TFC_TARGET_PRAGMA(x) _Pragma(#x)

#if defined(__clang__)
#define TFC_TARGET_BEGIN(features)                                                                \
  TFC_TARGET_PRAGMA(clang attribute push(__attribute__((target(features))), apply_to = function))
#define TFC_TARGET_END() TFC_TARGET_PRAGMA(clang attribute pop)
#else
#define TFC_TARGET_BEGIN(features)                                                                \
  TFC_TARGET_PRAGMA(GCC push_options)                                                             \
  TFC_TARGET_PRAGMA(GCC target(features))                                                         \
  TFC_TARGET_PRAGMA(GCC diagnostic push)                                                          \
  TFC_TARGET_PRAGMA(GCC diagnostic ignored "-Wmaybe-uninitialized")                               \
  TFC_TARGET_PRAGMA(GCC diagnostic ignored "-Wuninitialized")
#define TFC_TARGET_END()                                                                          \
  TFC_TARGET_PRAGMA(GCC diagnostic pop)                                                           \
  TFC_TARGET_PRAGMA(GCC pop_options)
#endif

#endif // TFC_RUNTIME_CPU_TARGETREGION_H
