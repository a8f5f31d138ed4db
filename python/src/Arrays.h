//===- Arrays.h - numpy arrays <-> tfc tensors ---------------------------------------------===//
//
// numpy dtype <-> tfc_dtype (float32 f32, float16 f16, int64 i64, int32 i32, int8 i8, bool;
// bf16 has no numpy dtype: its raw bits travel as uint16), inputs checked and viewed in place
// (no copy), outputs wrapped in place (no copy) with the C API's tfc_outputs as their owner.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_PYTHON_ARRAYS_H
#define TFC_PYTHON_ARRAYS_H

#include "tfc/tfc_runtime.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

namespace tfc::python {

namespace py = pybind11;

/// The tfc dtype of numpy's `dtype` (native byte order only); false when tfc has none.
bool tfcDtypeOf(const py::dtype &dtype, tfc_dtype &out);

/// The numpy dtype of `dtype` (uint16 for bf16).
py::dtype numpyDtypeOf(tfc_dtype dtype);

/// One caller input viewed in place: `array` keeps the data alive while a run reads it.
struct InputArray {
  std::string name;
  py::array array;
  tfc_dtype dtype = TFC_F32;
  std::vector<int64_t> dims;
  tfc_tensor view() const;
};

/// `array` as the input `name`, without a copy. The array must be C-contiguous and aligned (the
/// Python layer copies those that are not) and of a dtype tfc has (StatusError otherwise).
InputArray inputArray(const std::string &name, const py::array &array);

/// Every output of `outputs` as a numpy array over the runtime's buffer (no copy), in signature
/// order as (name, array) pairs. Takes ownership of `outputs`: it is freed with the last array.
py::list outputArrays(tfc_outputs *outputs);

} // namespace tfc::python

#endif // TFC_PYTHON_ARRAYS_H
