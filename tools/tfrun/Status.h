//===- Status.h - tfrun's error value: empty on success, else a message ---===//
//
// Every fallible helper of tfrun returns a Status; main() prints
// "tfrun: error: <message>" and exits nonzero. Messages are lowercase, name the
// file or tensor at fault and carry no final period.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_TOOLS_TFRUN_STATUS_H
#define TFC_TOOLS_TFRUN_STATUS_H

#include <string>
#include <utility>

namespace tfc::tfrun {

struct [[nodiscard]] Status {
  std::string message; // empty: success

  bool ok() const { return message.empty(); }
  static Status success() { return {}; }
  static Status error(std::string message) { return Status{std::move(message)}; }
};

} // namespace tfc::tfrun

#endif // TFC_TOOLS_TFRUN_STATUS_H
