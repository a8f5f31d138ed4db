//===- fuzz_hf_json.cpp - libFuzzer: config.json and tokenizer.json readers (frontends/hf) -----===//
//
// Input: byte 0 picks the file, the rest is its text.
//   bit 0 = 0: tokenizer.json, read by readTokenizerFiles as a "bert" (bit 1 = 0) or "gpt2"
//              checkpoint's (WordPiece / byte-level BPE models, added tokens, normalizers, and
//              the runtime's BPE rules, checkByteLevelBpe);
//   bit 0 = 1: config.json, parsed (nesting check, llvm::json) and mapped by mapArchitecture
//              against the weights of tests/hf/checkpoints/bert (hyperparameters, weight names
//              and shapes).
// The file is written into a scratch directory of this process (the readers take a
// checkpoint directory). Any Status is fine; a crash or a sanitizer report is a finding.
//
//===----------------------------------------------------------------------------------------===//
#include "Internal.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const std::string dir = [] {
    const char *tmp = std::getenv("TMPDIR");
    std::string d = std::string(tmp ? tmp : "/tmp") + "/tfc_fuzz_hf_" + std::to_string(getpid());
    fs::create_directories(d);
    return d;
  }();
  static const tfc::hf::SafeTensors *weights = [] {
    auto *w = new tfc::hf::SafeTensors;
    (void)tfc::hf::readSafeTensors(TFC_SOURCE_DIR "/tests/hf/checkpoints/bert/model.safetensors",
                                   *w);
    return w;
  }();
  if (size == 0)
    return 0;
  const uint8_t mode = data[0];
  const std::string text(reinterpret_cast<const char *>(data + 1), size - 1);
  tfc::hf::ImportedModel model;
  if ((mode & 1) == 0) {
    {
      std::ofstream f(dir + "/tokenizer.json", std::ios::binary | std::ios::trunc);
      f << text;
    }
    (void)tfc::hf::readTokenizerFiles(dir, (mode & 2) ? "gpt2" : "bert", model);
  } else {
    llvm::json::Value config(nullptr);
    if (!tfc::hf::parseJsonText(text, dir + "/config.json", "the file", config).ok())
      return 0;
    if (const llvm::json::Object *o = config.getAsObject())
      (void)tfc::hf::mapArchitecture(dir, *o, *weights, model);
  }
  return 0;
}
