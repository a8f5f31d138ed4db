//===- Importer.cpp - a Hugging Face checkpoint directory -> model.fbs ----===//
//
// config.json -> architecture (Architectures.cpp) over model.safetensors or the
// shards model.safetensors.index.json names (SafeTensors.cpp), tokenizer files
// (TokenizerFiles.cpp), then the model.fbs bytes (ModelFbsWriter.cpp), checked
// by frontends/fbs's reader before they are handed out.
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

namespace {

const char *dtypeName(DType t) {
  switch (t) {
  case DType::F32: return "F32";
  case DType::F16: return "F16";
  case DType::BF16: return "BF16";
  case DType::I64: return "I64";
  }
  return "?";
}

/// Merges `shard`'s tensors into `out` (a tensor in two shards is an error).
Status mergeShard(SafeTensors &&shard, const std::string &indexPath, SafeTensors &out) {
  for (auto &[name, t] : shard.tensors)
    if (!out.tensors.emplace(name, t).second)
      return fail(indexPath, "tensor '" + name + "' is in two shards (the second: " +
                                 shard.path + ")");
  out.shards.push_back(shard.bytes);
  return {};
}

Status readShards(const std::string &dir, SafeTensors &out) {
  std::string indexPath = (fs::path(dir) / "model.safetensors.index.json").string();
  llvm::json::Value index(nullptr);
  if (Status s = readJsonFile(indexPath, index); !s.ok())
    return s;
  const llvm::json::Object *root = index.getAsObject();
  const llvm::json::Object *map = root ? root->getObject("weight_map") : nullptr;
  if (!map)
    return fail(indexPath, "missing key 'weight_map' (an object tensor name -> shard file)");
  std::map<std::string, std::vector<std::string>> byFile;  // shard -> the tensors it holds
  for (const auto &kv : *map) {
    auto file = kv.second.getAsString();
    if (!file || file->empty() || file->contains('/') || file->contains('\\') ||
        *file == "..")
      return fail(indexPath, "weight_map['" + kv.first.str() +
                                 "'] is not a file name in the checkpoint directory");
    byFile[file->str()].push_back(kv.first.str());
  }
  if (byFile.empty())
    return fail(indexPath, "weight_map is empty");
  out = SafeTensors();
  out.path = indexPath;
  for (const auto &[file, names] : byFile) {
    SafeTensors shard;
    if (Status s = readSafeTensors((fs::path(dir) / file).string(), shard); !s.ok())
      return s;
    for (const std::string &name : names)
      if (!shard.tensors.count(name))
        return fail(indexPath, "weight_map puts tensor '" + name + "' in " + file +
                                   ", which does not hold it");
    if (Status s = mergeShard(std::move(shard), indexPath, out); !s.ok())
      return s;
  }
  out.bytes = out.shards.front();
  return {};
}

} // namespace

Status readCheckpointWeights(const std::string &dir, SafeTensors &out,
                             std::vector<std::string> &notes) {
  std::error_code ec;
  std::string single = (fs::path(dir) / "model.safetensors").string();
  Status s;
  if (fs::is_regular_file(single, ec))
    s = readSafeTensors(single, out);
  else if (fs::is_regular_file(fs::path(dir) / "model.safetensors.index.json", ec))
    s = readShards(dir, out);
  else
    return fail(dir, "no model.safetensors or model.safetensors.index.json (only safetensors "
                     "weights are supported)");
  if (!s.ok())
    return s;
  std::map<std::string, int64_t> converted;  // dtype -> tensors
  for (const auto &[name, t] : out.tensors)
    if (t.dtype == DType::F16 || t.dtype == DType::BF16)
      ++converted[dtypeName(t.dtype)];
  for (const auto &[dtype, count] : converted)
    notes.push_back(out.path + ": " + std::to_string(count) + " " + dtype +
                    " tensors converted to F32 (model.fbs holds F32 weights)");
  return {};
}

Status importCheckpoint(const std::string &dir, std::vector<uint8_t> &modelFbs,
                        std::vector<std::string> *notes) {
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
  // model_type first, so that an unsupported one is reported before the weights are read.
  ImportedModel model;
  auto type = config.getAsObject()->getString("model_type");
  if (!type)
    return fail(configPath, "missing key 'model_type'");
  if (!isSupportedModelType(*type))
    return fail("config.json", "model_type '" + type->str() + "' is not supported (supported: " +
                                   supportedModelTypes() + ")");
  SafeTensors weights;
  if (Status s = readCheckpointWeights(dir, weights, model.notes); !s.ok())
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
  if (notes)
    *notes = std::move(model.notes);
  return {};
}

std::vector<std::string> checkpointFiles(const std::string &dir) {
  static const char *const kFiles[] = {
      "config.json",           "model.safetensors",        "model.safetensors.index.json",
      "tokenizer.json",        "tokenizer_config.json",    "special_tokens_map.json",
      "added_tokens.json",     "vocab.txt",                "vocab.json",
      "merges.txt",            "sentence_bert_config.json", "modules.json",
      "1_Pooling/config.json", "tokenizer.model",          "spiece.model",
      "sentencepiece.bpe.model"};
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

Status importCheckpointToFile(const std::string &dir, const std::string &outPath,
                              std::vector<std::string> *notes) {
  std::vector<uint8_t> bytes;
  if (Status s = importCheckpoint(dir, bytes, notes); !s.ok())
    return s;
  if (std::string e = tfc::support::writeFileAtomically(outPath, bytes.data(), bytes.size());
      !e.empty())
    return {e};
  return {};
}

} // namespace tfc::hf
