//===- OutOfMemory.h - "out of memory" as a Status, with the size asked for -*- C++ -*-===//
//
// The driver's entry points (compileModel, buildPlan, writePlanFile) catch std::bad_alloc and
// return a Status: a model too large for the memory at hand (or a `ulimit -v`) is an error
// message, not `terminate called after throwing an instance of 'std::bad_alloc'`. The size of
// the request that failed is known to an operator new that records it: the `tfc` program
// installs one (tools/tfc/ReportingNew.cpp); elsewhere the message says the size is unknown.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_DRIVER_OUTOFMEMORY_H
#define TFC_DRIVER_OUTOFMEMORY_H

#include <cstddef>
#include <string>

namespace tfc::driver {

/// Records the size of an allocation that failed (called by an operator new; never throws).
void noteFailedAllocation(std::size_t bytes) noexcept;

/// "out of memory while <what>: a request for N bytes failed" (or "... (the size of the failed
/// request is unknown)"); forgets the recorded size.
std::string outOfMemoryMessage(const std::string &what);

} // namespace tfc::driver

#endif // TFC_DRIVER_OUTOFMEMORY_H
