//===- Status.cpp - C API statuses as StatusError ------------------------------------------===//
#include "Status.h"

namespace tfc::python {

void check(tfc_status *status) {
  if (!status)
    return;
  tfc_code code = tfc_status_code(status);
  std::string message = tfc_status_message(status);
  tfc_status_free(status);
  throw StatusError(code, message);
}

void invalidArgument(const std::string &message) {
  throw StatusError(TFC_INVALID_ARGUMENT, message);
}

} // namespace tfc::python
