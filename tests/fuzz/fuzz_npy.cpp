//===- fuzz_npy.cpp - libFuzzer: the .npy reader (support/lib/Npy.cpp) -------------------------===//
//
// Input: a .npy file's bytes (tfrun --input, --calibrate). parseNpy checks the magic, version,
// header dict (descr, fortran_order, shape) and the data size; an accepted array is written
// back (encodeNpy) and read again, which must give the same array.
//
//===----------------------------------------------------------------------------------------===//
#include "tfc/support/Npy.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tfc::support::NpyArray a;
  if (!tfc::support::parseNpy(data, size, "fuzz.npy", a).ok())
    return 0;
  std::string again = tfc::support::encodeNpy(a.dtype, a.shape, a.data.data());
  tfc::support::NpyArray b;
  if (!tfc::support::parseNpy(again.data(), again.size(), "again.npy", b).ok() ||
      b.dtype != a.dtype || b.shape != a.shape || b.data != a.data)
    std::abort(); // a round trip that changes the array
  return 0;
}
