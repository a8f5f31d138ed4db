//===- fuzz_model_fbs.cpp - libFuzzer: the model.fbs reader (frontends/fbs) --------------------===//
//
// Input: a model.fbs file's bytes. loadModelBuffer verifies and validates it (hyperparameters,
// weight convention, tokenizer fields); a valid model also has its architecture counted and its
// weight convention listed. Any Status is fine; a crash or a sanitizer report is a finding.
//
//===----------------------------------------------------------------------------------------===//
#include "tfc/frontends/FbsFrontend.h"

#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tfc::fbs::Model model;
  tfc::fbs::Status s =
      tfc::fbs::loadModelBuffer(std::vector<uint8_t>(data, data + size), "fuzz.fbs", model);
  if (!s.ok())
    return 0;
  (void)tfc::fbs::validateModel(model);
  (void)tfc::fbs::countArchitecture(model.hparams);
  (void)tfc::fbs::weightConvention(model.hparams);
  return 0;
}
