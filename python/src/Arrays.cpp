//===- Arrays.cpp - numpy arrays <-> tfc tensors -------------------------------------------===//
#include "Arrays.h"

#include "Status.h"

#include <cstdint>

namespace tfc::python {

bool tfcDtypeOf(const py::dtype &dtype, tfc_dtype &out) {
  char order = dtype.attr("byteorder").cast<std::string>()[0];
  if (order == '>')
    return false; // this runtime reads little-endian (x86-64) data only
  char kind = dtype.kind();
  size_t size = size_t(dtype.itemsize());
  if (kind == 'f' && size == 4)
    out = TFC_F32;
  else if (kind == 'f' && size == 2)
    out = TFC_F16;
  else if (kind == 'i' && size == 8)
    out = TFC_I64;
  else if (kind == 'i' && size == 4)
    out = TFC_I32;
  else if (kind == 'i' && size == 1)
    out = TFC_I8;
  else if (kind == 'b' && size == 1)
    out = TFC_BOOL;
  else
    return false;
  return true;
}

py::dtype numpyDtypeOf(tfc_dtype dtype) {
  switch (dtype) {
  case TFC_F32: return py::dtype::of<float>();
  case TFC_F16: return py::dtype("float16");
  case TFC_BF16: return py::dtype::of<uint16_t>();
  case TFC_I32: return py::dtype::of<int32_t>();
  case TFC_I64: return py::dtype::of<int64_t>();
  case TFC_I8: return py::dtype::of<int8_t>();
  case TFC_BOOL: return py::dtype::of<bool>();
  }
  throw StatusError(TFC_INTERNAL, "unknown tfc dtype " + std::to_string(int(dtype)));
}

tfc_tensor InputArray::view() const {
  return tfc_tensor{name.c_str(), dtype, int32_t(dims.size()), dims.data(), array.data()};
}

InputArray inputArray(const std::string &name, const py::array &array) {
  InputArray in;
  in.name = name;
  in.array = array;
  if (!tfcDtypeOf(array.dtype(), in.dtype))
    invalidArgument("input '" + name + "': numpy dtype " +
                    py::str(array.dtype()).cast<std::string>() +
                    " has no tfc dtype (tfc takes float32, float16, int64, int32, int8 and bool "
                    "in native byte order)");
  if (!(array.flags() & py::array::c_style))
    invalidArgument("input '" + name + "': the array is not C-contiguous");
  if (reinterpret_cast<uintptr_t>(array.data()) % size_t(array.itemsize()) != 0)
    invalidArgument("input '" + name + "': the array's data is not aligned to its element size");
  for (py::ssize_t d = 0; d < array.ndim(); ++d)
    in.dims.push_back(int64_t(array.shape(d)));
  return in;
}

py::list outputArrays(tfc_outputs *outputs) {
  // The capsule owns the runtime's buffers; every array names it as its base.
  py::capsule owner(outputs, [](void *p) { tfc_outputs_free(static_cast<tfc_outputs *>(p)); });
  py::list result;
  for (size_t i = 0, n = tfc_outputs_count(outputs); i < n; ++i) {
    tfc_tensor t;
    check(tfc_outputs_get(outputs, i, &t));
    std::vector<py::ssize_t> shape(t.dims, t.dims + t.rank);
    py::array array(numpyDtypeOf(t.dtype), shape, t.data, owner);
    result.append(py::make_tuple(py::str(t.name), array));
  }
  return result;
}

} // namespace tfc::python
