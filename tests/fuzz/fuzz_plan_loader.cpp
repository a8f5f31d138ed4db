//===- fuzz_plan_loader.cpp - libFuzzer: tfc_plan_open + verify + describe ---------------------===//
//
// Input: a plan file's bytes. The target writes them to a file (the loader maps a path), opens
// it with any_target (so cuda plans are checked too), verifies the weights' checksums and reads
// everything --describe shows through the C API. A 2.3 plan's FlatBuffer checksum is restated
// first, so that mutations reach the Verifier and the structural checks behind it (the checksum
// itself: runtime_loader_test FlatBufferChecksumCatchesEveryFlip). Any status is fine; a crash,
// a sanitizer report or a leak is a finding.
//
//===----------------------------------------------------------------------------------------===//
#include "tfc/schema/PlanFile.h"
#include "tfc/tfc_runtime.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

std::string scratchPath() {
  const char *dir = std::getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/tfc_fuzz_plan_" + std::to_string(getpid()) + ".plan";
}

void describe(tfc_plan *plan) {
  tfc_plan_info info;
  tfc_plan_get_info(plan, &info);
  (void)tfc_plan_precision(plan);
  for (size_t f = 0, nf = tfc_plan_num_functions(plan); f < nf; ++f) {
    const char *name = tfc_plan_function_name(plan, f);
    size_t ni = 0, no = 0;
    if (tfc_status *s = tfc_plan_num_ports(plan, name, &ni, &no)) {
      tfc_status_free(s);
      continue;
    }
    tfc_port_info port;
    for (size_t i = 0; i < ni; ++i)
      tfc_status_free(tfc_plan_input_info(plan, name, i, &port));
    for (size_t i = 0; i < no; ++i)
      tfc_status_free(tfc_plan_output_info(plan, name, i, &port));
  }
  tfc_generation_info gen;
  tfc_plan_get_generation_info(plan, &gen);
  (void)tfc_plan_vocabulary_size(plan);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const std::string path = scratchPath();
  std::vector<uint8_t> bytes(data, data + size);
  tfc::plan::PlanFileHeader h;
  if (size >= sizeof h) {
    std::memcpy(&h, bytes.data(), sizeof h);
    if (h.formatMinor >= tfc::plan::kPlanChecksumMinor && h.planOffset == sizeof h &&
        h.planSize <= size - sizeof h) {
      h.planChecksum = tfc::plan::fnv1a64(bytes.data() + sizeof h, size_t(h.planSize));
      std::memcpy(bytes.data(), &h, sizeof h);
    }
  }
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return 0;
  if (!bytes.empty())
    std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  tfc_plan_options options;
  tfc_plan_options_init(&options);
  options.any_target = 1;
  tfc_plan *plan = nullptr;
  if (tfc_status *s = tfc_plan_open(path.c_str(), &options, &plan)) {
    (void)tfc_status_message(s);
    tfc_status_free(s);
    return 0;
  }
  tfc_status_free(tfc_plan_verify(plan));
  describe(plan);
  tfc_plan_release(plan);
  return 0;
}
