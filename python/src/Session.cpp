//===- Session.cpp - tfc._tfc.Session ------------------------------------------------------===//
#include "Session.h"

#include "Status.h"
#include "TokenStream.h"

#include <cstring>

namespace tfc::python {

namespace {

/// [(name, array)] from Python as checked in-place views.
std::vector<InputArray> inputArrays(const py::list &inputs) {
  std::vector<InputArray> arrays;
  for (const py::handle item : inputs) {
    auto pair = item.cast<py::tuple>();
    if (pair.size() != 2)
      invalidArgument("inputs must be (name, array) pairs");
    arrays.push_back(inputArray(pair[0].cast<std::string>(), pair[1].cast<py::array>()));
  }
  return arrays;
}

template <typename T> T option(const py::dict &options, const char *name, T fallback) {
  return options.contains(name) ? options[name].cast<T>() : fallback;
}

} // namespace

Session::Session(const Plan &plan, int threads, const std::string &device)
    : handle_(std::make_shared<SessionHandle>()) {
  tfc_session_options options;
  tfc_session_options_init(&options);
  options.num_threads = threads;
  options.device = device.empty() ? nullptr : device.c_str();
  tfc_status *status = nullptr;
  {
    py::gil_scoped_release nogil;
    status = tfc_session_create(plan.get(), &options, &handle_->session);
  }
  check(status);
}

py::list Session::run(const std::string &function, const py::list &inputs) {
  std::vector<InputArray> arrays = inputArrays(inputs);
  std::vector<tfc_tensor> views;
  for (const InputArray &a : arrays)
    views.push_back(a.view());
  tfc_outputs *outputs = nullptr;
  tfc_status *status = nullptr;
  {
    py::gil_scoped_release nogil; // `arrays` keeps every input alive meanwhile
    std::lock_guard<std::mutex> lock(handle_->lock);
    status = tfc_session_run(handle_->session, function.c_str(), views.data(), views.size(),
                             &outputs);
  }
  lastInputAddresses_.clear();
  for (const tfc_tensor &v : views)
    lastInputAddresses_.push_back(reinterpret_cast<uintptr_t>(v.data));
  check(status);
  return outputArrays(outputs);
}

std::shared_ptr<TokenStream> Session::generate(const IdArray &tokens,
                                               const IdArray &offsets,
                                               const py::list &inputs, const py::dict &options) {
  std::vector<int64_t> tokenCopy(tokens.data(), tokens.data() + tokens.size());
  std::vector<int64_t> offsetCopy(offsets.data(), offsets.data() + offsets.size());
  if (offsetCopy.size() < 2)
    invalidArgument("generate: no prompt");
  std::vector<OwnedInput> owned;
  for (const InputArray &a : inputArrays(inputs)) {
    OwnedInput in;
    in.name = a.name;
    in.dtype = a.dtype;
    in.dims = a.dims;
    in.bytes.resize(size_t(a.array.nbytes()));
    if (!in.bytes.empty())
      std::memcpy(in.bytes.data(), a.array.data(), in.bytes.size());
    owned.push_back(std::move(in));
  }
  tfc_generate_options o;
  tfc_generate_options_init(&o);
  o.strategy = tfc_strategy(option<int>(options, "strategy", int(o.strategy)));
  o.max_new_tokens = option<int64_t>(options, "max_new_tokens", o.max_new_tokens);
  o.eos_id = option<int64_t>(options, "eos_id", o.eos_id);
  o.temperature = option<float>(options, "temperature", o.temperature);
  o.top_k = option<int64_t>(options, "top_k", o.top_k);
  o.top_p = option<float>(options, "top_p", o.top_p);
  o.seed = option<uint64_t>(options, "seed", o.seed);
  o.beam_width = option<int64_t>(options, "beam_width", o.beam_width);
  o.length_penalty = option<float>(options, "length_penalty", o.length_penalty);
  return std::make_shared<TokenStream>(handle_, std::move(tokenCopy), std::move(offsetCopy),
                                       std::move(owned), o);
}

void Session::setProfiling(bool on) {
  py::gil_scoped_release nogil;
  std::lock_guard<std::mutex> lock(handle_->lock);
  tfc_session_set_profiling(handle_->session, on ? 1 : 0);
}

py::list Session::profile(const std::string &function) {
  struct Row {
    std::string kind, name;
    uint64_t calls;
    double totalMs;
  };
  std::vector<Row> rows;
  tfc_status *status = nullptr;
  {
    py::gil_scoped_release nogil;
    std::lock_guard<std::mutex> lock(handle_->lock);
    for (size_t i = 0, n = tfc_session_profile_count(handle_->session, function.c_str());
         i < n && !status; ++i) {
      tfc_kernel_profile p;
      status = tfc_session_profile_get(handle_->session, function.c_str(), i, &p);
      if (!status)
        rows.push_back({p.kind ? p.kind : "", p.name ? p.name : "", p.calls, p.total_ms});
    }
  }
  check(status);
  py::list out;
  for (const Row &r : rows) {
    py::dict d;
    d["kind"] = r.kind;
    d["name"] = r.name;
    d["calls"] = r.calls;
    d["total_ms"] = r.totalMs;
    out.append(d);
  }
  return out;
}

void Session::resetProfile() {
  py::gil_scoped_release nogil;
  std::lock_guard<std::mutex> lock(handle_->lock);
  tfc_session_profile_reset(handle_->session);
}

} // namespace tfc::python
