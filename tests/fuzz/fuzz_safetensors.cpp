//===- fuzz_safetensors.cpp - libFuzzer: the safetensors reader (frontends/hf) -----------------===//
//
// Input: a .safetensors file's bytes. parseSafeTensors checks the header length, the JSON
// header, dtypes, shapes and offsets; every tensor it accepts is converted to f32 (which reads
// all of its bytes). Any Status is fine; a crash or a sanitizer report is a finding.
//
//===----------------------------------------------------------------------------------------===//
#include "tfc/frontends/HfImporter.h"

#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tfc::hf::SafeTensors file;
  if (!tfc::hf::parseSafeTensors(std::vector<uint8_t>(data, data + size), "fuzz.safetensors",
                                 file)
           .ok())
    return 0;
  std::vector<float> values;
  for (const auto &entry : file.tensors)
    (void)tfc::hf::tensorToF32(file, entry.first, values);
  return 0;
}
