//===- Npy.h - read and write NumPy .npy files -----------------------------===//
//
// The subset tfrun needs to feed a plan and save its outputs (and the tests, to read their
// reference arrays): little-endian
// '<f4', '<f2', '<i8', '<i4' and one-byte '|i1', '|u1', '|b1' arrays, format
// versions 1.0 and 2.0, C order only. Anything else (big-endian, fortran_order,
// other dtypes, a truncated file) is refused with a message naming the file and
// the problem; nothing here throws or aborts on a bad file.
//
//   NpyArray a;
//   if (Status s = readNpy("ids.npy", a); !s.ok()) ...
//   Status s = writeNpyAtomically("out/logits.npy", a);
//
//===----------------------------------------------------------------------===//
#ifndef TFC_SUPPORT_NPY_H
#define TFC_SUPPORT_NPY_H

#include "tfc/support/Status.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tfc::support {

enum class NpyDtype { F32, F16, I64, I32, I8, U8, Bool };

/// The .npy descr ("<f4", "|b1") and a short name ("f32", "bool") of a dtype.
const char *npyDescr(NpyDtype dtype);
const char *npyDtypeName(NpyDtype dtype);
size_t npyDtypeSize(NpyDtype dtype);

/// A dense, row-major (C order) array; `data` holds numElements() * size bytes.
struct NpyArray {
  NpyDtype dtype = NpyDtype::F32;
  std::vector<int64_t> shape; // empty: a scalar
  std::vector<uint8_t> data;

  int64_t numElements() const;
};

/// Parses the bytes of a .npy file; `name` (the path) prefixes every message.
Status parseNpy(const void *bytes, size_t size, const std::string &name, NpyArray &out);
/// Reads and parses the file at `path`.
Status readNpy(const std::string &path, NpyArray &out);

/// The bytes of a version 1.0 (2.0 when the header needs it) .npy file. `data`
/// must hold product(shape) * npyDtypeSize(dtype) bytes.
std::string encodeNpy(NpyDtype dtype, const std::vector<int64_t> &shape, const void *data);
/// Writes the array through an OutputFile (OutputFile.h: a temporary file next to `path`,
/// renamed over it when complete): readers never see a partial file.
Status writeNpyAtomically(const std::string &path, NpyDtype dtype,
                          const std::vector<int64_t> &shape, const void *data);
inline Status writeNpyAtomically(const std::string &path, const NpyArray &a) {
  return writeNpyAtomically(path, a.dtype, a.shape, a.data.data());
}

/// "(2, 3)", "(3,)", "()": the shape as a Python tuple, as .npy headers spell it.
std::string formatNpyShape(const std::vector<int64_t> &shape);

} // namespace tfc::support

#endif // TFC_SUPPORT_NPY_H
