//===- Session.h - tfc._tfc.Session: runs and generations on one tfc_session ---------------===//
//
// The C API allows one thread at a time on a session. Python threads may share a Session
// object, so every call on it takes the session's lock, after releasing the GIL (runs and
// generations never hold the GIL): calls from several threads wait for each other. A token
// stream (TokenStream.h) holds the lock for its whole generation, in its own thread.
//
// Inputs are read in place (the arrays the Python layer hands over are C-contiguous and of the
// plan's dtype); outputs are the runtime's own buffers, wrapped without a copy.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_PYTHON_SESSION_H
#define TFC_PYTHON_SESSION_H

#include "Arrays.h"
#include "Plan.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tfc::python {

namespace py = pybind11;

class TokenStream;

using IdArray = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;

/// A tfc_session and the lock that serializes calls on it.
struct SessionHandle {
  tfc_session *session = nullptr;
  std::mutex lock;
  ~SessionHandle() { tfc_session_release(session); }
};

class Session {
public:
  Session(const Plan &plan, int threads, const std::string &device);

  /// tfc_session_run of `function` on `inputs` ([(name, array)]): [(name, array)] outputs.
  py::list run(const std::string &function, const py::list &inputs);

  /// Starts tfc_session_generate in a thread of its own; the stream yields (row, token) pairs.
  /// `prompts` are int64 token ids, prompt i being tokens[offsets[i] .. offsets[i+1]); `inputs`
  /// the model's other inputs ([(name, array)], copied); `options` a dict of
  /// tfc_generate_options members by name (strategy as 0/1/2).
  std::shared_ptr<TokenStream> generate(const IdArray &tokens,
                                        const IdArray &offsets,
                                        const py::list &inputs, const py::dict &options);

  void setProfiling(bool on);
  /// The per-kernel profile of `function`: [{kind, name, calls, total_ms}].
  py::list profile(const std::string &function);
  void resetProfile();

  /// The data addresses of the last run's inputs as the runtime got them (tests check that
  /// the arrays were passed without a copy).
  std::vector<uintptr_t> lastInputAddresses() const { return lastInputAddresses_; }

private:
  std::shared_ptr<SessionHandle> handle_;
  std::vector<uintptr_t> lastInputAddresses_;
};

} // namespace tfc::python

#endif // TFC_PYTHON_SESSION_H
