//===- Error.h - the runtime's internal error type -------------------------------------------===//
//
// Inside the runtime, a failure throws tfc::rt::Error (a code from tfc_runtime.h plus a message);
// the C API (CApi.cpp) catches it, and every other exception, and turns it into a tfc_status.
// Nothing thrown here ever crosses the C API.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_ERROR_H
#define TFC_RUNTIME_ERROR_H

#include "tfc/tfc_runtime.h"

#include <cstdarg>
#include <stdexcept>
#include <string>

namespace tfc::rt {

class Error : public std::runtime_error {
public:
  Error(tfc_code code, std::string message)
      : std::runtime_error(std::move(message)), code_(code) {}
  tfc_code code() const { return code_; }

private:
  tfc_code code_;
};

/// printf-style formatting into a std::string.
std::string format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/// Throws Error(code, formatted message).
[[noreturn]] void fail(tfc_code code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

} // namespace tfc::rt

#endif // TFC_RUNTIME_ERROR_H
