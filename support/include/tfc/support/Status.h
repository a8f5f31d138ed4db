//===- Status.h - the result of a fallible call: ok, or a message naming the problem -*- C++ -*-===//
//
// The one status type of tfc's C++ code outside the runtime (frontends, plan writer, tools,
// support): an empty `error` is success. Messages are lowercase, name the file, tensor or field
// at fault and carry no final period; callers print them (tfc: "tfc: error: ...", tfrun:
// "tfrun: error: ..."). Nothing returning a Status throws on bad input.
//
//   Status readThing(const std::string &path, Thing &out) {
//     if (!exists(path))
//       return Status::failure("cannot open " + path);
//     ...
//     return Status::success();
//   }
//
// The runtime's C API has its own status (tfc_status, with a code: tfc_runtime.h), and the
// runtime's C++ inside throws tfc::rt::Error that CApi.cpp turns into one.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_SUPPORT_STATUS_H
#define TFC_SUPPORT_STATUS_H

#include <string>
#include <utility>

namespace tfc::support {

struct [[nodiscard]] Status {
  std::string error; // empty: success

  bool ok() const { return error.empty(); }
  static Status success() { return {}; }
  static Status failure(std::string message) { return Status{std::move(message)}; }
};

} // namespace tfc::support

#endif // TFC_SUPPORT_STATUS_H
