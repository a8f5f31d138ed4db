//===- Plan.h - tfc._tfc.Plan: an opened plan, its metadata, signatures and tokenizer ------===//
//
// A thin holder of a tfc_plan (shared with the sessions made on it; the C API keeps the plan
// alive while a session lives). Metadata comes back as plain Python values (dicts, lists); the
// Python layer (python/tfc/_plan.py) turns them into the public tfc.Plan.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_PYTHON_PLAN_H
#define TFC_PYTHON_PLAN_H

#include "tfc/tfc_runtime.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <memory>
#include <optional>
#include <string>

namespace tfc::python {

namespace py = pybind11;

class Plan {
public:
  /// Opens `path` (tfc_plan_open; `device` "" for the target's default).
  Plan(const std::string &path, bool verifyChecksums, bool anyTarget, const std::string &device);

  tfc_plan *get() const { return plan_.get(); }

  /// tfc_plan_info, the precisions and the target as a dict.
  py::dict info() const;
  py::list functions() const;
  uint64_t arenaBytes(const std::string &function) const;
  /// (inputs, outputs) of `function`: lists of dicts {name, dtype, dims: [(size, symbol, min,
  /// max)], kind, id_bound} (kind and id_bound for inputs only).
  py::tuple ports(const std::string &function) const;
  /// tfc_generation_info as a dict; None when the plan does not generate.
  py::object generation() const;

  bool hasTokenizer() const { return tfc_plan_has_tokenizer(plan_.get()) != 0; }
  size_t vocabularySize() const { return tfc_plan_vocabulary_size(plan_.get()); }
  /// The vocabulary's string of `id` (bytes), None when out of range.
  py::object token(int64_t id) const;
  /// (ids int64 array, untruncated count) of UTF-8 `text` (tfc_plan_tokenize_flags).
  py::tuple tokenize(const std::string &text, unsigned flags) const;
  /// The UTF-8 bytes of `ids` (tfc_plan_detokenize_n).
  py::bytes detokenize(const py::array_t<int64_t, py::array::c_style | py::array::forcecast> &ids,
                       bool skipSpecial) const;
  /// tfc_plan_verify (reads every weight; the GIL is released meanwhile).
  void verify() const;

private:
  std::shared_ptr<tfc_plan> plan_;
};

} // namespace tfc::python

#endif // TFC_PYTHON_PLAN_H
