//===- CApi.cpp - the C API of tfc_runtime.h ---------------------------------------------------===//
//
// Thin: each entry point checks its pointer arguments, calls into Plan/Session inside a guard
// that turns every exception (tfc::rt::Error, dnnl::error, std::bad_alloc, anything) into a
// tfc_status, and returns. No exception crosses this file's functions.
//
//===----------------------------------------------------------------------------------------===//
#include "tfc/tfc_runtime.h"

#include "Backend.h"
#include "Error.h"
#include "Generate.h"
#include "Plan.h"
#include "PlanGenerator.h"
#include "Session.h"
#include "WaitPolicy.h"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>

using namespace tfc::rt;

struct tfc_status {
  tfc_code code;
  std::string message;
};
struct tfc_plan {
  std::shared_ptr<const Plan> plan;
  std::string device; // tfc_plan_options.device: the sessions' default ("" = the target's)
};
struct tfc_session {
  std::unique_ptr<Session> session;
  /// Set while a call that changes the session runs (SessionUse): a second thread's call
  /// meanwhile is TFC_BUSY instead of a race on the arena and the kernels' state.
  std::atomic<bool> busy{false};
};
struct tfc_outputs {
  std::unique_ptr<Outputs> outputs;
};
struct tfc_generation {
  GenerateResult result;
};
struct tfc_ids {
  std::vector<int64_t> ids;
  size_t untruncated = 0; // the ids the text has without truncation
};

namespace {

tfc_status *makeStatus(tfc_code code, const char *message) noexcept {
  try {
    return new tfc_status{code, message};
  } catch (...) {
    // Out of memory while reporting: a static status would be freed by the caller, so give
    // up on the message rather than crash.
    return nullptr;
  }
}

template <typename F> tfc_status *guard(F &&f) noexcept {
  try {
    f();
    return nullptr;
  } catch (const Error &e) {
    return makeStatus(e.code(), e.what());
  } catch (const std::bad_alloc &) {
    return makeStatus(TFC_INTERNAL, "out of memory");
  } catch (const std::exception &e) {
    return makeStatus(TFC_INTERNAL, e.what());
  } catch (...) {
    return makeStatus(TFC_INTERNAL, "unknown internal error");
  }
}

const FunctionDesc &findFunction(const tfc_plan *plan, const char *function) {
  if (!plan)
    fail(TFC_INVALID_ARGUMENT, "plan is NULL");
  const FunctionDesc *fn = plan->plan->findFunction(function);
  if (!fn)
    fail(TFC_NOT_FOUND, "function '%s' is not in the plan", function ? function : "(null)");
  return *fn;
}

void fillPortInfo(const Plan &plan, const FunctionDesc &fn, const PortDesc &port,
                  tfc_port_info *out) {
  const ValueDesc &v = fn.values[port.value];
  std::memset(out, 0, sizeof *out);
  out->name = port.name.c_str();
  out->dtype = v.dtype;
  out->rank = v.rank;
  for (int r = 0; r < v.rank; ++r) {
    tfc_dim_info &d = out->dims[r];
    if (v.dims[r].symbol >= 0) {
      const SymbolDesc &s = plan.symbols[v.dims[r].symbol];
      d.size = -1;
      d.symbol = s.name.c_str();
      d.min = s.min;
      d.max = s.max;
    } else {
      d.size = d.min = d.max = v.dims[r].size;
      d.symbol = nullptr;
    }
  }
}

/// The caller's options struct over `defaults`: struct_size must cover at least the first
/// version's members (`firstVersion` bytes) and at most this header's; the members past a
/// smaller struct_size keep their defaults (new members are only added at the end).
template <typename T>
T readOptions(const T *options, const T &defaults, size_t firstVersion, const char *name,
              const char *init) {
  if (!options)
    return defaults;
  size_t size = options->struct_size;
  if (size < firstVersion || size > sizeof(T))
    fail(TFC_INVALID_ARGUMENT,
         "%s.struct_size is %zu; this runtime takes %zu to %zu bytes (call %s first)", name, size,
         firstVersion, sizeof(T), init);
  T out = defaults;
  std::memcpy(static_cast<void *>(&out), options, size);
  out.struct_size = sizeof(T);
  return out;
}

/// Holds a session for one call: a second thread's call meanwhile fails with TFC_BUSY (the
/// session is not corrupted, the first call goes on). tryAcquire is for the calls with no status.
class SessionUse {
public:
  SessionUse(tfc_session *s, const char *call) : s_(s) {
    if (s_->busy.exchange(true, std::memory_order_acquire))
      fail(TFC_BUSY, "%s: the session is in use by another thread (a tfc_session runs one call "
                     "at a time: create one session per thread)", call);
  }
  ~SessionUse() {
    if (s_)
      s_->busy.store(false, std::memory_order_release);
  }
  SessionUse(const SessionUse &) = delete;
  SessionUse &operator=(const SessionUse &) = delete;
  /// The session held, or a null holder when another thread has it.
  static SessionUse tryAcquire(tfc_session *s) {
    return SessionUse(s->busy.exchange(true, std::memory_order_acquire) ? nullptr : s);
  }
  explicit operator bool() const { return s_ != nullptr; }

private:
  explicit SessionUse(tfc_session *s) : s_(s) {}
  tfc_session *s_;
};

/// Bytes up to and including member M of T: a first version's struct_size.
#define TFC_SIZE_THROUGH(T, M) (offsetof(T, M) + sizeof(((T *)nullptr)->M))

/// The function of a port query, after checking `index` (of its inputs or outputs) and `out`.
const FunctionDesc &portFunction(const tfc_plan *plan, const char *function, size_t index,
                                 bool output, const void *out, const char *api) {
  const FunctionDesc &fn = findFunction(plan, function);
  size_t count = output ? fn.outputs.size() : fn.inputs.size();
  const char *what = output ? "outputs" : "inputs";
  if (index >= count)
    fail(TFC_NOT_FOUND, "function '%s' has %zu %s; index %zu is out of range", fn.name.c_str(),
         count, what, index);
  if (!out)
    fail(TFC_INVALID_ARGUMENT, "%s: out is NULL", api);
  return fn;
}

} // namespace

extern "C" {

// Names only: listing loads no backend module (Backend.h, backendNameList).
size_t tfc_backend_count(void) { return backendNameList().size(); }

const char *tfc_backend_name(size_t index) {
  const std::vector<std::string> &names = backendNameList();
  return index < names.size() ? names[index].c_str() : nullptr;
}

const char *tfc_wait_policy(void) { return tfc::rt::waitPolicyApplied(); }

int tfc_device_check(const char *device, char *why, size_t why_len) {
  std::string reason;
  try {
    DeviceSpec spec = parseDeviceSpec(device);
    // Loads the backend's module; without a backend `reason` says why (not built, or its
    // module cannot be loaded).
    if (const Backend *backend = findBackend(spec.backend, &reason)) {
      if (backend->available(spec.ordinal, &reason))
        reason.clear();
      else if (reason.empty())
        reason = "the device cannot be opened";
    }
  } catch (const std::exception &e) {
    reason = e.what();
  } catch (...) {
    reason = "unknown internal error";
  }
  if (why && why_len) {
    size_t n = std::min(reason.size(), why_len - 1);
    std::memcpy(why, reason.data(), n);
    why[n] = '\0';
  }
  return reason.empty() ? 1 : 0;
}

tfc_code tfc_status_code(const tfc_status *status) { return status ? status->code : TFC_OK; }
const char *tfc_status_message(const tfc_status *status) {
  return status ? status->message.c_str() : "";
}
void tfc_status_free(tfc_status *status) { delete status; }

const char *tfc_code_name(tfc_code code) {
  switch (code) {
  case TFC_OK: return "TFC_OK";
  case TFC_INVALID_ARGUMENT: return "TFC_INVALID_ARGUMENT";
  case TFC_OUT_OF_RANGE: return "TFC_OUT_OF_RANGE";
  case TFC_NOT_FOUND: return "TFC_NOT_FOUND";
  case TFC_INVALID_PLAN: return "TFC_INVALID_PLAN";
  case TFC_VERSION_MISMATCH: return "TFC_VERSION_MISMATCH";
  case TFC_IO_ERROR: return "TFC_IO_ERROR";
  case TFC_UNSUPPORTED: return "TFC_UNSUPPORTED";
  case TFC_INTERNAL: return "TFC_INTERNAL";
  case TFC_UNAVAILABLE: return "TFC_UNAVAILABLE";
  case TFC_BUSY: return "TFC_BUSY";
  }
  return "TFC_UNKNOWN_CODE";
}

size_t tfc_dtype_size(tfc_dtype dtype) { return dtypeSize(dtype); }
const char *tfc_dtype_name(tfc_dtype dtype) { return dtypeName(dtype); }

void tfc_plan_options_init(tfc_plan_options *options) {
  if (!options)
    return;
  std::memset(options, 0, sizeof *options);
  options->struct_size = sizeof *options;
  options->verify_checksums = 1;
  options->any_target = 0;
  options->device = nullptr;
}

tfc_status *tfc_plan_open(const char *path, const tfc_plan_options *options, tfc_plan **out) {
  return guard([&] {
    if (!out)
      fail(TFC_INVALID_ARGUMENT, "tfc_plan_open: out is NULL");
    *out = nullptr;
    tfc_plan_options defaults;
    tfc_plan_options_init(&defaults);
    const tfc_plan_options o =
        readOptions(options, defaults, TFC_SIZE_THROUGH(tfc_plan_options, verify_checksums),
                    "tfc_plan_options", "tfc_plan_options_init");
    auto plan = loadPlan(path, o.verify_checksums != 0, o.any_target != 0);
    std::string device = o.device ? o.device : "";
    if (!device.empty())
      checkDeviceRunsPlan(*plan, device.c_str());
    *out = new tfc_plan{std::move(plan), std::move(device)};
  });
}

void tfc_plan_release(tfc_plan *plan) { delete plan; }

tfc_status *tfc_plan_verify(const tfc_plan *plan) {
  return guard([&] {
    if (!plan)
      fail(TFC_INVALID_ARGUMENT, "tfc_plan_verify: plan is NULL");
    plan->plan->checkFileUnchanged();
    const std::string &problem = plan->plan->weightsProblem();
    if (!problem.empty())
      throw Error(TFC_INVALID_PLAN, problem);
  });
}

void tfc_plan_get_info(const tfc_plan *plan, tfc_plan_info *out) {
  if (!plan || !out)
    return;
  const Plan &p = *plan->plan;
  out->format_major = p.formatMajor;
  out->format_minor = p.formatMinor;
  out->producer = p.producer.c_str();
  out->target = p.target.c_str();
  out->family = p.family.c_str();
  out->model_name = p.modelName.c_str();
  out->start_id = p.startId;
  out->end_id = p.endId;
  out->unk_id = p.unkId;
  out->pad_id = p.padId;
  out->weights_bytes = p.weightsBytes;
}

const char *tfc_plan_precision(const tfc_plan *plan) {
  return plan ? plan->plan->precision.c_str() : nullptr;
}

const char *tfc_plan_weight_precision(const tfc_plan *plan) {
  return plan ? plan->plan->weightPrecision.c_str() : nullptr;
}

const char *tfc_plan_target(const tfc_plan *plan) {
  return plan ? plan->plan->target.c_str() : nullptr;
}

size_t tfc_plan_num_functions(const tfc_plan *plan) {
  return plan ? plan->plan->functions.size() : 0;
}

const char *tfc_plan_function_name(const tfc_plan *plan, size_t index) {
  if (!plan || index >= plan->plan->functions.size())
    return nullptr;
  return plan->plan->functions[index].name.c_str();
}

uint64_t tfc_plan_arena_bytes(const tfc_plan *plan, const char *function) {
  if (!plan)
    return 0;
  const FunctionDesc *fn = plan->plan->findFunction(function);
  return fn ? fn->arenaSize : 0;
}

tfc_status *tfc_plan_num_ports(const tfc_plan *plan, const char *function, size_t *num_inputs,
                               size_t *num_outputs) {
  return guard([&] {
    const FunctionDesc &fn = findFunction(plan, function);
    if (num_inputs)
      *num_inputs = fn.inputs.size();
    if (num_outputs)
      *num_outputs = fn.outputs.size();
  });
}

tfc_status *tfc_plan_input_info(const tfc_plan *plan, const char *function, size_t index,
                                tfc_port_info *out) {
  return guard([&] {
    const FunctionDesc &fn = portFunction(plan, function, index, false, out, "tfc_plan_input_info");
    fillPortInfo(*plan->plan, fn, fn.inputs[index], out);
  });
}

tfc_status *tfc_plan_input_values(const tfc_plan *plan, const char *function, size_t index,
                                  tfc_input_values *out) {
  return guard([&] {
    const FunctionDesc &fn =
        portFunction(plan, function, index, false, out, "tfc_plan_input_values");
    const InputRule &rule = fn.inputRules[index];
    out->kind = rule.kind;
    out->id_bound = rule.kind == TFC_INPUT_IDS ? rule.bound : 0;
  });
}

tfc_status *tfc_plan_output_info(const tfc_plan *plan, const char *function, size_t index,
                                 tfc_port_info *out) {
  return guard([&] {
    const FunctionDesc &fn = portFunction(plan, function, index, true, out, "tfc_plan_output_info");
    fillPortInfo(*plan->plan, fn, fn.outputs[index], out);
  });
}

void tfc_session_options_init(tfc_session_options *options) {
  if (!options)
    return;
  std::memset(options, 0, sizeof *options);
  options->struct_size = sizeof *options;
  options->num_threads = 0;
  options->device = nullptr;
}

tfc_status *tfc_session_create(tfc_plan *plan, const tfc_session_options *options,
                               tfc_session **out) {
  return guard([&] {
    if (!out)
      fail(TFC_INVALID_ARGUMENT, "tfc_session_create: out is NULL");
    *out = nullptr;
    if (!plan)
      fail(TFC_INVALID_ARGUMENT, "tfc_session_create: plan is NULL");
    tfc_session_options defaults;
    tfc_session_options_init(&defaults);
    const tfc_session_options o =
        readOptions(options, defaults, TFC_SIZE_THROUGH(tfc_session_options, num_threads),
                    "tfc_session_options", "tfc_session_options_init");
    const char *device = o.device && *o.device ? o.device : plan->device.c_str();
    auto session = std::make_unique<Session>(plan->plan, o.num_threads, device);
    *out = new tfc_session{std::move(session)};
  });
}

void tfc_session_release(tfc_session *session) { delete session; }

tfc_status *tfc_session_run(tfc_session *session, const char *function, const tfc_tensor *inputs,
                            size_t num_inputs, tfc_outputs **out) {
  return guard([&] {
    if (!out)
      fail(TFC_INVALID_ARGUMENT, "tfc_session_run: out is NULL");
    *out = nullptr;
    if (!session)
      fail(TFC_INVALID_ARGUMENT, "tfc_session_run: session is NULL");
    SessionUse use(session, "tfc_session_run");
    auto outputs = session->session->run(function, inputs, num_inputs);
    *out = new tfc_outputs{std::move(outputs)};
  });
}

size_t tfc_outputs_count(const tfc_outputs *outputs) {
  return outputs ? outputs->outputs->outputs.size() : 0;
}

tfc_status *tfc_outputs_get(const tfc_outputs *outputs, size_t index, tfc_tensor *out) {
  return guard([&] {
    if (!outputs || !out)
      fail(TFC_INVALID_ARGUMENT, "tfc_outputs_get: NULL argument");
    const auto &outs = outputs->outputs->outputs;
    if (index >= outs.size())
      fail(TFC_NOT_FOUND, "there are %zu outputs; index %zu is out of range", outs.size(), index);
    const Outputs::Output &o = outs[index];
    out->name = o.name.c_str();
    out->dtype = o.dtype;
    out->rank = int32_t(o.dims.size());
    out->dims = o.dims.data();
    out->data = o.buffer.data;
  });
}

void tfc_outputs_free(tfc_outputs *outputs) { delete outputs; }

void tfc_session_set_profiling(tfc_session *session, int enable) {
  if (!session)
    return;
  if (SessionUse use = SessionUse::tryAcquire(session))
    session->session->setProfiling(enable != 0);
}

size_t tfc_session_profile_count(const tfc_session *session, const char *function) {
  if (!session)
    return 0;
  const auto *p = session->session->profile(function);
  return p ? p->size() : 0;
}

tfc_status *tfc_session_profile_get(const tfc_session *session, const char *function, size_t index,
                                    tfc_kernel_profile *out) {
  return guard([&] {
    if (!session || !out)
      fail(TFC_INVALID_ARGUMENT, "tfc_session_profile_get: NULL argument");
    const Plan &plan = session->session->plan();
    const FunctionDesc *fn = plan.findFunction(function);
    if (!fn)
      fail(TFC_NOT_FOUND, "function '%s' is not in the plan", function ? function : "(null)");
    const auto &prof = *session->session->profile(function);
    if (index >= prof.size())
      fail(TFC_NOT_FOUND, "function '%s' has %zu kernels; index %zu is out of range",
           fn->name.c_str(), prof.size(), index);
    const KernelDesc &k = fn->kernels[index];
    out->kind = kernelKindName(k.kind);
    out->name = k.name.c_str();
    out->calls = prof[index].calls;
    out->total_ms = prof[index].totalMs;
  });
}

void tfc_session_profile_reset(tfc_session *session) {
  if (!session)
    return;
  if (SessionUse use = SessionUse::tryAcquire(session))
    session->session->resetProfile();
}

tfc_status *tfc_session_set_attention_capture(tfc_session *session, int enable) {
  return guard([&] {
    if (!session)
      fail(TFC_INVALID_ARGUMENT, "tfc_session_set_attention_capture: session is NULL");
    SessionUse use(session, "tfc_session_set_attention_capture");
    session->session->setAttentionCapture(enable != 0);
  });
}

size_t tfc_session_attention_count(const tfc_session *session) {
  const AttentionCapture *c = session ? session->session->attentionCapture() : nullptr;
  return c ? c->records().size() : 0;
}

tfc_status *tfc_session_attention_get(const tfc_session *session, size_t index,
                                      tfc_attention_weights *out) {
  return guard([&] {
    if (!session || !out)
      fail(TFC_INVALID_ARGUMENT, "tfc_session_attention_get: NULL argument");
    const AttentionCapture *c = session->session->attentionCapture();
    if (!c)
      fail(TFC_NOT_FOUND, "attention capture is off (tfc_session_set_attention_capture)");
    if (index >= c->records().size())
      fail(TFC_NOT_FOUND, "the session holds %zu attention record(s); index %zu is out of range",
           c->records().size(), index);
    const AttentionRecord &r = c->records()[index];
    out->function = r.function.c_str();
    out->kernel = r.kernel.c_str();
    out->run = r.run;
    out->layer = r.index;
    for (int i = 0; i < 4; ++i)
      out->dims[i] = r.dims[i];
    out->data = r.weights.data();
  });
}

void tfc_session_attention_clear(tfc_session *session) {
  if (!session)
    return;
  if (SessionUse use = SessionUse::tryAcquire(session))
    session->session->clearAttentionCapture();
}

} // extern "C"

// ---- generation ---------------------------------------------------------------------------

void tfc_plan_get_generation_info(const tfc_plan *plan, tfc_generation_info *out) {
  if (!out)
    return;
  std::memset(out, 0, sizeof *out);
  if (!plan || !plan->plan->generation.present)
    return;
  const GenerationDesc &g = plan->plan->generation;
  out->mode = g.mode.c_str();
  out->reason = g.reason.c_str();
  out->token_input = g.tokenInput.c_str();
  try {
    GenerationBounds b = generationBounds(*plan->plan);
    out->max_length = b.maxLength;
    out->max_batch = b.maxBatch;
    out->vocab_size = b.vocab;
  } catch (...) {
    // A plan whose forward does not fit generation: the bounds stay 0 (generate says why).
  }
}

size_t tfc_plan_vocabulary_size(const tfc_plan *plan) {
  return plan ? plan->plan->vocabulary.size() : 0;
}

const char *tfc_plan_token(const tfc_plan *plan, int64_t id) {
  if (!plan || id < 0 || size_t(id) >= plan->plan->vocabulary.size())
    return nullptr;
  return plan->plan->vocabulary[size_t(id)].c_str();
}

void tfc_generate_options_init(tfc_generate_options *options) {
  if (!options)
    return;
  std::memset(options, 0, sizeof *options);
  options->struct_size = sizeof *options;
  options->strategy = TFC_GREEDY;
  options->max_new_tokens = 32;
  options->eos_id = -1;
  options->temperature = 1.0f;
  options->top_k = 0;
  options->top_p = 1.0f;
  options->seed = 0;
  options->beam_width = 1;
  options->length_penalty = 1.0f;
}

tfc_status *tfc_session_generate(tfc_session *session, const int64_t *tokens,
                                 const int64_t *offsets, size_t num_prompts,
                                 const tfc_tensor *inputs, size_t num_inputs,
                                 const tfc_generate_options *options, tfc_token_callback callback,
                                 void *user_data, tfc_generation **out) {
  return guard([&] {
    if (!out)
      fail(TFC_INVALID_ARGUMENT, "tfc_session_generate: out is NULL");
    *out = nullptr;
    if (!session)
      fail(TFC_INVALID_ARGUMENT, "tfc_session_generate: session is NULL");
    if (num_prompts == 0 || !offsets || !tokens)
      fail(TFC_INVALID_ARGUMENT, "tfc_session_generate: no prompts (tokens/offsets NULL or "
                                 "num_prompts 0)");
    if (num_inputs && !inputs)
      fail(TFC_INVALID_ARGUMENT, "tfc_session_generate: inputs is NULL but num_inputs is %zu",
           num_inputs);
    tfc_generate_options defaults;
    tfc_generate_options_init(&defaults);
    const tfc_generate_options o =
        readOptions(options, defaults, TFC_SIZE_THROUGH(tfc_generate_options, length_penalty),
                    "tfc_generate_options", "tfc_generate_options_init");
    GenerateOptions opt;
    switch (o.strategy) {
    case TFC_GREEDY: opt.strategy = Strategy::Greedy; break;
    case TFC_SAMPLE: opt.strategy = Strategy::Sample; break;
    case TFC_BEAM: opt.strategy = Strategy::Beam; break;
    default: fail(TFC_INVALID_ARGUMENT, "unknown strategy %d", int(o.strategy));
    }
    opt.maxNewTokens = o.max_new_tokens;
    opt.eosId = o.eos_id;
    opt.temperature = o.temperature;
    opt.topK = o.top_k;
    opt.topP = o.top_p;
    opt.seed = o.seed;
    opt.beamWidth = o.beam_width;
    opt.lengthPenalty = o.length_penalty;
    std::vector<std::vector<int64_t>> prompts(num_prompts);
    for (size_t i = 0; i < num_prompts; ++i) {
      if (offsets[i] < 0 || offsets[i + 1] < offsets[i])
        fail(TFC_INVALID_ARGUMENT, "prompt offsets must be non-decreasing from 0 (offsets[%zu] "
                                   "= %lld, offsets[%zu] = %lld)",
             i, (long long)offsets[i], i + 1, (long long)offsets[i + 1]);
      prompts[i].assign(tokens + offsets[i], tokens + offsets[i + 1]);
    }
    SessionUse use(session, "tfc_session_generate");
    PlanStepModel model(*session->session, inputs, num_inputs, int64_t(num_prompts));
    TokenCallback onToken;
    if (callback)
      onToken = [&](int64_t row, int64_t token) { return callback(user_data, row, token) != 0; };
    auto g = std::make_unique<tfc_generation>();
    g->result = generate(model, prompts, opt, onToken);
    *out = g.release();
  });
}

size_t tfc_generation_count(const tfc_generation *generation) {
  return generation ? generation->result.sequences.size() : 0;
}

const int64_t *tfc_generation_tokens(const tfc_generation *generation, size_t index,
                                     size_t *length) {
  if (length)
    *length = 0;
  if (!generation || index >= generation->result.sequences.size())
    return nullptr;
  const std::vector<int64_t> &s = generation->result.sequences[index];
  if (length)
    *length = s.size();
  return s.data();
}

void tfc_generation_get_stats(const tfc_generation *generation, tfc_generation_stats *out) {
  if (!out)
    return;
  std::memset(out, 0, sizeof *out);
  if (!generation)
    return;
  const GenerateResult &r = generation->result;
  out->prompt_tokens = r.promptTokens;
  out->generated_tokens = r.generatedTokens;
  out->decode_steps = r.decodeSteps;
  out->prefill_ms = r.startMs;
  out->decode_ms = r.decodeMs;
}

void tfc_generation_free(tfc_generation *generation) { delete generation; }

// ---- text ---------------------------------------------------------------------------------

int tfc_plan_has_tokenizer(const tfc_plan *plan) {
  return plan && plan->plan->tokenizer ? 1 : 0;
}

tfc_status *tfc_plan_tokenize_flags(const tfc_plan *plan, const char *text, size_t length,
                                    unsigned flags, tfc_ids **out) {
  return guard([&] {
    if (!out)
      fail(TFC_INVALID_ARGUMENT, "tfc_plan_tokenize: out is NULL");
    *out = nullptr;
    if (!plan)
      fail(TFC_INVALID_ARGUMENT, "tfc_plan_tokenize: plan is NULL");
    if (!text && length)
      fail(TFC_INVALID_ARGUMENT, "tfc_plan_tokenize: text is NULL");
    const unsigned known = TFC_TOKENIZE_ADD_SPECIAL | TFC_TOKENIZE_NO_TRUNCATION;
    if (flags & ~known)
      fail(TFC_INVALID_ARGUMENT, "tfc_plan_tokenize_flags: unknown flags 0x%x", flags & ~known);
    if (!plan->plan->tokenizer)
      fail(TFC_UNSUPPORTED, "plan '%s' has no tokenizer (import the model with its tokenizer "
                            "files)", plan->plan->path.c_str());
    auto ids = std::make_unique<tfc_ids>();
    tfc::text::Encoding e = plan->plan->tokenizer->encode(
        std::string_view(text ? text : "", length), (flags & TFC_TOKENIZE_ADD_SPECIAL) != 0,
        (flags & TFC_TOKENIZE_NO_TRUNCATION) == 0);
    ids->ids = std::move(e.ids);
    ids->untruncated = e.untruncatedSize;
    *out = ids.release();
  });
}

tfc_status *tfc_plan_tokenize(const tfc_plan *plan, const char *text, size_t length,
                              int add_special, tfc_ids **out) {
  return tfc_plan_tokenize_flags(plan, text, length, add_special ? TFC_TOKENIZE_ADD_SPECIAL : 0u,
                                 out);
}

size_t tfc_ids_count(const tfc_ids *ids) { return ids ? ids->ids.size() : 0; }
const int64_t *tfc_ids_data(const tfc_ids *ids) { return ids ? ids->ids.data() : nullptr; }
size_t tfc_ids_untruncated_count(const tfc_ids *ids) { return ids ? ids->untruncated : 0; }
void tfc_ids_free(tfc_ids *ids) { delete ids; }

tfc_status *tfc_plan_detokenize_n(const tfc_plan *plan, const int64_t *ids, size_t count,
                                  int skip_special, char **out, size_t *length) {
  return guard([&] {
    if (!out)
      fail(TFC_INVALID_ARGUMENT, "tfc_plan_detokenize: out is NULL");
    *out = nullptr;
    if (length)
      *length = 0;
    if (!plan || (!ids && count))
      fail(TFC_INVALID_ARGUMENT, "tfc_plan_detokenize: plan or ids is NULL");
    if (!plan->plan->tokenizer)
      fail(TFC_UNSUPPORTED, "plan '%s' has no tokenizer", plan->plan->path.c_str());
    std::string text = plan->plan->tokenizer->decode(std::vector<int64_t>(ids, ids + count),
                                                     skip_special != 0);
    char *copy = static_cast<char *>(std::malloc(text.size() + 1));
    if (!copy)
      fail(TFC_INTERNAL, "out of memory");
    std::memcpy(copy, text.c_str(), text.size() + 1);
    *out = copy;
    if (length)
      *length = text.size();
  });
}

tfc_status *tfc_plan_detokenize(const tfc_plan *plan, const int64_t *ids, size_t count,
                                int skip_special, char **out) {
  return tfc_plan_detokenize_n(plan, ids, count, skip_special, out, nullptr);
}

void tfc_string_free(char *s) { std::free(s); }
