//===- hf_import_test.cpp - Hugging Face checkpoints in (frontends/hf) -----===//
//
// * safetensors: each malformation is rejected with a message naming it; random
//   corruption of a valid file never crashes.
// * import errors: unknown model_type, missing tensor, wrong shape.
// * tests/hf/checkpoints/{bert,distilbert,gpt2}: imported, compiled (the driver's
//   directory path) and run through the runtime C API; encoders match transformers'
//   last_hidden_state within 1e-4 * max(1, max|ref|), GPT-2's greedy generation is
//   token-exact with transformers' model.generate; a BERT with a NaN in a query weight
//   gives NaN everywhere, as transformers and ONNX Runtime do.
// * text through the compiled plans' tokenizers (C API) with special tokens written in it
//   ([MASK], <|endoftext|>) and a NUL: ids and decodes equal Hugging Face `tokenizers` on the
//   checkpoints' tokenizer.json (tests/hf/refs/tokenizer_refs.json, make_tokenizer_refs.py),
//   with and without tokenizer.json (the slow files give the same added tokens).
//
//===----------------------------------------------------------------------===//
#include "tfc/driver/Compiler.h"
#include "tfc/frontends/FbsFrontend.h"
#include "tfc/frontends/HfImporter.h"
#include "tfc/tfc_runtime.h"
#include "tfc/tfc_runtime.hpp"
#include "tfc/support/Npy.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

namespace {

namespace fs = std::filesystem;
using tfc::hf::SafeTensors;
using tfc::hf::Status;

const std::string kHfDir = TFC_SOURCE_DIR "/tests/hf";

std::string take(tfc_status *st) {
  if (!st)
    return {};
  std::string m = tfc_status_message(st);
  tfc_status_free(st);
  return m;
}

std::vector<uint8_t> readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

/// A safetensors image from a header text and a data section.
std::vector<uint8_t> image(const std::string &header, size_t dataBytes, uint64_t lenOverride = 0) {
  std::vector<uint8_t> out(8);
  uint64_t len = lenOverride ? lenOverride : header.size();
  for (int i = 0; i < 8; ++i)
    out[i] = static_cast<uint8_t>(len >> (8 * i));
  out.insert(out.end(), header.begin(), header.end());
  out.resize(out.size() + dataBytes, 0);
  return out;
}

std::string parseError(std::vector<uint8_t> bytes) {
  SafeTensors st;
  return tfc::hf::parseSafeTensors(std::move(bytes), "w.safetensors", st).error;
}

//===----------------------------------------------------------------------===//
// safetensors
//===----------------------------------------------------------------------===//

TEST(SafeTensors, ReadsValidFileAndConvertsHalfTypes) {
  std::string h = R"({"__metadata__":{"format":"pt"},)"
                  R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                  R"("b":{"dtype":"F16","shape":[2],"data_offsets":[8,12]},)"
                  R"("c":{"dtype":"BF16","shape":[1],"data_offsets":[12,14]},)"
                  R"("d":{"dtype":"I64","shape":[],"data_offsets":[14,22]}})";
  std::vector<uint8_t> bytes = image(h, 22);
  size_t d0 = 8 + h.size();
  float a[2] = {1.5f, -2.0f};
  std::memcpy(&bytes[d0], a, 8);
  uint16_t f16[2] = {0x3C00, 0xC000};  // 1, -2
  std::memcpy(&bytes[d0 + 8], f16, 4);
  uint16_t bf16 = 0x4040;  // 3
  std::memcpy(&bytes[d0 + 12], &bf16, 2);
  SafeTensors st;
  ASSERT_EQ(tfc::hf::parseSafeTensors(bytes, "w.safetensors", st).error, "");
  EXPECT_EQ(st.tensors.size(), 4u);
  std::vector<float> v;
  ASSERT_EQ(tfc::hf::tensorToF32(st, "a", v).error, "");
  EXPECT_EQ(v, (std::vector<float>{1.5f, -2.0f}));
  ASSERT_EQ(tfc::hf::tensorToF32(st, "b", v).error, "");
  EXPECT_EQ(v, (std::vector<float>{1.0f, -2.0f}));
  ASSERT_EQ(tfc::hf::tensorToF32(st, "c", v).error, "");
  EXPECT_EQ(v, (std::vector<float>{3.0f}));
  EXPECT_NE(tfc::hf::tensorToF32(st, "d", v).error.find("'d' has dtype I64"), std::string::npos);
}

struct BadCase {
  const char *what;
  std::vector<uint8_t> bytes;
  const char *message;
};

TEST(SafeTensors, RejectsMalformedFiles) {
  const std::string ok = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  std::vector<BadCase> cases = {
      {"too small", {1, 2, 3}, "w.safetensors: file is too small for a safetensors header"},
      {"header longer than the file", image(ok, 8, 1000),
       "w.safetensors: header length 1000 exceeds the file"},
      {"bad header length", image(ok, 8, ~uint64_t(0)), "exceeds the file"},
      {"bad JSON", image(R"({"a":{"dtype":"F32",)", 8), "w.safetensors: header is not valid JSON"},
      {"not an object", image("[1,2]", 0), "header is not a JSON object"},
      {"offsets out of range", image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4),
       "tensor 'a': data_offsets [0, 8] out of range (data section has 4 bytes)"},
      {"end before begin", image(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8),
       "tensor 'a': data_offsets [8, 0] end before begin"},
      {"size/shape mismatch", image(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
       "tensor 'a': has 8 bytes, expected 3 x 4 for shape [3] F32"},
      {"size/dtype mismatch", image(R"({"a":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}})", 8),
       "tensor 'a': has 8 bytes, expected 2 x 2 for shape [2] F16"},
      {"unknown dtype", image(R"({"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", 8),
       "tensor 'a': unknown or unsupported dtype 'Q4'"},
      {"overlap",
       image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
             R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12),
       "tensors 'a' and 'b' overlap in the data section"},
      {"negative dim", image(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8),
       "tensor 'a': shape has a dim that is not a non-negative integer"},
      {"bad offsets", image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", 8),
       "tensor 'a': data_offsets must be [begin, end]"},
  };
  for (BadCase &c : cases) {
    SCOPED_TRACE(c.what);
    std::string error = parseError(c.bytes);
    EXPECT_NE(error.find(c.message), std::string::npos) << error;
    EXPECT_EQ(error.rfind("w.safetensors: ", 0), 0u) << error;
  }
}

TEST(SafeTensors, RandomCorruptionNeverCrashes) {
  std::vector<uint8_t> valid = readBytes(kHfDir + "/checkpoints/bert/model.safetensors");
  ASSERT_GT(valid.size(), 1000u);
  uint64_t headerLen = 0;
  std::memcpy(&headerLen, valid.data(), 8);
  std::mt19937_64 rng(1234);
  int rejected = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<uint8_t> bytes = valid;
    int flips = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < flips; ++i) {
      // Mostly the length and the header, where the checks are.
      size_t pos = (rng() % 4) ? rng() % (8 + headerLen) : rng() % bytes.size();
      bytes[pos] = static_cast<uint8_t>(rng());
    }
    if (trial % 10 == 0)
      bytes.resize(rng() % bytes.size());
    SafeTensors st;
    Status s = tfc::hf::parseSafeTensors(std::move(bytes), "c.safetensors", st);
    if (!s.ok()) {
      ++rejected;
      EXPECT_EQ(s.error.rfind("c.safetensors: ", 0), 0u) << s.error;
      continue;
    }
    // Accepted: every tensor must lie inside the buffer.
    for (const auto &[name, t] : st.tensors) {
      EXPECT_GE(t.data, st.bytes->data());
      EXPECT_LE(t.data + t.size, st.bytes->data() + st.bytes->size()) << name;
      std::vector<float> v;
      (void)tfc::hf::tensorToF32(st, name, v);
    }
  }
  EXPECT_GT(rejected, 100);
}

//===----------------------------------------------------------------------===//
// Import errors
//===----------------------------------------------------------------------===//

/// A scratch copy of a checkpoint directory.
std::string copyCheckpoint(const std::string &name, const std::string &tag) {
  fs::path dst = fs::temp_directory_path() / ("tfc_hf_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(dst);
  fs::copy(kHfDir + "/checkpoints/" + name, dst, fs::copy_options::recursive);
  return dst.string();
}

/// Replaces `from` by `to` (of the same size in a safetensors file: keeps the header length).
void replaceInFile(const std::string &path, const std::string &from, const std::string &to) {
  std::vector<uint8_t> b = readBytes(path);
  std::string s(b.begin(), b.end());
  size_t at = s.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  if (path.size() > 12 && path.compare(path.size() - 12, 12, ".safetensors") == 0)
    ASSERT_EQ(from.size(), to.size());
  s.replace(at, from.size(), to);
  std::ofstream(path, std::ios::binary) << s;
}

// A checkpoint nested 100,000 deep (about 200 KB) used to overflow the stack of the recursive
// JSON parser (SIGSEGV); each file is refused with a message naming it, at any depth past 128.
TEST(HfImport, DeeplyNestedJsonIsRefused) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  {
    std::string dir = copyCheckpoint("bert", "deepcfg");
    std::ofstream(dir + "/config.json") << "{\"model_type\": \"bert\", \"x\": " << deep << "}";
    std::vector<uint8_t> out;
    std::string error = tfc::hf::importCheckpoint(dir, out).error;
    EXPECT_NE(error.find("config.json"), std::string::npos) << error;
    EXPECT_NE(error.find("nested deeper than 128 levels"), std::string::npos) << error;
    fs::remove_all(dir);
  }
  {
    std::string dir = copyCheckpoint("bert", "deeptok");
    std::ofstream(dir + "/tokenizer.json") << "{\"model\": " << deep << "}";
    std::vector<uint8_t> out;
    std::string error = tfc::hf::importCheckpoint(dir, out).error;
    EXPECT_NE(error.find("tokenizer.json"), std::string::npos) << error;
    EXPECT_NE(error.find("nested deeper than 128 levels"), std::string::npos) << error;
    fs::remove_all(dir);
  }
  {
    SafeTensors st;
    std::string error =
        tfc::hf::parseSafeTensors(image("{\"t\": " + deep + "}", 0), "deep.safetensors", st).error;
    EXPECT_NE(error.find("deep.safetensors"), std::string::npos) << error;
    EXPECT_NE(error.find("nested deeper than 128 levels"), std::string::npos) << error;
  }
  // Brackets inside strings do not count; 128 levels are accepted.
  SafeTensors st;
  std::string fine = "{\"__metadata__\": {\"note\": \"" + std::string(1000, '[') + "\"}, \"x\": " +
                     std::string(126, '[') + std::string(126, ']') + "}";
  std::string error = tfc::hf::parseSafeTensors(image(fine, 0), "fine.safetensors", st).error;
  EXPECT_EQ(error.find("nested"), std::string::npos) << error;
}

TEST(HfImport, UnknownModelType) {
  std::string dir = copyCheckpoint("bert", "type");
  replaceInFile(dir + "/config.json", "\"model_type\": \"bert\"", "\"model_type\": \"t5\"");
  std::vector<uint8_t> out;
  EXPECT_EQ(tfc::hf::importCheckpoint(dir, out).error,
            "config.json: model_type 't5' is not supported (supported: albert, bert, distilbert, "
            "electra, gemma, gpt2, llama, mistral, phi, qwen2, roberta, xlm-roberta)");
  fs::remove_all(dir);
}

TEST(HfImport, UnsupportedConfigValues) {
  std::string dir = copyCheckpoint("bert", "act");
  replaceInFile(dir + "/config.json", "\"hidden_act\": \"gelu\"", "\"hidden_act\": \"mish\"");
  std::vector<uint8_t> out;
  std::string error = tfc::hf::importCheckpoint(dir, out).error;
  EXPECT_NE(error.find("key 'hidden_act' is 'mish', which is not supported"), std::string::npos)
      << error;
  replaceInFile(dir + "/config.json", "\"hidden_act\": \"mish\"", "\"hidden_act\": \"gelu\"");
  replaceInFile(dir + "/config.json", "\"absolute\"", "\"relative\"");
  error = tfc::hf::importCheckpoint(dir, out).error;
  EXPECT_NE(error.find("key 'position_embedding_type' is 'relative'"), std::string::npos) << error;
  fs::remove_all(dir);
}

TEST(HfImport, MissingTensor) {
  std::string dir = copyCheckpoint("bert", "missing");
  // Renames a tensor in the header (same length): the expected one is then missing.
  replaceInFile(dir + "/model.safetensors", "encoder.layer.1.output.dense.weight",
                "encoder.layer.1.output.dense.weighX");
  std::vector<uint8_t> out;
  std::string error = tfc::hf::importCheckpoint(dir, out).error;
  EXPECT_NE(error.find("model.safetensors: missing tensor 'encoder.layer.1.output.dense.weight'"),
            std::string::npos)
      << error;
  fs::remove_all(dir);
}

TEST(HfImport, WrongShape) {
  std::string dir = copyCheckpoint("gpt2", "shape");
  replaceInFile(dir + "/config.json", "\"n_positions\": 128", "\"n_positions\": 256");
  std::vector<uint8_t> out;
  std::string error = tfc::hf::importCheckpoint(dir, out).error;
  EXPECT_NE(error.find("tensor 'transformer.wpe.weight' has shape [128, 64], expected [256, 64]"),
            std::string::npos)
      << error;
  fs::remove_all(dir);
}

/// A merge whose parts are not tokens: the runtime would refuse every plan of the model
/// ("tokenizer: merge 0 ... is not in the vocabulary"), so the import fails naming the file.
TEST(HfImport, BrokenMergesNameTheFile) {
  std::string dir = copyCheckpoint("gpt2", "merges");
  std::vector<uint8_t> out;
  replaceInFile(dir + "/tokenizer.json", "\"Ġ t\"", "\"zzq qqz\"");
  EXPECT_EQ(tfc::hf::importCheckpoint(dir, out).error,
            dir + "/tokenizer.json: merge 0 'zzq qqz': 'zzq' is not in the vocabulary (" + dir +
                "/tokenizer.json)");
  // The slow files: merges.txt against vocab.json.
  fs::remove(dir + "/tokenizer.json");
  replaceInFile(dir + "/merges.txt", "h e\n", "h zz\n");
  EXPECT_EQ(tfc::hf::importCheckpoint(dir, out).error,
            dir + "/merges.txt: merge 1 'h zz': 'zz' is not in the vocabulary (" + dir +
                "/vocab.json)");
  fs::remove_all(dir);
}

/// Imports `dir` and reads the result back.
tfc::fbs::Model importAndRead(const std::string &dir) {
  std::vector<uint8_t> bytes;
  EXPECT_EQ(tfc::hf::importCheckpoint(dir, bytes).error, "");
  tfc::fbs::Model model;
  EXPECT_EQ(tfc::fbs::loadModelBuffer(bytes, dir, model).error, "");
  return model;
}

TEST(HfImport, SlowTokenizerFilesGiveTheSameTokenizer) {
  for (const char *name : {"bert", "gpt2"}) {
    SCOPED_TRACE(name);
    tfc::fbs::Model fast = importAndRead(kHfDir + "/checkpoints/" + name);
    // Without tokenizer.json: vocab.txt (+ tokenizer_config.json), or vocab.json + merges.txt.
    std::string dir = copyCheckpoint(name, "slow");
    fs::remove(dir + "/tokenizer.json");
    tfc::fbs::Model slow = importAndRead(dir);
    EXPECT_EQ(slow.vocabulary, fast.vocabulary);
    EXPECT_EQ(slow.tokenizer.kind, fast.tokenizer.kind);
    EXPECT_EQ(slow.tokenizer.merges, fast.tokenizer.merges);
    EXPECT_EQ(slow.tokenizer.lowercase, fast.tokenizer.lowercase);
    EXPECT_EQ(slow.tokenizer.stripAccents, fast.tokenizer.stripAccents);
    EXPECT_EQ(slow.tokenizer.unkToken, fast.tokenizer.unkToken);
    EXPECT_EQ(slow.tokenizer.clsToken, fast.tokenizer.clsToken);
    EXPECT_EQ(slow.tokenizer.sepToken, fast.tokenizer.sepToken);
    EXPECT_EQ(slow.tokenizer.maxLength, fast.tokenizer.maxLength);
    EXPECT_EQ(slow.specialTokens.startId, fast.specialTokens.startId);
    EXPECT_EQ(slow.specialTokens.endId, fast.specialTokens.endId);
    EXPECT_EQ(slow.specialTokens.unkId, fast.specialTokens.unkId);
    EXPECT_EQ(slow.specialTokens.padId, fast.specialTokens.padId);
    // The added tokens: tokenizer.json's, or tokenizer_config.json's added_tokens_decoder and
    // special tokens.
    ASSERT_EQ(slow.tokenizer.addedTokens.size(), fast.tokenizer.addedTokens.size());
    for (size_t i = 0; i < fast.tokenizer.addedTokens.size(); ++i) {
      const tfc::fbs::AddedToken &a = slow.tokenizer.addedTokens[i],
                                 &b = fast.tokenizer.addedTokens[i];
      EXPECT_EQ(a.content, b.content);
      EXPECT_EQ(a.special, b.special) << b.content;
      EXPECT_EQ(a.normalized, b.normalized) << b.content;
      EXPECT_EQ(a.singleWord, b.singleWord) << b.content;
      EXPECT_EQ(a.lstrip, b.lstrip) << b.content;
      EXPECT_EQ(a.rstrip, b.rstrip) << b.content;
    }
    // No tokenizer files at all: ids only.
    for (const char *f : {"vocab.txt", "vocab.json", "merges.txt"})
      fs::remove(dir + "/" + f);
    tfc::fbs::Model none = importAndRead(dir);
    EXPECT_TRUE(none.vocabulary.empty());
    EXPECT_EQ(none.tokenizer.kind, tfc::fbs::TokenizerKind::None);
    fs::remove_all(dir);
  }
}

TEST(HfImport, BertHeadCheckpointWithPrefix) {
  // A BertFor* checkpoint: every tensor under "bert." plus a head the importer ignores.
  std::string dir = copyCheckpoint("bert", "prefix");
  std::vector<uint8_t> bytes = readBytes(dir + "/model.safetensors");
  uint64_t headerLen = 0;
  std::memcpy(&headerLen, bytes.data(), 8);
  auto header = llvm::json::parse(std::string(bytes.begin() + 8, bytes.begin() + 8 + headerLen));
  ASSERT_TRUE(bool(header));
  llvm::json::Object renamed;
  for (auto &kv : *header->getAsObject())
    renamed[kv.first == "__metadata__" ? kv.first.str() : "bert." + kv.first.str()] = kv.second;
  std::string text;
  llvm::raw_string_ostream(text) << llvm::json::Value(std::move(renamed));
  std::vector<uint8_t> out = image(text, 0);
  out.insert(out.end(), bytes.begin() + 8 + headerLen, bytes.end());
  std::ofstream(dir + "/model.safetensors", std::ios::binary)
      .write(reinterpret_cast<const char *>(out.data()), out.size());
  replaceInFile(dir + "/config.json", "\"BertModel\"", "\"BertForMaskedLM\"");
  tfc::fbs::Model prefixed = importAndRead(dir);
  tfc::fbs::Model plain = importAndRead(kHfDir + "/checkpoints/bert");
  EXPECT_EQ(prefixed.name, "BertForMaskedLM");
  ASSERT_EQ(prefixed.weights.size(), plain.weights.size());
  for (const auto &[name, w] : plain.weights) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(prefixed.weights.count(name));
    const tfc::fbs::Weight &p = prefixed.weights.at(name);
    ASSERT_EQ(p.shape, w.shape);
    EXPECT_EQ(std::memcmp(p.data, w.data, w.numElements() * sizeof(float)), 0);
  }
  fs::remove_all(dir);
}

TEST(HfImport, ImportWritesAFileAtomically) {
  std::string out = (fs::temp_directory_path() /
                     ("tfc_hf_out_" + std::to_string(::getpid()) + ".fbs")).string();
  ASSERT_EQ(tfc::hf::importCheckpointToFile(kHfDir + "/checkpoints/gpt2", out).error, "");
  tfc::fbs::Model model;
  ASSERT_EQ(tfc::fbs::loadModelFile(out, model).error, "");
  EXPECT_EQ(model.hparams.family, tfc::fbs::Family::Decoder);
  EXPECT_TRUE(model.hparams.tiedEmbeddings);
  EXPECT_EQ(model.name, "GPT2LMHeadModel");
  // No temporary file is left next to it.
  int others = 0;
  for (const auto &e : fs::directory_iterator(fs::temp_directory_path()))
    others += e.path().string().rfind(out + ".tmp", 0) == 0;
  EXPECT_EQ(others, 0);
  fs::remove(out);
}

//===----------------------------------------------------------------------===//
// The checkpoints against transformers
//===----------------------------------------------------------------------===//

llvm::json::Object manifestModel(const std::string &name) {
  std::vector<uint8_t> b = readBytes(kHfDir + "/refs/manifest.json");
  auto v = llvm::json::parse(std::string(b.begin(), b.end()));
  if (!v) {
    llvm::consumeError(v.takeError());
    return {};
  }
  for (const llvm::json::Value &m : *v->getAsObject()->getArray("models"))
    if (m.getAsObject()->getString("name") == name)
      return *m.getAsObject();
  return {};
}

tfc::support::NpyArray npy(const std::string &file) {
  tfc::support::NpyArray a;
  tfc::support::Status s = tfc::support::readNpy(kHfDir + "/refs/" + file, a);
  EXPECT_TRUE(s.ok()) << s.error;
  return a;
}

/// Imports, compiles (through the driver's directory path) and writes a plan; opens it.
tfc_plan *compileCheckpoint(const std::string &name, tfc::fbs::Model &model,
                            std::string dir = "") {
  if (dir.empty())
    dir = kHfDir + "/checkpoints/" + name;
  std::vector<uint8_t> bytes;
  Status s = tfc::hf::importCheckpoint(dir, bytes);
  EXPECT_EQ(s.error, "");
  EXPECT_EQ(tfc::fbs::loadModelBuffer(bytes, name, model).error, "");
  mlir::MLIRContext context;
  tfc::driver::CompileOptions options;
  options.maxBatch = 2;
  tfc::driver::CompileResult result;
  EXPECT_EQ(tfc::driver::compileModel(context, dir, options, result).error, "");
  tfc::planner::Plan plan;
  EXPECT_EQ(tfc::driver::buildPlan(result, options, plan).error, "");
  std::string path = (fs::temp_directory_path() /
                      ("tfc_hf_" + name + "_" + std::to_string(::getpid()) + ".plan"))
                         .string();
  EXPECT_EQ(tfc::driver::writePlanFile(plan, path).error, "");
  tfc_plan *p = nullptr;
  EXPECT_EQ(take(tfc_plan_open(path.c_str(), nullptr, &p)), "");
  fs::remove(path);
  return p;
}

void checkEncoder(const std::string &name) {
  llvm::json::Object m = manifestModel(name);
  ASSERT_TRUE(m.getObject("inputs")) << "tests/hf/refs/manifest.json lacks " << name;
  tfc::fbs::Model model;
  tfc_plan *plan = compileCheckpoint(name, model);
  ASSERT_NE(plan, nullptr);
  EXPECT_EQ(model.producer, "tfc import");
  EXPECT_EQ(model.formatMajor, 2u);  // model.fbs 2.0 (the described architecture)
  EXPECT_EQ(model.formatMinor, 0u);
  EXPECT_EQ(model.tokenizer.kind, tfc::fbs::TokenizerKind::WordPiece);
  EXPECT_TRUE(model.tokenizer.lowercase);
  EXPECT_EQ(model.tokenizer.clsToken, "[CLS]");
  EXPECT_EQ(model.tokenizer.sepToken, "[SEP]");
  EXPECT_EQ(model.tokenizer.continuingSubwordPrefix, "##");
  EXPECT_EQ(model.vocabulary.at(model.specialTokens.startId), "[CLS]");
  EXPECT_EQ(model.vocabulary.at(model.specialTokens.endId), "[SEP]");
  EXPECT_EQ(model.vocabulary.at(model.specialTokens.unkId), "[UNK]");
  EXPECT_EQ(model.vocabulary.at(model.specialTokens.padId), "[PAD]");
  EXPECT_EQ(tfc_plan_vocabulary_size(plan), model.vocabulary.size());
  // tokenizer.json's added tokens, [MASK] among them: special, matched in the raw text.
  std::vector<std::string> added;
  for (const tfc::fbs::AddedToken &a : model.tokenizer.addedTokens) {
    added.push_back(a.content);
    EXPECT_TRUE(a.special && !a.normalized && !a.singleWord && !a.lstrip && !a.rstrip)
        << a.content;
  }
  EXPECT_EQ(added, (std::vector<std::string>{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}));

  tfc_session *session = nullptr;
  ASSERT_EQ(take(tfc_session_create(plan, nullptr, &session)), "");
  std::vector<tfc::support::NpyArray> arrays;
  std::vector<std::string> names;
  for (const auto &kv : *m.getObject("inputs")) {
    names.push_back(kv.first.str());
    arrays.push_back(npy(kv.second.getAsString()->str()));
  }
  std::vector<tfc_tensor> inputs;
  for (size_t i = 0; i < arrays.size(); ++i)
    inputs.push_back({names[i].c_str(), TFC_I64, int32_t(arrays[i].shape.size()),
                      arrays[i].shape.data(), arrays[i].data.data()});
  tfc_outputs *out = nullptr;
  ASSERT_EQ(take(tfc_session_run(session, "forward", inputs.data(), inputs.size(), &out)), "");
  tfc_tensor y;
  ASSERT_EQ(take(tfc_outputs_get(out, 0, &y)), "");
  tfc::support::NpyArray ref =
      npy(m.getObject("outputs")->getString("last_hidden_state")->str());
  ASSERT_EQ(std::vector<int64_t>(y.dims, y.dims + y.rank), ref.shape);
  const float *a = static_cast<const float *>(y.data);
  const float *r = reinterpret_cast<const float *>(ref.data.data());
  double maxErr = 0, maxRef = 0;
  for (int64_t i = 0; i < ref.numElements(); ++i) {
    maxErr = std::max(maxErr, std::fabs(double(a[i]) - double(r[i])));
    maxRef = std::max(maxRef, std::fabs(double(r[i])));
  }
  std::printf("%s: max |tfc - transformers| = %.3g (max |ref| %.3g)\n", name.c_str(), maxErr,
              maxRef);
  ::testing::Test::RecordProperty("max_abs_error", std::to_string(maxErr));
  EXPECT_LE(maxErr, 1e-4 * std::max(1.0, maxRef));
  tfc_outputs_free(out);
  tfc_session_release(session);
  tfc_plan_release(plan);
}

TEST(HfCheckpoint, BertMatchesTransformers) { checkEncoder("bert"); }
TEST(HfCheckpoint, DistilBertMatchesTransformers) { checkEncoder("distilbert"); }

TEST(HfCheckpoint, Gpt2GreedyIsTokenExact) {
  llvm::json::Object m = manifestModel("gpt2");
  ASSERT_TRUE(m.getArray("cases")) << "tests/hf/refs/manifest.json lacks gpt2";
  tfc::fbs::Model model;
  tfc_plan *plan = compileCheckpoint("gpt2", model);
  ASSERT_NE(plan, nullptr);
  EXPECT_EQ(model.tokenizer.kind, tfc::fbs::TokenizerKind::ByteLevelBpe);
  EXPECT_FALSE(model.tokenizer.merges.empty());
  ASSERT_GE(model.specialTokens.endId, 0);
  EXPECT_EQ(model.vocabulary.at(model.specialTokens.endId), "<|endoftext|>");
  EXPECT_EQ(model.specialTokens.startId, model.specialTokens.endId);
  tfc_generation_info info;
  tfc_plan_get_generation_info(plan, &info);
  ASSERT_NE(info.mode, nullptr);
  std::printf("gpt2: generation mode %s\n", info.mode);
  tfc_session *session = nullptr;
  ASSERT_EQ(take(tfc_session_create(plan, nullptr, &session)), "");
  int64_t exact = 0, total = 0;
  for (const llvm::json::Value &c : *m.getArray("cases")) {
    tfc::support::NpyArray prompt = npy(c.getAsObject()->getString("prompt")->str());
    tfc::support::NpyArray tokens = npy(c.getAsObject()->getString("tokens")->str());
    const int64_t *p = reinterpret_cast<const int64_t *>(prompt.data.data());
    int64_t offsets[2] = {0, prompt.shape[1]};
    tfc_generate_options o;
    tfc_generate_options_init(&o);
    o.strategy = TFC_GREEDY;
    o.max_new_tokens = 32;
    o.eos_id = -1;
    tfc_generation *g = nullptr;
    ASSERT_EQ(take(tfc_session_generate(session, p, offsets, 1, nullptr, 0, &o, nullptr, nullptr,
                                        &g)),
              "");
    size_t len = 0;
    const int64_t *got = tfc_generation_tokens(g, 0, &len);
    const int64_t *want = reinterpret_cast<const int64_t *>(tokens.data.data());
    std::vector<int64_t> gotV(got, got + len), wantV(want, want + tokens.numElements());
    EXPECT_EQ(gotV, wantV);
    for (size_t i = 0; i < std::min(gotV.size(), wantV.size()); ++i)
      exact += gotV[i] == wantV[i];
    total += static_cast<int64_t>(wantV.size());
    tfc_generation_free(g);
  }
  std::printf("gpt2: %lld/%lld tokens equal to transformers' greedy generate\n",
              (long long)exact, (long long)total);
  tfc_session_release(session);
  tfc_plan_release(plan);
}

/// Sets element `index` of F32 tensor `name` in a safetensors file to `value`, in place.
void setTensorElement(const std::string &path, const std::string &name, size_t index,
                      float value) {
  std::vector<uint8_t> b = readBytes(path);
  ASSERT_GE(b.size(), 8u);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= uint64_t(b[size_t(i)]) << (8 * i);
  auto header = llvm::json::parse(std::string(b.begin() + 8, b.begin() + 8 + long(n)));
  ASSERT_TRUE(bool(header));
  const llvm::json::Object *t = header->getAsObject()->getObject(name);
  ASSERT_NE(t, nullptr) << name;
  ASSERT_EQ(t->getString("dtype").value_or(""), "F32");
  int64_t begin = t->getArray("data_offsets")->front().getAsInteger().value_or(-1);
  ASSERT_GE(begin, 0);
  std::memcpy(&b[8 + n + size_t(begin) + 4 * index], &value, 4);
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char *>(b.data()),
                                              std::streamsize(b.size()));
}

TEST(HfCheckpoint, NaNInAQueryWeightGivesNaNAsTransformersDoes) {
  // One NaN in layer 0's query weight (input feature 0 -> output feature 0, head 0) makes
  // head 0's query NaN at every position (x[0] * NaN is NaN), so its scores and its softmax are
  // NaN for every query, the output projection mixes head 0 into every column and the layer
  // norms spread it: in transformers (and in ONNX Runtime on the ONNX export of such a BERT,
  // tests/onnx's bert_opset17 with the same NaN: 2304 of 2304 outputs NaN) every element of
  // last_hidden_state is NaN. tfc used to give finite, plausible numbers (an all-NaN score row
  // came out of its softmax as zeros).
  std::string dir = copyCheckpoint("bert", "nanq");
  setTensorElement(dir + "/model.safetensors", "encoder.layer.0.attention.self.query.weight", 0,
                   std::numeric_limits<float>::quiet_NaN());
  llvm::json::Object m = manifestModel("bert");
  ASSERT_TRUE(m.getObject("inputs"));
  std::vector<tfc::support::NpyArray> arrays;
  std::vector<std::string> names;
  for (const auto &kv : *m.getObject("inputs")) {
    names.push_back(kv.first.str());
    arrays.push_back(npy(kv.second.getAsString()->str()));
  }
  for (bool fuse : {true, false}) {
    mlir::MLIRContext context;
    tfc::driver::CompileOptions options;
    options.maxBatch = 2;
    options.fuse = fuse;
    tfc::driver::CompileResult result;
    ASSERT_EQ(tfc::driver::compileModel(context, dir, options, result).error, "");
    tfc::planner::Plan built;
    ASSERT_EQ(tfc::driver::buildPlan(result, options, built).error, "");
    std::string path = dir + (fuse ? "/fused.plan" : "/unfused.plan");
    ASSERT_EQ(tfc::driver::writePlanFile(built, path).error, "");
    tfc_plan *plan = nullptr;
    ASSERT_EQ(take(tfc_plan_open(path.c_str(), nullptr, &plan)), "");
    tfc_session *session = nullptr;
    ASSERT_EQ(take(tfc_session_create(plan, nullptr, &session)), "");
    std::vector<tfc_tensor> inputs;
    for (size_t i = 0; i < arrays.size(); ++i)
      inputs.push_back({names[i].c_str(), TFC_I64, int32_t(arrays[i].shape.size()),
                        arrays[i].shape.data(), arrays[i].data.data()});
    tfc_outputs *out = nullptr;
    ASSERT_EQ(take(tfc_session_run(session, "forward", inputs.data(), inputs.size(), &out)), "");
    tfc_tensor y;
    ASSERT_EQ(take(tfc_outputs_get(out, 0, &y)), "");
    int64_t n = 1, nan = 0;
    for (int32_t r = 0; r < y.rank; ++r)
      n *= y.dims[r];
    for (int64_t i = 0; i < n; ++i)
      nan += std::isnan(static_cast<const float *>(y.data)[i]);
    EXPECT_EQ(nan, n) << (fuse ? "fused" : "--no-fuse") << ": " << nan << " of " << n
                      << " outputs are NaN";
    tfc_outputs_free(out);
    tfc_session_release(session);
    tfc_plan_release(plan);
  }
  fs::remove_all(dir);
}

//===----------------------------------------------------------------------===//
// Text through the plans' tokenizers against Hugging Face `tokenizers`
//===----------------------------------------------------------------------===//

std::string show(const std::vector<int64_t> &v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

/// Checks every case of tokenizer_refs.json for `name` on `plan`.
void checkText(tfc_plan *plan, const llvm::json::Array &cases, const std::string &what) {
  ASSERT_EQ(tfc_plan_has_tokenizer(plan), 1) << what;
  for (const llvm::json::Value &c : cases) {
    const llvm::json::Object &o = *c.getAsObject();
    std::string text = o.getString("text")->str();
    SCOPED_TRACE(what + ": '" + text + "'");
    std::vector<int64_t> want;
    for (const llvm::json::Value &id : *o.getArray("ids"))
      want.push_back(*id.getAsInteger());
    tfc_ids *raw = nullptr;
    ASSERT_EQ(take(tfc_plan_tokenize(plan, text.data(), text.size(), 1, &raw)), "");
    std::vector<int64_t> got(tfc_ids_data(raw), tfc_ids_data(raw) + tfc_ids_count(raw));
    EXPECT_EQ(tfc_ids_untruncated_count(raw), got.size());
    tfc_ids_free(raw);
    EXPECT_EQ(got, want) << "tfc " << show(got) << ", tokenizers " << show(want);
    for (bool skip : {true, false}) {
      std::string ref = o.getString(skip ? "decode" : "decode_keep")->str();
      char *s = nullptr;
      size_t length = 12345;
      ASSERT_EQ(take(tfc_plan_detokenize_n(plan, want.data(), want.size(), skip, &s, &length)), "");
      EXPECT_EQ(std::string(s, length), ref) << "skip_special " << skip;
      EXPECT_EQ(s[length], '\0');
      tfc_string_free(s);
    }
  }
}

TEST(HfCheckpoint, TextWithSpecialTokensMatchesHuggingFace) {
  std::vector<uint8_t> b = readBytes(kHfDir + "/refs/tokenizer_refs.json");
  auto refs = llvm::json::parse(std::string(b.begin(), b.end()));
  ASSERT_TRUE(bool(refs)) << llvm::toString(refs.takeError());
  const llvm::json::Object *models = refs->getAsObject()->getObject("models");
  ASSERT_NE(models, nullptr);
  for (const char *name : {"bert", "distilbert", "gpt2"}) {
    const llvm::json::Array *cases = models->getArray(name);
    ASSERT_NE(cases, nullptr) << name;
    tfc::fbs::Model model;
    tfc_plan *plan = compileCheckpoint(name, model);
    ASSERT_NE(plan, nullptr);
    checkText(plan, *cases, name);
    tfc_plan_release(plan);
    // Without tokenizer.json: the added tokens come from tokenizer_config.json.
    std::string dir = copyCheckpoint(name, "slowtext");
    fs::remove(dir + "/tokenizer.json");
    plan = compileCheckpoint(name, model, dir);
    ASSERT_NE(plan, nullptr);
    checkText(plan, *cases, std::string(name) + " without tokenizer.json");
    tfc_plan_release(plan);
    fs::remove_all(dir);
  }
}

// U+0000 decodes to a NUL byte: tfc_plan_detokenize_n gives the whole text and its length.
TEST(HfCheckpoint, DetokenizeReturnsTextWithNulBytes) {
  tfc::fbs::Model model;
  tfc_plan *plan = compileCheckpoint("gpt2", model);
  ASSERT_NE(plan, nullptr);
  const std::string text("\0abc\0", 5);
  tfc_ids *ids = nullptr;
  ASSERT_EQ(take(tfc_plan_tokenize(plan, text.data(), text.size(), 0, &ids)), "");
  std::vector<int64_t> v(tfc_ids_data(ids), tfc_ids_data(ids) + tfc_ids_count(ids));
  tfc_ids_free(ids);
  ASSERT_FALSE(v.empty());
  char *s = nullptr;
  size_t length = 0;
  ASSERT_EQ(take(tfc_plan_detokenize_n(plan, v.data(), v.size(), 1, &s, &length)), "");
  EXPECT_EQ(std::string(s, length), text);
  tfc_string_free(s);
  // The C++ wrapper (which now owns the plan) hands back every byte too.
  tfc::Plan wrapped(plan);
  std::string back;
  EXPECT_TRUE(wrapped.detokenize(v, true, &back).ok());
  EXPECT_EQ(back, text);
  std::vector<int64_t> again;
  size_t untruncated = 0;
  EXPECT_TRUE(wrapped.tokenize(text, TFC_TOKENIZE_NO_TRUNCATION, &again, &untruncated).ok());
  EXPECT_EQ(again, v);
  EXPECT_EQ(untruncated, v.size());
  EXPECT_EQ(wrapped.tokenize(text, 4u, &again).message(),
            std::string("tfc_plan_tokenize_flags: unknown flags 0x4"));
}

// The tokenizer's truncation (max length 128 = GPT-2's positions) is reported, and
// TFC_TOKENIZE_NO_TRUNCATION keeps every id.
TEST(HfCheckpoint, TruncationIsReportedAndCanBeTurnedOff) {
  tfc::fbs::Model model;
  tfc_plan *plan = compileCheckpoint("gpt2", model);
  ASSERT_NE(plan, nullptr);
  ASSERT_EQ(model.tokenizer.maxLength, 128);
  std::string text;
  for (int i = 0; i < 5; ++i)
    text += std::string(i ? " " : "") + "the quick brown fox jumps over the lazy dog";
  tfc_ids *ids = nullptr;
  ASSERT_EQ(take(tfc_plan_tokenize(plan, text.data(), text.size(), 0, &ids)), "");
  EXPECT_EQ(tfc_ids_count(ids), 128u);
  EXPECT_EQ(tfc_ids_untruncated_count(ids), 146u); // tokenizers' count of this text
  tfc_ids_free(ids);
  ASSERT_EQ(take(tfc_plan_tokenize_flags(plan, text.data(), text.size(),
                                         TFC_TOKENIZE_NO_TRUNCATION, &ids)),
            "");
  EXPECT_EQ(tfc_ids_count(ids), 146u);
  EXPECT_EQ(tfc_ids_untruncated_count(ids), 146u);
  tfc_ids_free(ids);
  tfc_plan_release(plan);
}

} // namespace
