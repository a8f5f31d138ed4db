//===- Status.h - C API statuses on their way to Python (tfc.Error) ------------------------===//
//
// Every fallible C API call of the bindings goes through check(): a non-NULL tfc_status becomes a
// StatusError (code + the C API's message), which the module's exception translator turns into
// the Python exception tfc.Error with `.code` set to the code's name ("TFC_NOT_FOUND"). Errors
// the bindings find themselves (an array numpy has no tfc dtype for) use the same path.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_PYTHON_STATUS_H
#define TFC_PYTHON_STATUS_H

#include "tfc/tfc_runtime.h"

#include <stdexcept>
#include <string>

namespace tfc::python {

class StatusError : public std::runtime_error {
public:
  StatusError(tfc_code code, const std::string &message)
      : std::runtime_error(message), code_(code) {}
  tfc_code code() const { return code_; }

private:
  tfc_code code_;
};

/// Frees `status`; throws StatusError with its code and message when it is not NULL.
void check(tfc_status *status);

/// Throws StatusError(TFC_INVALID_ARGUMENT, message).
[[noreturn]] void invalidArgument(const std::string &message);

} // namespace tfc::python

#endif // TFC_PYTHON_STATUS_H
