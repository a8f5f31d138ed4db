//===- Formatting.cpp - how the frontend's messages print shapes and floats ===//
//
// One notation everywhere: shapes as "[64x128]" (the ShapeUtils style in
// brackets), floats in the shortest "%g" form ("1e-05", "nan", "inf").
//
//===----------------------------------------------------------------------===//
#include "FrontendInternal.h"

#include <cstdio>

namespace tfc::fbs {

std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      out += "x";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

std::string formatFloat(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", value);
  return buffer;
}

} // namespace tfc::fbs
