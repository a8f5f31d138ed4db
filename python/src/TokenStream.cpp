//===- TokenStream.cpp - tfc_session_generate streamed to a Python iterator ----------------===//
#include "TokenStream.h"

#include "Status.h"

#include <algorithm>
#include <chrono>

namespace tfc::python {

TokenStream::TokenStream(std::shared_ptr<SessionHandle> session, std::vector<int64_t> tokens,
                         std::vector<int64_t> offsets, std::vector<OwnedInput> inputs,
                         const tfc_generate_options &options)
    : session_(std::move(session)), tokens_(std::move(tokens)), offsets_(std::move(offsets)),
      inputs_(std::move(inputs)), options_(options) {
  thread_ = std::thread([this] { work(); });
}

TokenStream::~TokenStream() {
  cancel_ = true;
  if (thread_.joinable())
    thread_.join(); // the thread never takes the GIL: no deadlock with a caller holding it
  tfc_generation_free(result_);
}

int TokenStream::onToken(void *self, int64_t row, int64_t token) noexcept {
  auto *s = static_cast<TokenStream *>(self);
  try {
    std::lock_guard<std::mutex> lock(s->mutex_);
    s->queue_.emplace_back(row, token);
  } catch (...) { // out of memory: stop generating rather than lose tokens silently
    s->cancel_ = true;
  }
  s->ready_.notify_one();
  return s->cancel_ ? 0 : 1;
}

void TokenStream::work() noexcept {
  std::vector<tfc_tensor> views;
  tfc_status *status = nullptr;
  tfc_generation *result = nullptr;
  try {
    for (const OwnedInput &in : inputs_)
      views.push_back(in.view());
    std::lock_guard<std::mutex> lock(session_->lock);
    status = tfc_session_generate(session_->session, tokens_.data(), offsets_.data(),
                                  offsets_.size() - 1, views.data(), views.size(), &options_,
                                  onToken, this, &result);
  } catch (...) {
    status = nullptr;
    result = nullptr;
    std::lock_guard<std::mutex> lock(mutex_);
    errorCode_ = TFC_INTERNAL;
    errorMessage_ = "generate: out of memory";
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (status) {
    errorCode_ = tfc_status_code(status);
    errorMessage_ = tfc_status_message(status);
    tfc_status_free(status);
  }
  result_ = result;
  finished_ = true;
  ready_.notify_all();
}

py::tuple TokenStream::next() {
  using namespace std::chrono_literals;
  for (;;) {
    std::pair<int64_t, int64_t> item;
    bool got = false, end = false;
    {
      py::gil_scoped_release nogil;
      std::unique_lock<std::mutex> lock(mutex_);
      ready_.wait_for(lock, 100ms, [&] { return !queue_.empty() || finished_; });
      if (!queue_.empty()) {
        item = queue_.front();
        queue_.pop_front();
        got = true;
      } else {
        end = finished_;
      }
    }
    if (got)
      return py::make_tuple(item.first, item.second);
    if (end) {
      if (errorCode_ != TFC_OK && !errorRaised_) {
        errorRaised_ = true;
        throw StatusError(errorCode_, errorMessage_);
      }
      throw py::stop_iteration();
    }
    if (PyErr_CheckSignals() != 0) { // Ctrl-C while waiting: stop the generation too
      cancel_ = true;
      throw py::error_already_set();
    }
  }
}

void TokenStream::close() {
  cancel_ = true;
  py::gil_scoped_release nogil;
  if (thread_.joinable())
    thread_.join();
}

bool TokenStream::finished() {
  std::lock_guard<std::mutex> lock(mutex_);
  return finished_;
}

void TokenStream::requireFinished(const char *what) {
  bool done = finished();
  if (!done)
    throw StatusError(TFC_INVALID_ARGUMENT,
                      std::string(what) + ": the generation has not finished (read every token "
                                          "or close it first)");
  if (errorCode_ != TFC_OK)
    throw StatusError(errorCode_, errorMessage_);
}

py::list TokenStream::sequences() {
  requireFinished("sequences");
  py::list out;
  for (size_t i = 0, n = tfc_generation_count(result_); i < n; ++i) {
    size_t length = 0;
    const int64_t *seq = tfc_generation_tokens(result_, i, &length);
    py::array_t<int64_t> a{py::ssize_t(length)};
    std::copy(seq, seq + length, a.mutable_data());
    out.append(a);
  }
  return out;
}

py::dict TokenStream::stats() {
  requireFinished("stats");
  tfc_generation_stats s;
  tfc_generation_get_stats(result_, &s);
  py::dict d;
  d["prompt_tokens"] = s.prompt_tokens;
  d["generated_tokens"] = s.generated_tokens;
  d["decode_steps"] = s.decode_steps;
  d["prefill_ms"] = s.prefill_ms;
  d["decode_ms"] = s.decode_ms;
  return d;
}

} // namespace tfc::python
