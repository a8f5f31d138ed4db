//===- TokenStream.h - tfc_session_generate streamed to a Python iterator ------------------===//
//
// The generation runs in a thread of its own, holding the session's lock; its token callback
// (plain C++, never Python) queues each (row, token) and wakes the reader. next() waits for a
// token with the GIL released (checking for Ctrl-C every 100 ms), so a Python loop gets each
// token as soon as the runtime chooses it. close() (or the last reference going away) makes the
// callback return 0, which stops the generation at its next token, and joins the thread. A
// failed generation raises tfc.Error from next() once the tokens before the failure are read.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_PYTHON_TOKENSTREAM_H
#define TFC_PYTHON_TOKENSTREAM_H

#include "Session.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <thread>
#include <utility>

namespace tfc::python {

/// One fixed input of a generation, copied (the thread outlives the call that started it).
struct OwnedInput {
  std::string name;
  tfc_dtype dtype = TFC_F32;
  std::vector<int64_t> dims;
  std::vector<uint8_t> bytes;
  tfc_tensor view() const {
    return tfc_tensor{name.c_str(), dtype, int32_t(dims.size()), dims.data(), bytes.data()};
  }
};

class TokenStream {
public:
  TokenStream(std::shared_ptr<SessionHandle> session, std::vector<int64_t> tokens,
              std::vector<int64_t> offsets, std::vector<OwnedInput> inputs,
              const tfc_generate_options &options);
  ~TokenStream();
  TokenStream(const TokenStream &) = delete;
  TokenStream &operator=(const TokenStream &) = delete;

  /// The next (row, token); StopIteration at the end; tfc.Error if the generation failed.
  py::tuple next();
  /// Stops the generation (at its next token) and waits for its thread.
  void close();
  /// Whether the generation has ended (all tokens may not have been read yet).
  bool finished();
  /// Each sequence (prompt + generated tokens) as an int64 array; only once finished.
  py::list sequences();
  /// tfc_generation_stats as a dict; only once finished.
  py::dict stats();

private:
  static int onToken(void *self, int64_t row, int64_t token) noexcept;
  void work() noexcept;
  void requireFinished(const char *what);

  std::shared_ptr<SessionHandle> session_;
  std::vector<int64_t> tokens_, offsets_;
  std::vector<OwnedInput> inputs_;
  tfc_generate_options options_;

  std::mutex mutex_; // guards everything below but cancel_
  std::condition_variable ready_;
  std::deque<std::pair<int64_t, int64_t>> queue_;
  bool finished_ = false;
  bool errorRaised_ = false;
  tfc_code errorCode_ = TFC_OK;
  std::string errorMessage_;
  tfc_generation *result_ = nullptr;
  std::atomic<bool> cancel_{false};
  std::thread thread_; // last: started once every member above exists
};

} // namespace tfc::python

#endif // TFC_PYTHON_TOKENSTREAM_H
