//===- NpyTfcDtype.h - the runtime dtype of a .npy array's dtype (tests) ---------------------===//
//
// The tests read their reference arrays with tfc/support/Npy.h and feed them through the C API:
// this maps the one to the other (as tfrun does for --input), without the tests including
// tfrun's sources. U8 has no plan dtype (bool is '|b1').
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_TESTS_COMMON_NPYTFCDTYPE_H
#define TFC_TESTS_COMMON_NPYTFCDTYPE_H

#include "tfc/support/Npy.h"
#include "tfc/tfc_runtime.h"

namespace tfc::testutil {

inline bool tfcDtypeOf(support::NpyDtype dtype, tfc_dtype &out) {
  switch (dtype) {
  case support::NpyDtype::F32: out = TFC_F32; return true;
  case support::NpyDtype::F16: out = TFC_F16; return true;
  case support::NpyDtype::I64: out = TFC_I64; return true;
  case support::NpyDtype::I32: out = TFC_I32; return true;
  case support::NpyDtype::I8: out = TFC_I8; return true;
  case support::NpyDtype::Bool: out = TFC_BOOL; return true;
  case support::NpyDtype::U8: return false;
  }
  return false;
}

} // namespace tfc::testutil

#endif // TFC_TESTS_COMMON_NPYTFCDTYPE_H
