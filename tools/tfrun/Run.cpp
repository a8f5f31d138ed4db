//===- Run.cpp - tfrun's work: open a plan, feed it, run it, report --------===//
#include "Run.h"

#include "Attention.h"
#include "Generate.h"
#include "Text.h"

#include "Format.h"
#include "Inputs.h"
#include "Npy.h"

#include "tfc/support/OutputFile.h"
#include "tfc/support/Progress.h"
#include "tfc/tfc_runtime.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace tfc::tfrun {
namespace {

struct PlanDeleter {
  void operator()(tfc_plan *p) const { tfc_plan_release(p); }
};
struct SessionDeleter {
  void operator()(tfc_session *s) const { tfc_session_release(s); }
};
struct OutputsDeleter {
  void operator()(tfc_outputs *o) const { tfc_outputs_free(o); }
};
using PlanPtr = std::unique_ptr<tfc_plan, PlanDeleter>;
using SessionPtr = std::unique_ptr<tfc_session, SessionDeleter>;
using OutputsPtr = std::unique_ptr<tfc_outputs, OutputsDeleter>;

std::string joinNames(const std::vector<tfc_port_info> &ports) {
  std::string s;
  for (const auto &p : ports)
    s += (s.empty() ? "" : ", ") + std::string(p.name ? p.name : "?");
  return s;
}

Status readPorts(const tfc_plan *plan, const std::string &function, FunctionDescription &out) {
  size_t numInputs = 0, numOutputs = 0;
  if (Status s = take(tfc_plan_num_ports(plan, function.c_str(), &numInputs, &numOutputs));
      !s.ok())
    return s;
  out.name = function;
  out.arenaBytes = tfc_plan_arena_bytes(plan, function.c_str());
  out.inputs.resize(numInputs);
  out.outputs.resize(numOutputs);
  for (size_t i = 0; i < numInputs; ++i)
    if (Status s = take(tfc_plan_input_info(plan, function.c_str(), i, &out.inputs[i])); !s.ok())
      return s;
  for (size_t i = 0; i < numOutputs; ++i)
    if (Status s = take(tfc_plan_output_info(plan, function.c_str(), i, &out.outputs[i]));
        !s.ok())
      return s;
  return Status::success();
}

Status pickFunction(const tfc_plan *plan, const std::string &wanted, std::string &out) {
  std::vector<std::string> names;
  for (size_t i = 0, n = tfc_plan_num_functions(plan); i < n; ++i)
    names.push_back(tfc_plan_function_name(plan, i));
  if (names.empty())
    return Status::failure("the plan has no functions");
  std::string target = wanted.empty() ? "forward" : wanted;
  for (const auto &n : names)
    if (n == target)
      return out = n, Status::success();
  if (wanted.empty())
    return out = names.front(), Status::success();
  std::string all;
  for (const auto &n : names)
    all += (all.empty() ? "" : ", ") + n;
  return Status::failure("unknown function '" + wanted + "' (the plan's functions: " + all + ")");
}

/// The inputs in signature order: read from --input files, the rest generated.
Status makeInputs(const Options &options, const tfc_plan *plan, const tfc_plan_info &info,
                  const FunctionDescription &fn, std::FILE *out, std::vector<HostTensor> &inputs) {
  std::vector<const std::string *> files(fn.inputs.size(), nullptr);
  for (const auto &[name, file] : options.inputs) {
    size_t i = 0;
    while (i < fn.inputs.size() && (!fn.inputs[i].name || name != fn.inputs[i].name))
      ++i;
    if (i == fn.inputs.size())
      return Status::failure("unknown input '" + name + "' (the inputs of '" + fn.name +
                           "' are: " + joinNames(fn.inputs) + ")");
    files[i] = &file;
  }
  inputs.assign(fn.inputs.size(), HostTensor{});
  SymbolBindings bindings;
  for (size_t i = 0; i < fn.inputs.size(); ++i) {
    if (!files[i])
      continue;
    NpyArray array;
    if (Status s = readNpy(*files[i], array); !s.ok())
      return s;
    if (Status s = tensorFromNpy(fn.inputs[i].name, *files[i], std::move(array), inputs[i]);
        !s.ok())
      return s;
    bindSymbols(fn.inputs[i], inputs[i], bindings);
  }
  for (size_t i = 0; i < fn.inputs.size(); ++i) {
    if (files[i])
      continue;
    tfc_input_values rule;
    if (Status s = take(tfc_plan_input_values(plan, fn.name.c_str(), i, &rule)); !s.ok())
      return s;
    inputs[i] = generateInput(fn.inputs[i], info, bindings, &rule);
    std::fprintf(out, "generated input %s: %s %s\n", inputs[i].name.c_str(),
                 dtypeName(inputs[i].dtype), formatDims(inputs[i].dims).c_str());
  }
  return Status::success();
}

std::string outputName(const tfc_tensor &t, size_t index) {
  return t.name ? t.name : "output" + std::to_string(index);
}

/// A file name for an output: its name with anything but [A-Za-z0-9._-] as '_'.
std::string outputFileName(const std::string &name, size_t index) {
  std::string s = name;
  for (char &c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-')
      c = '_';
  if (s.empty() || s == "." || s == "..")
    s = "output" + std::to_string(index);
  return s + ".npy";
}

/// Creates `dir` (and its parents) unless it exists; done before running, so that a bad
/// --output-dir fails fast.
Status makeOutputDir(const std::string &dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return Status::failure("cannot create output directory " + dir + ": " + ec.message());
  if (!std::filesystem::is_directory(dir, ec))
    return Status::failure("cannot create output directory " + dir + ": not a directory");
  return Status::success();
}

Status writeOutputs(const Options &options, const tfc_outputs *outputs, std::FILE *out) {
  namespace fs = std::filesystem;
  for (size_t i = 0, n = tfc_outputs_count(outputs); i < n; ++i) {
    tfc_tensor t;
    if (Status s = take(tfc_outputs_get(outputs, i, &t)); !s.ok())
      return s;
    NpyDtype dtype;
    if (!npyDtypeOf(t.dtype, dtype))
      return Status::failure("output '" + outputName(t, i) + "' has dtype " +
                           dtypeName(t.dtype) + ", which .npy cannot hold");
    std::vector<int64_t> dims(t.dims, t.dims + t.rank);
    std::string path =
        (fs::path(options.outputDir) / outputFileName(outputName(t, i), i)).string();
    if (Status s = writeOutputNpy(options, path, dtype, dims, t.data); !s.ok())
      return s;
    std::fprintf(out, "wrote %s: %s %s\n", path.c_str(), dtypeName(t.dtype),
                 formatDims(dims).c_str());
  }
  return Status::success();
}

/// The tokens of the function's token-id input ([batch, len] ids), as labels; none without one.
TokenRows inputTokens(const tfc_plan *plan, const FunctionDescription &fn,
                      const std::vector<HostTensor> &inputs) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    tfc_input_values rule;
    if (tfc_status *st = tfc_plan_input_values(plan, fn.name.c_str(), i, &rule)) {
      tfc_status_free(st);
      continue;
    }
    const HostTensor &t = inputs[i];
    if (rule.kind != TFC_INPUT_IDS || t.dims.size() != 2 ||
        (t.dtype != TFC_I64 && t.dtype != TFC_I32))
      continue;
    std::vector<int64_t> ids(size_t(t.numElements()));
    for (size_t j = 0; j < ids.size(); ++j)
      if (t.dtype == TFC_I64)
        std::memcpy(&ids[j], t.data.data() + 8 * j, 8);
      else {
        int32_t v;
        std::memcpy(&v, t.data.data() + 4 * j, 4);
        ids[j] = v;
      }
    return tokenLabels(plan, ids.data(), t.dims[0], t.dims[1]);
  }
  return {};
}

Status printOutputs(const tfc_outputs *outputs, std::FILE *out) {
  for (size_t i = 0, n = tfc_outputs_count(outputs); i < n; ++i) {
    tfc_tensor t;
    if (Status s = take(tfc_outputs_get(outputs, i, &t)); !s.ok())
      return s;
    std::vector<int64_t> dims(t.dims, t.dims + t.rank);
    std::fputs(formatTensorSummary(outputName(t, i), t.dtype, dims, t.data).c_str(), out);
  }
  return Status::success();
}

} // namespace

Status writeOutputNpy(const Options &options, const std::string &path, NpyDtype dtype,
                      const std::vector<int64_t> &shape, const void *data) {
  std::vector<tfc::support::NamedPath> inputs{{options.plan, "the plan"}};
  for (const auto &[name, file] : options.inputs)
    inputs.push_back({file, "--input " + name});
  if (std::string e = tfc::support::checkOutputPaths(inputs, {{path, "the output"}}); !e.empty())
    return Status::failure(e);
  return writeNpyAtomically(path, dtype, shape, data);
}

Status take(tfc_status *st) {
  if (!st)
    return Status::success();
  const char *m = tfc_status_message(st);
  std::string message = m && *m ? m : tfc_code_name(tfc_status_code(st));
  tfc_status_free(st);
  return Status::failure(message);
}

Status printProfile(const tfc_session *session, const std::string &function, int runs,
                    std::FILE *out) {
  std::vector<KernelTime> entries;
  for (size_t i = 0, n = tfc_session_profile_count(session, function.c_str()); i < n; ++i) {
    tfc_kernel_profile p;
    if (Status s = take(tfc_session_profile_get(session, function.c_str(), i, &p)); !s.ok())
      return s;
    if (p.calls > 0) // a kernel that never ran adds nothing but an empty row
      entries.push_back({p.kind ? p.kind : "?", p.name ? p.name : "", p.calls, p.total_ms});
  }
  std::fputs(formatProfile(aggregateProfile(entries), runs).c_str(), out);
  return Status::success();
}

namespace {

Status describePlan(const std::string &path, const tfc_plan *plan, const tfc_plan_info &info,
                    std::FILE *out) {
  PlanDescription d;
  d.path = path;
  d.info = info;
  if (const char *p = tfc_plan_precision(plan))
    d.precision = p;
  if (const char *p = tfc_plan_weight_precision(plan))
    d.weightPrecision = p;
  bool runs = false;
  std::string names;
  for (size_t i = 0, n = tfc_backend_count(); i < n; ++i) {
    runs |= std::string(tfc_backend_name(i)) == (info.target ? info.target : "");
    names += (i ? ", " : "") + std::string(tfc_backend_name(i));
  }
  if (!runs)
    d.runnable = "this runtime cannot run it; its backends: " + names;
  for (size_t i = 0, n = tfc_plan_num_functions(plan); i < n; ++i) {
    d.functions.emplace_back();
    if (Status s = readPorts(plan, tfc_plan_function_name(plan, i), d.functions.back()); !s.ok())
      return s;
  }
  std::fputs(formatDescription(d).c_str(), out);
  return Status::success();
}

} // namespace

Status checkDevice(const std::string &device) {
  char why[512];
  if (device.empty() || tfc_device_check(device.c_str(), why, sizeof why))
    return Status::success();
  return Status::failure("device '" + device + "' is unavailable: " + why);
}

Status runTool(const Options &options, std::FILE *out) {
  tfc::support::setProgressEnabled(options.progress);
  // Plans of any target open (--describe shows a cuda plan on a CPU-only build); a session on
  // one this runtime cannot run fails, saying why.
  tfc_plan_options planOptions;
  tfc_plan_options_init(&planOptions);
  planOptions.any_target = 1;
  tfc_plan *rawPlan = nullptr;
  if (Status s = take(tfc_plan_open(options.plan.c_str(), &planOptions, &rawPlan)); !s.ok())
    return s;
  PlanPtr plan(rawPlan);
  tfc_plan_info info;
  tfc_plan_get_info(plan.get(), &info);

  if (options.describe || options.verify) {
    if (options.describe)
      if (Status s = describePlan(options.plan, plan.get(), info, out); !s.ok())
        return s;
    if (options.verify) {
      // Opening read no weights (tfc_plan_open); this reads them all.
      if (Status s = take(tfc_plan_verify(plan.get())); !s.ok())
        return s;
      std::fprintf(out, "checksums: ok (%llu bytes of weights)\n",
                   (unsigned long long)info.weights_bytes);
    }
    return Status::success();
  }
  if (options.generate) {
    if (!options.outputDir.empty())
      if (Status s = makeOutputDir(options.outputDir); !s.ok())
        return s;
    return runGenerate(options, plan.get(), info, out);
  }

  std::string function;
  if (Status s = pickFunction(plan.get(), options.function, function); !s.ok())
    return s;
  FunctionDescription fn;
  if (Status s = readPorts(plan.get(), function, fn); !s.ok())
    return s;
  if (!options.outputDir.empty())
    if (Status s = makeOutputDir(options.outputDir); !s.ok())
      return s;
  std::vector<HostTensor> inputs;
  std::vector<int64_t> textMask;
  int64_t textLength = 0;
  if (!options.texts.empty()) {
    if (!tfc_plan_has_tokenizer(plan.get()))
      return Status::failure("--text needs a plan that carries its tokenizer (import the model "
                           "with its tokenizer files); this one has none");
    if (!options.inputs.empty())
      return Status::failure("give the inputs either with --text or with --input");
    std::vector<std::string> warnings;
    if (Status s = textInputs(plan.get(), info, fn, options.texts, inputs, textMask, textLength,
                              warnings);
        !s.ok())
      return s;
    for (const std::string &w : warnings)
      std::fprintf(stderr, "tfrun: warning: %s\n", w.c_str());
  } else if (Status s = makeInputs(options, plan.get(), info, fn, out, inputs); !s.ok()) {
    return s;
  }
  std::vector<tfc_tensor> views;
  for (const HostTensor &t : inputs)
    views.push_back(t.view());

  tfc_session_options sessionOptions;
  tfc_session_options_init(&sessionOptions);
  sessionOptions.num_threads = options.threads;
  sessionOptions.device = options.device.empty() ? nullptr : options.device.c_str();
  if (Status s = checkDevice(options.device); !s.ok())
    return s;
  tfc_session *rawSession = nullptr;
  if (Status s = take(tfc_session_create(plan.get(), &sessionOptions, &rawSession)); !s.ok())
    return s;
  SessionPtr session(rawSession);
  const bool capture = !options.attentionOut.empty();
  if (capture)
    if (Status s = take(tfc_session_set_attention_capture(session.get(), 1)); !s.ok())
      return Status::failure("--attention-out: " + s.error);

  auto runOnce = [&](OutputsPtr &result) -> Status {
    if (capture) // keep the last run's weights only
      tfc_session_attention_clear(session.get());
    tfc_outputs *raw = nullptr;
    Status s = take(
        tfc_session_run(session.get(), function.c_str(), views.data(), views.size(), &raw));
    result.reset(raw);
    return s;
  };
  OutputsPtr outputs;
  for (int i = 0; i < options.warmup; ++i)
    if (Status s = runOnce(outputs); !s.ok())
      return s;
  if (options.profile) {
    tfc_session_profile_reset(session.get());
    tfc_session_set_profiling(session.get(), 1);
  }
  std::vector<double> times;
  for (int i = 0; i < options.iterations; ++i) {
    outputs.reset(); // the previous run's outputs are not timed
    auto start = std::chrono::steady_clock::now();
    Status s = runOnce(outputs);
    auto end = std::chrono::steady_clock::now();
    if (!s.ok())
      return s;
    times.push_back(std::chrono::duration<double, std::milli>(end - start).count());
  }

  if (options.embed) {
    tfc_tensor h;
    if (Status s = take(tfc_outputs_get(outputs.get(), 0, &h)); !s.ok())
      return s;
    int64_t batch = int64_t(options.texts.size());
    if (h.dtype != TFC_F32 || h.rank != 3 || h.dims[0] != batch || h.dims[1] != textLength)
      return Status::failure("--embed: the first output is not f32 [batch, seq, dim] hidden states");
    int64_t dim = h.dims[2];
    std::vector<float> e = meanPoolNormalize(static_cast<const float *>(h.data), textMask, batch,
                                             textLength, dim);
    for (int64_t b = 0; b < batch; ++b) {
      std::fprintf(out, "[%lld] %lld tokens, embedding [%lld]:", (long long)b,
                   (long long)std::count(textMask.begin() + b * textLength,
                                         textMask.begin() + (b + 1) * textLength, int64_t(1)),
                   (long long)dim);
      for (int64_t d = 0; d < std::min<int64_t>(dim, 6); ++d)
        std::fprintf(out, " %.5f", e[size_t(b * dim + d)]);
      std::fprintf(out, " ...  %s\n", options.texts[size_t(b)].c_str());
    }
    std::vector<float> sim(size_t(batch * batch));
    for (int64_t i = 0; i < batch; ++i)
      for (int64_t j = 0; j < batch; ++j) {
        double dot = 0;
        for (int64_t d = 0; d < dim; ++d)
          dot += double(e[size_t(i * dim + d)]) * e[size_t(j * dim + d)];
        sim[size_t(i * batch + j)] = float(dot);
      }
    if (batch > 1) {
      std::fprintf(out, "cosine similarity:\n");
      for (int64_t i = 0; i < batch; ++i) {
        std::fprintf(out, "  [%lld]", (long long)i);
        for (int64_t j = 0; j < batch; ++j)
          std::fprintf(out, " %7.4f", sim[size_t(i * batch + j)]);
        std::fputc('\n', out);
      }
    }
    if (!options.outputDir.empty()) {
      if (Status s = writeOutputNpy(options, options.outputDir + "/embeddings.npy", NpyDtype::F32,
                                        {batch, dim}, e.data());
          !s.ok())
        return s;
      if (Status s = writeOutputNpy(options, options.outputDir + "/similarity.npy", NpyDtype::F32,
                                        {batch, batch}, sim.data());
          !s.ok())
        return s;
      std::fprintf(out, "wrote %s/embeddings.npy and similarity.npy\n", options.outputDir.c_str());
    }
  } else if (Status s = options.outputDir.empty()
                            ? printOutputs(outputs.get(), out)
                            : writeOutputs(options, outputs.get(), out);
             !s.ok()) {
    return s;
  }
  if (capture)
    if (Status s = writeAttention(options, session.get(), inputTokens(plan.get(), fn, inputs), out);
        !s.ok())
      return s;
  std::fputs(formatLatency(computeLatency(times), options.warmup).c_str(), out);
  if (options.profile)
    if (Status s = printProfile(session.get(), function, options.iterations, out); !s.ok())
      return s;
  return Status::success();
}

} // namespace tfc::tfrun
