//===- ModelReader.cpp - model.fbs bytes -> a validated Model --------------===//
//
// Reads a file into memory and checks it in layers, each failing with a
// message that names the file and the field or tensor at fault:
//   1. the envelope: size, file identifier "TFCM", the root table, the format
//      version (checked before the full verification: another major version
//      may not even verify against this schema), the required hparams;
//   2. the FlatBuffers Verifier over the whole buffer (no pointer is followed
//      before it passed);
//   3. the contents: hyperparameters (HyperparameterRules.cpp), special
//      tokens, vocabulary, every tensor (dtype F32, positive dims, data size
//      and alignment), then the family's weight convention (WeightConvention.cpp).
// The bytes stay alive in Model::buffer; Weight::data points into them.
//
//===----------------------------------------------------------------------===//
#include "FrontendInternal.h"

#include "tfc/schema/model_generated.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace fb = tfc::model;

namespace tfc::fbs {
namespace {

constexpr const char *kIdentifier = "TFCM";
// The root offset and the identifier.
constexpr size_t kMinFileSize = 2 * sizeof(flatbuffers::uoffset_t);

//===----------------------------------------------------------------------===//
// Files
//===----------------------------------------------------------------------===//

Status readFileBytes(const std::string &path, std::vector<uint8_t> &bytes) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st))
    return fail(path, "cannot open file (" +
                          (ec ? ec.message() : std::string("No such file or directory")) + ")");
  if (fs::is_directory(st))
    return fail(path, "cannot open file (it is a directory)");

  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail(path, llvm::Twine("cannot open file (") + std::strerror(errno) + ")");
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size < 0)
    return fail(path, "cannot read file (cannot determine its size)");
  if (static_cast<uint64_t>(size) >= FLATBUFFERS_MAX_BUFFER_SIZE)
    return fail(path, "file is too large (" + llvm::Twine(static_cast<uint64_t>(size)) +
                          " bytes; a model file is a FlatBuffer of less than 2 GiB)");
  in.seekg(0, std::ios::beg);
  bytes.resize(static_cast<size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char *>(bytes.data()), size))
    return fail(path, "cannot read file (read " + llvm::Twine(in.gcount()) + " of " +
                          llvm::Twine(static_cast<int64_t>(size)) + " bytes)");
  return {};
}

//===----------------------------------------------------------------------===//
// Envelope
//===----------------------------------------------------------------------===//

/// The four identifier bytes, non-printable ones as \xNN.
std::string printableIdentifier(const uint8_t *bytes) {
  std::string out;
  for (int i = 0; i < 4; ++i) {
    if (std::isprint(bytes[i])) {
      out += static_cast<char>(bytes[i]);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", bytes[i]);
      out += hex;
    }
  }
  return out;
}

/// The root table when its offset and vtable lie inside the buffer, else null.
const flatbuffers::Table *probeRootTable(const uint8_t *data, size_t size) {
  flatbuffers::Verifier verifier(data, size);
  flatbuffers::uoffset_t offset = verifier.VerifyOffset(0);
  if (!offset || !verifier.VerifyTableStart(data + offset))
    return nullptr;
  return reinterpret_cast<const flatbuffers::Table *>(data + offset);
}

Status checkVersion(const flatbuffers::Table &root, const uint8_t *data, size_t size,
                    const std::string &file) {
  flatbuffers::Verifier verifier(data, size);
  if (!root.VerifyField<uint32_t>(verifier, fb::Model::VT_FORMAT_MAJOR, 4) ||
      !root.VerifyField<uint32_t>(verifier, fb::Model::VT_FORMAT_MINOR, 4))
    return fail(file, "corrupted model file (the format version lies outside the file)");
  uint32_t major = root.GetField<uint32_t>(fb::Model::VT_FORMAT_MAJOR, 1);
  uint32_t minor = root.GetField<uint32_t>(fb::Model::VT_FORMAT_MINOR, 0);
  if (major < kModelFormatOldestMajor || major > kModelFormatMajor)
    return fail(file, "model format version " + llvm::Twine(major) + "." + llvm::Twine(minor) +
                          " is not supported by this reader (supports " +
                          llvm::Twine(kModelFormatOldestMajor) + ".x and " +
                          llvm::Twine(kModelFormatMajor) + ".x)");
  return {};
}

/// Layer 1 and 2: on success `root` is a fully verified Model.
Status checkEnvelope(const std::vector<uint8_t> &bytes, const std::string &file,
                     const fb::Model *&root) {
  const uint8_t *data = bytes.data();
  size_t size = bytes.size();
  if (size < kMinFileSize)
    return fail(file, "file is too small to be a tfc model (" + llvm::Twine(size) + " bytes)");
  if (size >= FLATBUFFERS_MAX_BUFFER_SIZE)
    return fail(file, "file is too large (" + llvm::Twine(size) +
                          " bytes; a model file is a FlatBuffer of less than 2 GiB)");
  if (!flatbuffers::BufferHasIdentifier(data, kIdentifier))
    return fail(file, "not a tfc model file (identifier '" +
                          printableIdentifier(data + sizeof(flatbuffers::uoffset_t)) +
                          "', expected '" + kIdentifier + "')");
  const flatbuffers::Table *table = probeRootTable(data, size);
  if (!table)
    return fail(file, "corrupted or truncated model file (no valid root table in its " +
                          llvm::Twine(size) + " bytes)");
  if (Status s = checkVersion(*table, data, size, file); !s.ok())
    return s;
  if (!table->GetOptionalFieldOffset(fb::Model::VT_HPARAMS))
    return fail(file, "missing hparams (the required Hyperparameters table)");

  flatbuffers::Verifier verifier(data, size);
  if (!verifier.VerifyBuffer<fb::Model>(kIdentifier))
    return fail(file, "corrupted or truncated model file (FlatBuffers verification failed on "
                      "its " + llvm::Twine(size) + " bytes)");
  root = fb::GetModel(data);
  return {};
}

//===----------------------------------------------------------------------===//
// Contents
//===----------------------------------------------------------------------===//

Status checkTokenId(int32_t id, const char *field, int64_t vocabSize, const std::string &file) {
  if (id == -1 || (id >= 0 && id < vocabSize))
    return {};
  return fail(file, llvm::Twine("special_tokens.") + field + " is " + llvm::Twine(id) +
                        ", expected -1 (none) or an id in [0, " + llvm::Twine(vocabSize) + ")");
}

Status readSpecialTokens(const fb::SpecialTokens *table, int64_t vocabSize,
                         const std::string &file, SpecialTokens &out) {
  if (!table)
    return {};  // all -1
  SpecialTokens t{table->start_id(), table->end_id(), table->unk_id(), table->pad_id()};
  const std::pair<int32_t, const char *> ids[] = {
      {t.startId, "start_id"}, {t.endId, "end_id"}, {t.unkId, "unk_id"}, {t.padId, "pad_id"}};
  for (const auto &[id, field] : ids)
    if (Status s = checkTokenId(id, field, vocabSize, file); !s.ok())
      return s;
  out = t;
  return {};
}

Status readVocabulary(const fb::Vocabulary *table, int64_t vocabSize, const std::string &file,
                      std::vector<std::string> &out) {
  if (!table || !table->tokens())
    return {};
  const auto *tokens = table->tokens();
  if (static_cast<int64_t>(tokens->size()) != vocabSize)
    return fail(file, "vocabulary has " + llvm::Twine(tokens->size()) +
                          " tokens, expected vocab_size " + llvm::Twine(vocabSize));
  out.clear();
  out.reserve(tokens->size());
  for (flatbuffers::uoffset_t i = 0; i < tokens->size(); ++i) {
    const flatbuffers::String *token = tokens->Get(i);
    if (!token)
      return fail(file, "vocabulary token " + llvm::Twine(i) + " is missing");
    out.push_back(token->str());
  }
  return {};
}

Status readTokenizer(const fb::Tokenizer *table, const std::string &file, Tokenizer &out) {
  if (!table)
    return {};
  auto kind = static_cast<int32_t>(table->kind());
  if (kind < static_cast<int32_t>(fb::TokenizerKind::MIN) ||
      kind > static_cast<int32_t>(fb::TokenizerKind::MAX))
    return fail(file, "tokenizer.kind has unknown value " + llvm::Twine(kind));
  auto str = [](const flatbuffers::String *s) { return s ? s->str() : std::string(); };
  Tokenizer t;
  t.kind = static_cast<TokenizerKind>(kind);
  t.lowercase = table->lowercase();
  t.stripAccents = table->strip_accents();
  t.handleChineseChars = table->handle_chinese_chars();
  t.cleanText = table->clean_text();
  t.continuingSubwordPrefix = str(table->continuing_subword_prefix());
  t.maxInputCharsPerWord = table->max_input_chars_per_word();
  t.unkToken = str(table->unk_token());
  t.clsToken = str(table->cls_token());
  t.sepToken = str(table->sep_token());
  t.padToken = str(table->pad_token());
  if (const auto *merges = table->merges()) {
    t.merges.reserve(merges->size());
    for (flatbuffers::uoffset_t i = 0; i < merges->size(); ++i) {
      if (!merges->Get(i))
        return fail(file, "tokenizer.merges[" + llvm::Twine(i) + "] is missing");
      t.merges.push_back(merges->Get(i)->str());
    }
  }
  t.addPrefixSpace = table->add_prefix_space();
  t.maxLength = table->max_length();
  if (t.maxLength < 0)
    return fail(file, "tokenizer.max_length is " + llvm::Twine(t.maxLength) + ", expected >= 0");
  if (const auto *added = table->added_tokens())
    for (flatbuffers::uoffset_t i = 0; i < added->size(); ++i) {
      const fb::AddedToken *a = added->Get(i);
      if (!a || !a->content() || a->content()->size() == 0)
        return fail(file, "tokenizer.added_tokens[" + llvm::Twine(i) + "] has no content");
      AddedToken token;
      token.content = a->content()->str();
      token.special = a->special();
      token.singleWord = a->single_word();
      token.lstrip = a->lstrip();
      token.rstrip = a->rstrip();
      token.normalized = a->normalized();
      t.addedTokens.push_back(std::move(token));
    }
  out = std::move(t);
  return {};
}

/// Dims >= 1 and an element count that fits; fills `shape`.
Status readShape(const fb::Tensor &t, const std::string &name, const std::string &file,
                 std::vector<int64_t> &shape, int64_t &numElements) {
  const flatbuffers::Vector<int64_t> *dims = t.shape();
  if (!dims)
    return fail(file, "weight '" + name + "' has no shape");
  // The verifier only checks 4-byte alignment of vectors; a corrupted file can
  // misalign these 8-byte dims, so they are copied out byte-wise.
  shape.resize(dims->size());
  for (size_t i = 0; i < shape.size(); ++i)
    std::memcpy(&shape[i], dims->Data() + i * sizeof(int64_t), sizeof(int64_t));
  numElements = 1;
  for (int64_t d : shape) {
    if (d < 1)
      return fail(file, "weight '" + name + "' has shape " + formatShape(shape) +
                            ": every dim must be >= 1");
    if (__builtin_mul_overflow(numElements, d, &numElements) ||
        numElements > static_cast<int64_t>(FLATBUFFERS_MAX_BUFFER_SIZE))
      return fail(file, "weight '" + name + "' has shape " + formatShape(shape) +
                            ", more elements than a model file can hold");
  }
  return {};
}

Status readDType(const fb::Tensor &t, const std::string &name, const std::string &file) {
  auto dtype = static_cast<int32_t>(t.dtype());
  if (dtype == static_cast<int32_t>(fb::DType::F32))
    return {};
  if (dtype < static_cast<int32_t>(fb::DType::MIN) || dtype > static_cast<int32_t>(fb::DType::MAX))
    return fail(file, "weight '" + name + "' has unknown dtype value " + llvm::Twine(dtype) +
                          ", expected F32");
  return fail(file, llvm::Twine("weight '") + name + "' has dtype " + fb::EnumNameDType(t.dtype()) +
                        ", expected F32 (this reader takes F32 weights; tfc import converts F16 and "
                        "BF16 checkpoints to F32)");
}

Status readTensor(const fb::Tensor &t, size_t index, const std::string &file, std::string &name,
                  Weight &out) {
  if (!t.name() || t.name()->size() == 0)
    return fail(file, "weights[" + llvm::Twine(index) + "] has an empty name");
  name = t.name()->str();
  if (Status s = readDType(t, name, file); !s.ok())
    return s;
  int64_t numElements = 0;
  if (Status s = readShape(t, name, file, out.shape, numElements); !s.ok())
    return s;
  const flatbuffers::Vector<uint8_t> *data = t.data();
  if (!data)
    return fail(file, "weight '" + name + "' has no data");
  if (static_cast<int64_t>(data->size()) != numElements * static_cast<int64_t>(sizeof(float)))
    return fail(file, "weight '" + name + "' has " + llvm::Twine(data->size()) +
                          " data bytes, expected " + llvm::Twine(numElements * sizeof(float)) +
                          " for shape " + formatShape(out.shape) + " F32");
  if (reinterpret_cast<uintptr_t>(data->data()) % alignof(float) != 0)
    return fail(file, "weight '" + name + "' has data that is not 4-byte aligned "
                      "(model files align weight data to 64 bytes)");
  out.data = reinterpret_cast<const float *>(data->data());
  return {};
}

Status readWeights(const flatbuffers::Vector<flatbuffers::Offset<fb::Tensor>> *tensors,
                   const std::string &file, std::map<std::string, Weight> &out) {
  if (!tensors)
    return {};  // every required weight is then reported missing
  for (flatbuffers::uoffset_t i = 0; i < tensors->size(); ++i) {
    const fb::Tensor *t = tensors->Get(i);
    if (!t)
      return fail(file, "weights[" + llvm::Twine(i) + "] is missing");
    std::string name;
    Weight weight;
    if (Status s = readTensor(*t, i, file, name, weight); !s.ok())
      return s;
    if (!out.emplace(name, std::move(weight)).second)
      return fail(file, "weight '" + name + "' is listed twice");
  }
  return {};
}

Status readContents(const fb::Model &root, const std::string &file, Model &m) {
  m.formatMajor = root.format_major();
  m.formatMinor = root.format_minor();
  m.name = root.name() ? root.name()->str() : std::string();
  m.producer = root.producer() ? root.producer()->str() : std::string();
  if (!root.hparams())
    return fail(file, "missing hparams (the required Hyperparameters table)");
  if (Status s = readHyperparameters(*root.hparams(), file, m.hparams); !s.ok())
    return s;
  int64_t vocabSize = m.hparams.vocabSize;
  if (Status s = readSpecialTokens(root.special_tokens(), vocabSize, file, m.specialTokens);
      !s.ok())
    return s;
  if (Status s = readVocabulary(root.vocabulary(), vocabSize, file, m.vocabulary); !s.ok())
    return s;
  if (Status s = readTokenizer(root.tokenizer(), file, m.tokenizer); !s.ok())
    return s;
  if (Status s = readWeights(root.weights(), file, m.weights); !s.ok())
    return s;
  return checkWeightConvention(m);
}

} // namespace

Status loadModelBuffer(std::vector<uint8_t> bytes, const std::string &name, Model &out) {
  auto buffer = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  const fb::Model *root = nullptr;
  if (Status s = checkEnvelope(*buffer, name, root); !s.ok())
    return s;
  Model model;
  model.path = name;
  model.buffer = buffer;
  if (Status s = readContents(*root, name, model); !s.ok())
    return s;
  out = std::move(model);
  return {};
}

Status loadModelFile(const std::string &path, Model &out) {
  std::vector<uint8_t> bytes;
  if (Status s = readFileBytes(path, bytes); !s.ok())
    return s;
  return loadModelBuffer(std::move(bytes), path, out);
}

} // namespace tfc::fbs
