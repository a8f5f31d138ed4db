//===- HfImporter.h - Hugging Face checkpoint directory -> model.fbs -*- C++ -*-===//
//
// Imports a Hugging Face checkpoint directory (config.json, model.safetensors or
// its shards, tokenizer files) of a supported architecture (bert, distilbert,
// roberta, xlm-roberta, albert, electra, gpt2, llama, mistral, qwen2, phi, gemma)
// into a tfc model description: the bytes of a model.fbs file (format 2.0,
// producer "tfc import") that frontends/fbs reads like any other.
//
// Errors never abort or throw: they come back as a message naming the file and
// the key or tensor at fault, e.g.
//   "config.json: model_type 't5' is not supported (supported: albert, bert, ...)".
//
//===----------------------------------------------------------------------===//
#ifndef TFC_FRONTENDS_HFIMPORTER_H
#define TFC_FRONTENDS_HFIMPORTER_H

#include "tfc/support/Status.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tfc::hf {

using Status = ::tfc::support::Status; // empty `error`: success (tfc/support/Status.h)

//===----------------------------------------------------------------------===//
// safetensors
//===----------------------------------------------------------------------===//

enum class DType { F32, F16, BF16, I64 };

/// One tensor of a safetensors file: `data` points into SafeTensors::bytes.
struct SafeTensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const uint8_t *data = nullptr;
  uint64_t size = 0;  // bytes
};

/// A checked safetensors file (8-byte little-endian header length, JSON header,
/// data section). `__metadata__` is ignored.
struct SafeTensors {
  std::string path;
  std::shared_ptr<const std::vector<uint8_t>> bytes;
  std::map<std::string, SafeTensor> tensors;
  /// A sharded checkpoint's other files, which `tensors` also point into.
  std::vector<std::shared_ptr<const std::vector<uint8_t>>> shards;
};

/// Parses and checks a safetensors image: header length vs size, well-formed
/// JSON, known dtypes, begin <= end, offsets within the data section,
/// size == product(shape) * dtype size, no overlaps. `name` is used in messages.
Status parseSafeTensors(std::vector<uint8_t> bytes, const std::string &name, SafeTensors &out);
Status readSafeTensors(const std::string &path, SafeTensors &out);

/// The tensor's elements converted to f32 (F32/F16/BF16; I64 is rejected).
Status tensorToF32(const SafeTensors &file, const std::string &name, std::vector<float> &out);

//===----------------------------------------------------------------------===//
// The importer
//===----------------------------------------------------------------------===//

/// True when `path` is a directory holding a config.json.
bool isHfCheckpointDir(const std::string &path);

/// The files of `dir` that the importer reads (config.json, weights, tokenizer files, ...),
/// those that exist: what an output path must never be.
std::vector<std::string> checkpointFiles(const std::string &dir);

/// Imports the checkpoint directory `dir` into model.fbs bytes. `notes`, when given, receives
/// what the user should know about a successful import (weights converted from BF16/F16 to
/// F32, a tokenizer the runtime does not implement left out: the model then takes ids only).
Status importCheckpoint(const std::string &dir, std::vector<uint8_t> &modelFbs,
                        std::vector<std::string> *notes = nullptr);

/// Imports `dir` and writes model.fbs to `outPath` (temp file + rename).
Status importCheckpointToFile(const std::string &dir, const std::string &outPath,
                              std::vector<std::string> *notes = nullptr);

} // namespace tfc::hf

#endif // TFC_FRONTENDS_HFIMPORTER_H
