//===- hf_arch_test.cpp - the model.fbs 2.0 architectures from checkpoints --------===//
//
// tests/hf/arch/ (tests/hf/make_arch_fixtures.py: tiny random-init transformers 4.40
// checkpoints, BF16 / F16 / F32, one sharded) imported by frontends/hf, compiled through the
// driver's directory path and run through the runtime C API:
// * decoders llama, mistral (sliding window, shards), qwen2, phi (partial rotary, parallel
//   blocks), gemma (MQA, head_dim, tied, (1 + w) norms): logits of a [2, 12] batch within
//   1e-4 * max(1, max|ref|) of transformers', and greedy generation (32 tokens) token-exact
//   with transformers' generate;
// * encoders roberta, xlm-roberta, albert, electra: last_hidden_state of a batch with a
//   right-padded row within the same tolerance (albert and electra with two token types);
//   roberta's byte-level BPE and electra's WordPiece tokenizer give transformers' ids;
// * what each import describes (the model.fbs 2.0 fields) and says (notes), and clear errors
//   for what tfc does not implement.
// arch_corpus_test (ArchCheckpoint.*) holds the same checkpoints to issue 11's acceptance:
// fusion counts and generation through a derived KV cache, per tests/hf/arch/expectations.json.
//
//===----------------------------------------------------------------------===//
#include "tfc/driver/Compiler.h"
#include "tfc/frontends/FbsFrontend.h"
#include "tfc/frontends/HfImporter.h"
#include "tfc/tfc_runtime.h"
#include "tfc/support/Npy.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using tfc::fbs::Family;
using tfc::fbs::Model;

const std::string kArchDir = TFC_SOURCE_DIR "/tests/hf/arch";

std::string take(tfc_status *st) {
  if (!st)
    return {};
  std::string m = tfc_status_message(st);
  tfc_status_free(st);
  return m;
}

std::string readText(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

llvm::json::Object manifestModel(const std::string &name) {
  auto v = llvm::json::parse(readText(kArchDir + "/refs/manifest.json"));
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
  tfc::support::Status s = tfc::support::readNpy(kArchDir + "/refs/" + file, a);
  EXPECT_TRUE(s.ok()) << s.error;
  return a;
}

/// Imports `dir` (checking the notes), then compiles it through the driver and opens the plan.
tfc_plan *compile(const std::string &dir, Model &model, std::vector<std::string> &notes) {
  std::vector<uint8_t> bytes;
  EXPECT_EQ(tfc::hf::importCheckpoint(dir, bytes, &notes).error, "");
  EXPECT_EQ(tfc::fbs::loadModelBuffer(bytes, dir, model).error, "");
  mlir::MLIRContext context;
  tfc::driver::CompileOptions options;
  options.maxBatch = 2;
  tfc::driver::CompileResult result;
  EXPECT_EQ(tfc::driver::compileModel(context, dir, options, result).error, "");
  std::printf("%s: generation %s%s%s\n", fs::path(dir).filename().c_str(),
              result.generation.mode.c_str(), result.generation.reason.empty() ? "" : ": ",
              result.generation.reason.c_str());
  tfc::planner::Plan plan;
  EXPECT_EQ(tfc::driver::buildPlan(result, options, plan).error, "");
  std::string path = (fs::temp_directory_path() /
                      ("tfc_arch_" + fs::path(dir).filename().string() + "_" +
                       std::to_string(::getpid()) + ".plan"))
                         .string();
  EXPECT_EQ(tfc::driver::writePlanFile(plan, path).error, "");
  tfc_plan *p = nullptr;
  EXPECT_EQ(take(tfc_plan_open(path.c_str(), nullptr, &p)), "");
  fs::remove(path);
  return p;
}

bool hasNote(const std::vector<std::string> &notes, const std::string &part) {
  for (const std::string &n : notes)
    if (n.find(part) != std::string::npos)
      return true;
  return false;
}

/// Runs `forward` on the manifest's inputs; max |tfc - ref| of output `output` within
/// 1e-4 * max(1, max |ref|).
void checkForward(tfc_plan *plan, const llvm::json::Object &m, const std::string &output,
                  const std::string &name) {
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
  tfc::support::NpyArray ref = npy(m.getObject("outputs")->getString(output)->str());
  ASSERT_EQ(std::vector<int64_t>(y.dims, y.dims + y.rank), ref.shape);
  const float *a = static_cast<const float *>(y.data);
  const float *r = reinterpret_cast<const float *>(ref.data.data());
  double maxErr = 0, maxRef = 0;
  for (int64_t i = 0; i < ref.numElements(); ++i) {
    maxErr = std::max(maxErr, std::fabs(double(a[i]) - double(r[i])));
    maxRef = std::max(maxRef, std::fabs(double(r[i])));
  }
  std::printf("%s: %s max |tfc - transformers| = %.3g (max |ref| %.3g)\n", name.c_str(),
              output.c_str(), maxErr, maxRef);
  ::testing::Test::RecordProperty("max_abs_error", std::to_string(maxErr));
  EXPECT_LE(maxErr, 1e-4 * std::max(1.0, maxRef)) << name;
  tfc_outputs_free(out);
  tfc_session_release(session);
}

/// Greedy generation of the manifest's cases, token-exact with transformers' generate.
void checkGenerate(tfc_plan *plan, const llvm::json::Object &m, const std::string &name) {
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
    EXPECT_EQ(gotV, wantV) << name;
    for (size_t i = 0; i < std::min(gotV.size(), wantV.size()); ++i)
      exact += gotV[i] == wantV[i];
    total += static_cast<int64_t>(wantV.size());
    tfc_generation_free(g);
  }
  std::printf("%s: %lld/%lld tokens equal to transformers' greedy generate\n", name.c_str(),
              (long long)exact, (long long)total);
  tfc_session_release(session);
}

/// The ids the imported tokenizer gives for the manifest's text equal transformers'.
void checkTextIds(tfc_plan *plan, const std::string &name) {
  llvm::json::Object m = manifestModel(name);
  ASSERT_TRUE(m.getString("text") && m.getString("text_ids"))
      << "tests/hf/arch/refs/manifest.json has no text for " << name;
  std::string text = m.getString("text")->str();
  tfc::support::NpyArray want = npy(m.getString("text_ids")->str());
  tfc_ids *ids = nullptr;
  ASSERT_EQ(take(tfc_plan_tokenize(plan, text.data(), text.size(), 1, &ids)), "");
  const int64_t *w = reinterpret_cast<const int64_t *>(want.data.data());
  EXPECT_EQ(std::vector<int64_t>(tfc_ids_data(ids), tfc_ids_data(ids) + tfc_ids_count(ids)),
            std::vector<int64_t>(w, w + want.numElements()))
      << name;
  tfc_ids_free(ids);
}

struct Imported {
  Model model;
  std::vector<std::string> notes;
  tfc_plan *plan = nullptr;
  ~Imported() {
    if (plan)
      tfc_plan_release(plan);
  }
};

void runDecoder(const std::string &name, Imported &im) {
  llvm::json::Object m = manifestModel(name);
  ASSERT_TRUE(m.getArray("cases")) << "tests/hf/arch/refs/manifest.json lacks " << name;
  im.plan = compile(kArchDir + "/" + name, im.model, im.notes);
  ASSERT_NE(im.plan, nullptr);
  EXPECT_EQ(im.model.formatMajor, 2u);
  EXPECT_EQ(im.model.hparams.family, Family::Decoder);
  checkForward(im.plan, m, "logits", name);
  checkGenerate(im.plan, m, name);
}

void runEncoder(const std::string &name, Imported &im) {
  llvm::json::Object m = manifestModel(name);
  ASSERT_TRUE(m.getObject("inputs")) << "tests/hf/arch/refs/manifest.json lacks " << name;
  im.plan = compile(kArchDir + "/" + name, im.model, im.notes);
  ASSERT_NE(im.plan, nullptr);
  EXPECT_EQ(im.model.formatMajor, 2u);
  EXPECT_EQ(im.model.hparams.family, Family::Encoder);
  checkForward(im.plan, m, "last_hidden_state", name);
}

//===----------------------------------------------------------------------===//
// Decoders
//===----------------------------------------------------------------------===//

TEST(HfArch, LlamaMatchesTransformers) {
  Imported im;
  runDecoder("llama", im);
  const auto &hp = im.model.hparams;
  EXPECT_EQ(hp.normKind, tfc::fbs::NormKind::RmsNorm);
  EXPECT_EQ(hp.positionEncoding, tfc::fbs::PositionEncoding::Rotary);
  EXPECT_EQ(hp.activation, tfc::fbs::Activation::Silu);
  EXPECT_TRUE(hp.ffnGated);
  EXPECT_EQ(hp.kvHeads(), 2);
  EXPECT_FALSE(hp.qkvBias || hp.attnOutBias || hp.ffnBias || hp.tiedEmbeddings);
  // BF16 widened, and the Unigram tokenizer left out with a note: the plan takes ids only.
  EXPECT_TRUE(hasNote(im.notes, "21 BF16 tensors converted to F32"));
  EXPECT_TRUE(hasNote(im.notes, "tokenizer.json: the tokenizer (its model type 'Unigram') is "
                                "not one the runtime implements"));
  EXPECT_EQ(im.model.tokenizer.kind, tfc::fbs::TokenizerKind::None);
  EXPECT_TRUE(im.model.vocabulary.empty());
  // config.json's bos/eos ids stand in for the tokenizer's.
  EXPECT_EQ(im.model.specialTokens.startId, 1);
  EXPECT_EQ(im.model.specialTokens.endId, 2);
}

TEST(HfArch, MistralShardedWithSlidingWindowMatchesTransformers) {
  Imported im;
  runDecoder("mistral", im);
  EXPECT_EQ(im.model.hparams.slidingWindow, 8);
  EXPECT_EQ(im.model.hparams.rotaryBase, 1e6f);
  EXPECT_TRUE(hasNote(im.notes, "model.safetensors.index.json: 21 BF16 tensors converted"));
}

TEST(HfArch, Qwen2MatchesTransformers) {
  Imported im;
  runDecoder("qwen2", im);
  EXPECT_TRUE(im.model.hparams.qkvBias);
  EXPECT_FALSE(im.model.hparams.attnOutBias);
  EXPECT_TRUE(hasNote(im.notes, "F16 tensors converted to F32"));
}

TEST(HfArch, PhiMatchesTransformers) {
  Imported im;
  runDecoder("phi", im);
  const auto &hp = im.model.hparams;
  EXPECT_EQ(hp.normPlacement, tfc::fbs::NormPlacement::Parallel);
  EXPECT_EQ(hp.normKind, tfc::fbs::NormKind::LayerNorm);
  EXPECT_EQ(hp.rotaryWidth(), 8);  // partial_rotary_factor 0.5 of 16
  EXPECT_EQ(hp.activation, tfc::fbs::Activation::GeluTanh);
  EXPECT_TRUE(im.model.weights.count("lm_head.bias"));
}

TEST(HfArch, GemmaMatchesTransformers) {
  Imported im;
  runDecoder("gemma", im);
  const auto &hp = im.model.hparams;
  EXPECT_EQ(hp.kvHeads(), 1);
  EXPECT_EQ(hp.headWidth(), 16);
  EXPECT_EQ(hp.normWeightOffset, 1.0f);
  EXPECT_EQ(hp.embeddingScale, 8.0f);
  EXPECT_TRUE(hp.tiedEmbeddings);
  EXPECT_EQ(hp.activation, tfc::fbs::Activation::GeluTanh);
}

//===----------------------------------------------------------------------===//
// Encoders
//===----------------------------------------------------------------------===//

TEST(HfArch, RobertaMatchesTransformers) {
  Imported im;
  runEncoder("roberta", im);
  const auto &hp = im.model.hparams;
  EXPECT_EQ(hp.positionPadId, 1);
  EXPECT_EQ(hp.typeVocabSize, 0);  // the single token type is folded into the embeddings
  EXPECT_TRUE(hasNote(im.notes, "type_vocab_size is 1"));
  // The byte-level BPE with RoBERTa's <s> text </s>, as transformers tokenizes.
  EXPECT_EQ(im.model.tokenizer.kind, tfc::fbs::TokenizerKind::ByteLevelBpe);
  EXPECT_EQ(im.model.tokenizer.clsToken, "<s>");
  EXPECT_EQ(im.model.tokenizer.sepToken, "</s>");
  EXPECT_EQ(im.model.specialTokens.startId, 0);
  EXPECT_EQ(im.model.specialTokens.endId, 2);
  EXPECT_EQ(im.model.specialTokens.padId, 1);
  checkTextIds(im.plan, "roberta");
}

TEST(HfArch, XlmRobertaMatchesTransformers) {
  Imported im;
  runEncoder("xlm-roberta", im);
  EXPECT_EQ(im.model.hparams.positionPadId, 1);
}

TEST(HfArch, AlbertMatchesTransformers) {
  Imported im;
  runEncoder("albert", im);
  const auto &hp = im.model.hparams;
  EXPECT_EQ(hp.embeddingSize, 32);
  EXPECT_EQ(hp.layerWeightGroups, 1);
  EXPECT_EQ(hp.numLayers, 2);
  // One group: the weights of layer 0 only, used by both layers.
  EXPECT_TRUE(im.model.weights.count("encoder.layers.0.self_attn.q.weight"));
  EXPECT_FALSE(im.model.weights.count("encoder.layers.1.self_attn.q.weight"));
}

TEST(HfArch, ElectraMatchesTransformers) {
  Imported im;
  runEncoder("electra", im);
  EXPECT_EQ(im.model.hparams.embeddingSize, 32);
  EXPECT_EQ(im.model.hparams.typeVocabSize, 2);
  // The checkpoint's ElectraTokenizer (a WordPiece) is imported with it, not left out: the
  // plan tokenizes as transformers does ([CLS] ... [SEP], lower-cased, [UNK] for words the
  // vocabulary cannot spell).
  EXPECT_EQ(im.model.tokenizer.kind, tfc::fbs::TokenizerKind::WordPiece);
  EXPECT_FALSE(hasNote(im.notes, "not one the runtime implements"));
  EXPECT_EQ(im.model.specialTokens.startId, 2);
  EXPECT_EQ(im.model.specialTokens.endId, 3);
  checkTextIds(im.plan, "electra");
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

/// A scratch copy of tests/hf/arch/<name>.
std::string copyArch(const std::string &name, const std::string &tag) {
  fs::path dst = fs::temp_directory_path() / ("tfc_arch_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(dst);
  fs::copy(kArchDir + "/" + name, dst, fs::copy_options::recursive);
  return dst.string();
}

void setConfigKey(const std::string &dir, const std::string &key, llvm::json::Value value) {
  auto v = llvm::json::parse(readText(dir + "/config.json"));
  ASSERT_TRUE(bool(v));
  (*v->getAsObject())[key] = std::move(value);
  std::string text;
  llvm::raw_string_ostream os(text);
  os << *v;
  std::ofstream(dir + "/config.json") << os.str();
}

TEST(HfArch, UnsupportedFeaturesAreNamed) {
  std::string dir = copyArch("llama", "rope");
  std::vector<uint8_t> out;
  setConfigKey(dir, "rope_scaling", llvm::json::Object{{"type", "linear"}, {"factor", 2.0}});
  std::string error = tfc::hf::importCheckpoint(dir, out).error;
  EXPECT_NE(error.find("config.json: key 'rope_scaling' is {\"factor\":2,\"type\":\"linear\"}, "
                       "which is not supported (tfc implements unscaled rotary embeddings)"),
            std::string::npos)
      << error;
  fs::remove_all(dir);

  dir = copyArch("phi", "qkln");
  setConfigKey(dir, "qk_layernorm", true);
  error = tfc::hf::importCheckpoint(dir, out).error;
  EXPECT_NE(error.find("key 'qk_layernorm' is true, which is not supported"), std::string::npos)
      << error;
  fs::remove_all(dir);

  dir = copyArch("llama", "kvh");
  setConfigKey(dir, "num_key_value_heads", 3);
  error = tfc::hf::importCheckpoint(dir, out).error;
  EXPECT_NE(error.find("tensor 'model.layers.0.self_attn.k_proj.weight' has shape [32, 64], "
                       "expected [48, 64]"),
            std::string::npos)
      << error;
  fs::remove_all(dir);
}

TEST(HfArch, ShardIndexErrorsNameTheIndex) {
  std::string dir = copyArch("mistral", "shard");
  std::vector<uint8_t> out;
  std::string index = readText(dir + "/model.safetensors.index.json");
  // A tensor the index puts in a shard that does not hold it.
  std::string from = "\"model.norm.weight\": \"model-00002-of-00003.safetensors\"";
  size_t at = index.find(from);
  ASSERT_NE(at, std::string::npos) << index;
  std::string moved = index;
  moved.replace(at, from.size(), "\"model.norm.weight\": \"model-00001-of-00003.safetensors\"");
  std::ofstream(dir + "/model.safetensors.index.json") << moved;
  std::string error = tfc::hf::importCheckpoint(dir, out).error;
  EXPECT_NE(error.find("model.safetensors.index.json: weight_map puts tensor "
                       "'model.norm.weight' in model-00001-of-00003.safetensors, which does not "
                       "hold it"),
            std::string::npos)
      << error;
  // A shard path outside the directory.
  std::string escape = index;
  escape.replace(at, from.size(), "\"model.norm.weight\": \"../x.safetensors\"");
  std::ofstream(dir + "/model.safetensors.index.json") << escape;
  error = tfc::hf::importCheckpoint(dir, out).error;
  EXPECT_NE(error.find("weight_map['model.norm.weight'] is not a file name in the checkpoint "
                       "directory"),
            std::string::npos)
      << error;
  // A missing shard.
  std::ofstream(dir + "/model.safetensors.index.json") << index;
  fs::remove(dir + "/model-00002-of-00003.safetensors");
  error = tfc::hf::importCheckpoint(dir, out).error;
  EXPECT_NE(error.find("model-00002-of-00003.safetensors: cannot open file"), std::string::npos)
      << error;
  fs::remove_all(dir);
}

} // namespace
