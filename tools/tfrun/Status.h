//===- Status.h - tfrun's error value: tfc::support::Status ---------------===//
//
// Every fallible helper of tfrun returns a Status (tfc/support/Status.h: an empty `error` is
// success); main() prints "tfrun: error: <error>" and exits nonzero. Messages are lowercase, name
// the file or tensor at fault and carry no final period.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_TOOLS_TFRUN_STATUS_H
#define TFC_TOOLS_TFRUN_STATUS_H

#include "tfc/support/Status.h"

namespace tfc::tfrun {

using Status = ::tfc::support::Status;

} // namespace tfc::tfrun

#endif // TFC_TOOLS_TFRUN_STATUS_H
