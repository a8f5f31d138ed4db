//===- Importer.cpp - a Hugging Face checkpoint directory -> model.fbs ----===//
//
// config.json -> architecture (Architectures.cpp) over model.safetensors
// (SafeTensors.cpp; sharded checkpoints via model.safetensors.index.json are
// not supported yet), tokenizer files (TokenizerFiles.cpp), then the model.fbs
// bytes (ModelFbsWriter.cpp), checked by frontends/fbs's reader before they are
// handed out.
//
//===----------------------------------------------------------------------===//
#include "Internal.h"

#include "tfc/frontends/FbsFrontend.h"
#include "tfc/support/OutputFile.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tfc::hf {

namespace fs = std::filesystem;

bool isHfCheckpointDir(const std::string &path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && fs::is_regular_file(fs::path(path) / "config.json", ec);
}

Status importCheckpoint(const std::string &dir, std::vector<uint8_t> &modelFbs) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return fail(dir, "not a directory");
  std::string configPath = (fs::path(dir) / "config.json").string();
  if (!fs::is_regular_file(configPath, ec))
    return fail(dir, "no config.json (not a Hugging Face checkpoint directory)");
  llvm::json::Value config(nullptr);
  if (Status s = readJsonFile(configPath, config); !s.ok())
    return s;
  if (!config.getAsObject())
    return fail(configPath, "not a JSON object");
  std::string weightsPath = (fs::path(dir) / "model.safetensors").string();
  if (!fs::is_regular_file(weightsPath, ec)) {
    if (fs::exists(fs::path(dir) / "model.safetensors.index.json"))
      return fail(dir, "sharded checkpoints (model.safetensors.index.json) are not supported");
    return fail(dir, "no model.safetensors (only safetensors weights are supported)");
  }
  // model_type first, so that an unsupported one is reported before the weights are read.
  ImportedModel model;
  auto type = config.getAsObject()->getString("model_type");
  if (!type)
    return fail(configPath, "missing key 'model_type'");
  if (*type != "bert" && *type != "distilbert" && *type != "gpt2")
    return fail("config.json", "model_type '" + type->str() +
                                   "' is not supported (supported: bert, distilbert, gpt2)");
  SafeTensors weights;
  if (Status s = readSafeTensors(weightsPath, weights); !s.ok())
    return s;
  if (Status s = mapArchitecture(dir, *config.getAsObject(), weights, model); !s.ok())
    return s;
  if (Status s = readTokenizerFiles(dir, type->str(), model); !s.ok())
    return s;
  std::vector<uint8_t> bytes = writeModelFbs(model);
  // What frontends/fbs would reject (e.g. num_heads not dividing the width) is reported now,
  // not when the written file is compiled.
  tfc::fbs::Model check;
  if (tfc::fbs::Status s = tfc::fbs::loadModelBuffer(bytes, dir + " (imported)", check); !s.ok())
    return {s.error};
  modelFbs = std::move(bytes);
  return {};
}

std::vector<std::string> checkpointFiles(const std::string &dir) {
  static const char *const kFiles[] = {
      "config.json",           "model.safetensors",        "model.safetensors.index.json",
      "tokenizer.json",        "tokenizer_config.json",    "special_tokens_map.json",
      "added_tokens.json",     "vocab.txt",                "vocab.json",
      "merges.txt",            "sentence_bert_config.json", "modules.json",
      "1_Pooling/config.json"};
  std::vector<std::string> out;
  std::error_code ec;
  for (const char *name : kFiles) {
    fs::path p = fs::path(dir) / name;
    if (fs::is_regular_file(p, ec))
      out.push_back(p.string());
  }
  // Shards named by an index (model-00001-of-00002.safetensors).
  for (const auto &entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("model-", 0) == 0 && entry.path().extension() == ".safetensors")
      out.push_back(entry.path().string());
  }
  return out;
}

Status importCheckpointToFile(const std::string &dir, const std::string &outPath) {
  std::vector<uint8_t> bytes;
  if (Status s = importCheckpoint(dir, bytes); !s.ok())
    return s;
  if (std::string e = tfc::support::writeFileAtomically(outPath, bytes.data(), bytes.size());
      !e.empty())
    return {e};
  return {};
}

} // namespace tfc::hf
