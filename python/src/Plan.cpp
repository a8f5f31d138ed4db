//===- Plan.cpp - tfc._tfc.Plan ------------------------------------------------------------===//
#include "Plan.h"

#include "Arrays.h"
#include "Status.h"

#include <cstring>

namespace tfc::python {

namespace {

/// A C string owned by the plan as a Python str (None for NULL).
py::object text(const char *s) {
  if (!s)
    return py::none();
  return py::str(s);
}

py::list dimsOf(const tfc_port_info &port) {
  py::list dims;
  for (int32_t d = 0; d < port.rank && d < TFC_MAX_RANK; ++d) {
    const tfc_dim_info &dim = port.dims[d];
    dims.append(py::make_tuple(dim.size, text(dim.symbol), dim.min, dim.max));
  }
  return dims;
}

const char *kindName(tfc_input_kind kind) {
  switch (kind) {
  case TFC_INPUT_IDS: return "ids";
  case TFC_INPUT_MASK: return "mask";
  case TFC_INPUT_DATA: break;
  }
  return "data";
}

} // namespace

Plan::Plan(const std::string &path, bool verifyChecksums, bool anyTarget,
           const std::string &device) {
  tfc_plan_options options;
  tfc_plan_options_init(&options);
  options.verify_checksums = verifyChecksums ? 1 : 0;
  options.any_target = anyTarget ? 1 : 0;
  options.device = device.empty() ? nullptr : device.c_str();
  tfc_plan *raw = nullptr;
  tfc_status *status = nullptr;
  {
    py::gil_scoped_release nogil;
    status = tfc_plan_open(path.c_str(), &options, &raw);
  }
  check(status);
  plan_.reset(raw, tfc_plan_release);
}

py::dict Plan::info() const {
  tfc_plan_info i;
  tfc_plan_get_info(plan_.get(), &i);
  py::dict d;
  d["format_version"] = py::make_tuple(i.format_major, i.format_minor);
  d["producer"] = text(i.producer);
  d["target"] = text(i.target);
  d["family"] = text(i.family);
  d["model_name"] = text(i.model_name);
  d["start_id"] = i.start_id;
  d["end_id"] = i.end_id;
  d["unk_id"] = i.unk_id;
  d["pad_id"] = i.pad_id;
  d["weights_bytes"] = i.weights_bytes;
  d["precision"] = text(tfc_plan_precision(plan_.get()));
  d["weight_precision"] = text(tfc_plan_weight_precision(plan_.get()));
  return d;
}

py::list Plan::functions() const {
  py::list names;
  for (size_t i = 0, n = tfc_plan_num_functions(plan_.get()); i < n; ++i)
    names.append(text(tfc_plan_function_name(plan_.get(), i)));
  return names;
}

uint64_t Plan::arenaBytes(const std::string &function) const {
  size_t in = 0, out = 0; // the call names an unknown function as an error
  check(tfc_plan_num_ports(plan_.get(), function.c_str(), &in, &out));
  return tfc_plan_arena_bytes(plan_.get(), function.c_str());
}

py::tuple Plan::ports(const std::string &function) const {
  size_t numInputs = 0, numOutputs = 0;
  check(tfc_plan_num_ports(plan_.get(), function.c_str(), &numInputs, &numOutputs));
  py::list inputs, outputs;
  for (size_t i = 0; i < numInputs; ++i) {
    tfc_port_info port;
    check(tfc_plan_input_info(plan_.get(), function.c_str(), i, &port));
    tfc_input_values values;
    check(tfc_plan_input_values(plan_.get(), function.c_str(), i, &values));
    py::dict d;
    d["name"] = text(port.name);
    d["dtype"] = tfc_dtype_name(port.dtype);
    d["dims"] = dimsOf(port);
    d["kind"] = kindName(values.kind);
    d["id_bound"] = values.id_bound;
    inputs.append(d);
  }
  for (size_t i = 0; i < numOutputs; ++i) {
    tfc_port_info port;
    check(tfc_plan_output_info(plan_.get(), function.c_str(), i, &port));
    py::dict d;
    d["name"] = text(port.name);
    d["dtype"] = tfc_dtype_name(port.dtype);
    d["dims"] = dimsOf(port);
    outputs.append(d);
  }
  return py::make_tuple(inputs, outputs);
}

py::object Plan::generation() const {
  tfc_generation_info g;
  tfc_plan_get_generation_info(plan_.get(), &g);
  if (!g.mode)
    return py::none();
  py::dict d;
  d["mode"] = text(g.mode);
  d["reason"] = text(g.reason);
  d["token_input"] = text(g.token_input);
  d["max_length"] = g.max_length;
  d["max_batch"] = g.max_batch;
  d["vocab_size"] = g.vocab_size;
  return std::move(d);
}

py::object Plan::token(int64_t id) const {
  const char *s = tfc_plan_token(plan_.get(), id);
  if (!s)
    return py::none();
  return py::bytes(s);
}

py::tuple Plan::tokenize(const std::string &text, unsigned flags) const {
  tfc_ids *raw = nullptr;
  tfc_status *status = nullptr;
  {
    py::gil_scoped_release nogil;
    status = tfc_plan_tokenize_flags(plan_.get(), text.data(), text.size(), flags, &raw);
  }
  check(status);
  std::unique_ptr<tfc_ids, void (*)(tfc_ids *)> ids(raw, tfc_ids_free);
  size_t count = tfc_ids_count(raw);
  py::array_t<int64_t> out{py::ssize_t(count)};
  if (count)
    std::memcpy(out.mutable_data(), tfc_ids_data(raw), count * sizeof(int64_t));
  return py::make_tuple(out, tfc_ids_untruncated_count(raw));
}

py::bytes Plan::detokenize(
    const py::array_t<int64_t, py::array::c_style | py::array::forcecast> &ids,
    bool skipSpecial) const {
  char *raw = nullptr;
  size_t length = 0;
  tfc_status *status = nullptr;
  {
    py::gil_scoped_release nogil;
    status = tfc_plan_detokenize_n(plan_.get(), ids.data(), size_t(ids.size()),
                                   skipSpecial ? 1 : 0, &raw, &length);
  }
  std::unique_ptr<char, void (*)(char *)> owned(raw, tfc_string_free);
  check(status);
  return py::bytes(raw ? raw : "", length);
}

void Plan::verify() const {
  tfc_status *status = nullptr;
  {
    py::gil_scoped_release nogil;
    status = tfc_plan_verify(plan_.get());
  }
  check(status);
}

} // namespace tfc::python
