//===- ReportingNew.cpp - the `tfc` program's operator new: says what it could not get ---===//
//
// The replaceable global operator new with the standard behaviour (malloc, else the
// new-handler and again, else std::bad_alloc), except that the size of a request that fails
// is recorded first, so that "out of memory" messages say how much was asked for
// (tfc/driver/OutOfMemory.h). The standard library's operator new[] and nothrow forms call
// this one; memory still goes back through the default operator delete (free).
//
//===----------------------------------------------------------------------===//
#include "tfc/driver/OutOfMemory.h"

#include <cstdlib>
#include <new>

void *operator new(std::size_t size) {
  if (size == 0)
    size = 1;
  for (;;) {
    if (void *p = std::malloc(size))
      return p;
    if (std::new_handler handler = std::get_new_handler()) {
      handler();
      continue;
    }
    tfc::driver::noteFailedAllocation(size);
    throw std::bad_alloc();
  }
}
