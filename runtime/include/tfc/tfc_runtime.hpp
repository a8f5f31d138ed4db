//===- tfc_runtime.hpp - header-only C++ wrapper of the tfc runtime C API ---------------------===//
//
// RAII handles over tfc_runtime.h; no exceptions: fallible calls return tfc::Status (code +
// message), results come back through out-parameters.
//
//   tfc::Plan plan;
//   if (tfc::Status s = tfc::Plan::open("plan.bin", &plan); !s.ok()) { puts(s.message()); ... }
//   tfc::Session session;
//   tfc::Session::create(plan, /*numThreads=*/0, &session);   // or ..., &session, "cuda:0")
//   tfc::Outputs out;
//   tfc::Status s = session.run("forward", inputs, numInputs, &out);
//   tfc_tensor y = out[0];
//
// Same thread rules and lifetimes as the C API: a Plan may be shared across threads; a Session
// is used by one thread at a time and keeps its plan alive.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_HPP
#define TFC_RUNTIME_HPP

#include "tfc/tfc_runtime.h"

#include <functional>
#include <vector>

#include <string>
#include <string_view>
#include <utility>

namespace tfc {

/// The backends this runtime was built with ("cpu", "cuda").
inline std::vector<std::string> backendNames() {
  std::vector<std::string> names;
  for (size_t i = 0, n = tfc_backend_count(); i < n; ++i)
    names.emplace_back(tfc_backend_name(i));
  return names;
}

/// Whether `device` ("cpu", "cuda:1") can be opened here; when not, `why` (optional) says why.
inline bool deviceAvailable(const char *device, std::string *why = nullptr) {
  char buf[512];
  bool ok = tfc_device_check(device, buf, sizeof buf) != 0;
  if (why)
    *why = ok ? std::string() : std::string(buf);
  return ok;
}

/// The result of a fallible call: ok, or a code and a message.
class Status {
public:
  Status() = default;
  /// Takes ownership of a C status (NULL means ok).
  explicit Status(tfc_status *s) {
    if (s) {
      code_ = tfc_status_code(s);
      message_ = tfc_status_message(s);
      tfc_status_free(s);
    }
  }
  bool ok() const { return code_ == TFC_OK; }
  explicit operator bool() const { return ok(); }
  tfc_code code() const { return code_; }
  const char *codeName() const { return tfc_code_name(code_); }
  const char *message() const { return message_.c_str(); }
  /// "TFC_OUT_OF_RANGE: input 'input_ids' dim 1 (seq) is 600, ..."
  std::string toString() const { return ok() ? "OK" : std::string(codeName()) + ": " + message_; }

private:
  tfc_code code_ = TFC_OK;
  std::string message_;
};

namespace detail {
template <typename T, void (*Release)(T *)> class Handle {
public:
  Handle() = default;
  explicit Handle(T *p) : p_(p) {}
  ~Handle() { Release(p_); }
  Handle(Handle &&o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  Handle &operator=(Handle &&o) noexcept {
    if (this != &o) {
      Release(p_);
      p_ = std::exchange(o.p_, nullptr);
    }
    return *this;
  }
  Handle(const Handle &) = delete;
  Handle &operator=(const Handle &) = delete;
  T *get() const { return p_; }
  explicit operator bool() const { return p_ != nullptr; }

protected:
  T *p_ = nullptr;
};
} // namespace detail

class Plan : public detail::Handle<tfc_plan, tfc_plan_release> {
public:
  using Handle::Handle;
  /// `anyTarget`: open a plan of a target this build cannot run, for inspection only
  /// (tfc_plan_options.any_target).
  /// `device`: the sessions' default device (tfc_plan_options.device; nullptr: the target's).
  static Status open(const char *path, Plan *out, bool verifyChecksums = true,
                     bool anyTarget = false, const char *device = nullptr) {
    tfc_plan_options o;
    tfc_plan_options_init(&o);
    o.verify_checksums = verifyChecksums ? 1 : 0;
    o.any_target = anyTarget ? 1 : 0;
    o.device = device;
    tfc_plan *p = nullptr;
    Status s(tfc_plan_open(path, &o, &p));
    *out = Plan(p);
    return s;
  }
  /// Checks every constant's checksum now (tfc_plan_verify; once per plan, the answer kept).
  Status verify() const { return Status(tfc_plan_verify(p_)); }
  tfc_plan_info info() const {
    tfc_plan_info i{};
    tfc_plan_get_info(p_, &i);
    return i;
  }
  /// "cpu" or "cuda".
  const char *target() const { return tfc_plan_target(p_); }
  /// "fp32", "fp16" or "bf16".
  const char *precision() const { return tfc_plan_precision(p_); }
  /// "fp32", or "bf16" / "int8" (cpu weight-only precision).
  const char *weightPrecision() const { return tfc_plan_weight_precision(p_); }
  size_t numFunctions() const { return tfc_plan_num_functions(p_); }
  const char *functionName(size_t i) const { return tfc_plan_function_name(p_, i); }
  Status inputInfo(const char *fn, size_t i, tfc_port_info *out) const {
    return Status(tfc_plan_input_info(p_, fn, i, out));
  }
  Status outputInfo(const char *fn, size_t i, tfc_port_info *out) const {
    return Status(tfc_plan_output_info(p_, fn, i, out));
  }

  bool hasTokenizer() const { return tfc_plan_has_tokenizer(p_) != 0; }
  /// Token ids of `text` (`flags`: TFC_TOKENIZE_*); `untruncated` (optional) gets the count
  /// without truncation.
  Status tokenize(std::string_view text, unsigned flags, std::vector<int64_t> *ids,
                  size_t *untruncated = nullptr) const {
    tfc_ids *raw = nullptr;
    Status s(tfc_plan_tokenize_flags(p_, text.data(), text.size(), flags, &raw));
    ids->assign(tfc_ids_data(raw), tfc_ids_data(raw) + tfc_ids_count(raw));
    if (untruncated)
      *untruncated = tfc_ids_untruncated_count(raw);
    tfc_ids_free(raw);
    return s;
  }
  /// The text of `ids`, every byte of it (NUL bytes included).
  Status detokenize(const std::vector<int64_t> &ids, bool skipSpecial, std::string *text) const {
    char *raw = nullptr;
    size_t length = 0;
    Status s(tfc_plan_detokenize_n(p_, ids.data(), ids.size(), skipSpecial ? 1 : 0, &raw,
                                   &length));
    text->assign(raw ? raw : "", length);
    tfc_string_free(raw);
    return s;
  }
};

class Outputs : public detail::Handle<tfc_outputs, tfc_outputs_free> {
public:
  using Handle::Handle;
  size_t size() const { return tfc_outputs_count(p_); }
  /// Output `i` (a tensor with data == NULL when out of range).
  tfc_tensor operator[](size_t i) const {
    tfc_tensor t{};
    Status(tfc_outputs_get(p_, i, &t));
    return t;
  }
};

/// The sequences of a generation (prompt + generated tokens each).
class Generation : public detail::Handle<tfc_generation, tfc_generation_free> {
public:
  using Handle::Handle;
  size_t size() const { return tfc_generation_count(p_); }
  std::vector<int64_t> operator[](size_t i) const {
    size_t n = 0;
    const int64_t *t = tfc_generation_tokens(p_, i, &n);
    return t ? std::vector<int64_t>(t, t + n) : std::vector<int64_t>();
  }
  tfc_generation_stats stats() const {
    tfc_generation_stats s;
    tfc_generation_get_stats(p_, &s);
    return s;
  }
};

class Session : public detail::Handle<tfc_session, tfc_session_release> {
public:
  using Handle::Handle;
  /// `device`: "cpu", "cuda", "cuda:N"; NULL or "" for device 0 of the plan's target.
  static Status create(const Plan &plan, int numThreads, Session *out,
                       const char *device = nullptr) {
    tfc_session_options o;
    tfc_session_options_init(&o);
    o.num_threads = numThreads;
    o.device = device;
    tfc_session *s = nullptr;
    Status st(tfc_session_create(plan.get(), &o, &s));
    *out = Session(s);
    return st;
  }
  Status run(const char *function, const tfc_tensor *inputs, size_t numInputs,
             Outputs *out) {
    tfc_outputs *o = nullptr;
    Status s(tfc_session_run(p_, function, inputs, numInputs, &o));
    *out = Outputs(o);
    return s;
  }
  void setProfiling(bool on) { tfc_session_set_profiling(p_, on ? 1 : 0); }
  /// Attention weights of later runs (see tfc_session_set_attention_capture).
  Status setAttentionCapture(bool on) {
    return Status(tfc_session_set_attention_capture(p_, on ? 1 : 0));
  }
  size_t attentionCount() const { return tfc_session_attention_count(p_); }
  Status attention(size_t index, tfc_attention_weights *out) const {
    return Status(tfc_session_attention_get(p_, index, out));
  }
  void clearAttention() { tfc_session_attention_clear(p_); }
  /// Generates from `prompts` (other inputs one row per prompt); `onToken(row, token)` returning
  /// false stops. See tfc_session_generate.
  Status generate(const std::vector<std::vector<int64_t>> &prompts, const tfc_tensor *inputs,
                  size_t numInputs, const tfc_generate_options &options, Generation *out,
                  std::function<bool(int64_t, int64_t)> onToken = {}) {
    std::vector<int64_t> tokens, offsets{0};
    for (const auto &p : prompts) {
      tokens.insert(tokens.end(), p.begin(), p.end());
      offsets.push_back(int64_t(tokens.size()));
    }
    tfc_token_callback thunk = [](void *user, int64_t row, int64_t token) -> int {
      return (*static_cast<std::function<bool(int64_t, int64_t)> *>(user))(row, token) ? 1 : 0;
    };
    tfc_generation *g = nullptr;
    Status s(tfc_session_generate(p_, tokens.data(), offsets.data(), prompts.size(), inputs,
                                  numInputs, &options, onToken ? thunk : nullptr, &onToken, &g));
    *out = Generation(g);
    return s;
  }
};

} // namespace tfc

#endif // TFC_RUNTIME_HPP
