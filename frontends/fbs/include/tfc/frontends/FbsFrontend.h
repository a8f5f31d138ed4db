//===- FbsFrontend.h - model.fbs -> primitive tfc IR ------------*- C++ -*-===//
//
// Reads a model.fbs file (ir/schema/model.fbs, documented in
// docs/MODEL_FORMAT.md), verifies the FlatBuffer and checks every
// hyperparameter and weight against the family's rules, then builds a module
// of PRIMITIVE tfc ops (never fused ones: fusion lives in compiler/passes/).
//
// Errors never abort or throw: they come back as a message that names the file
// and the field or tensor at fault, e.g.
//   "model.fbs: weight 'encoder.layers.1.ffn.up.weight' has shape [64x128], expected [64x256]".
//
//===----------------------------------------------------------------------===//
#ifndef TFC_FRONTENDS_FBSFRONTEND_H
#define TFC_FRONTENDS_FBSFRONTEND_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "tfc/support/Status.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tfc::fbs {

enum class Family { Encoder, Decoder, EncoderDecoder, Classifier };
enum class NormPlacement { Post, Pre, Parallel };
enum class NormKind { LayerNorm, RmsNorm };
enum class Activation { Relu, GeluErf, GeluTanh, Silu };
enum class PositionEncoding { Sinusoidal, Learned, Rotary };
enum class Pooling { None, Mean, FirstToken };

/// The validated hyperparameters (plain data; see docs/MODEL_FORMAT.md).
struct Hyperparameters {
  Family family = Family::Encoder;
  int64_t numLayers = 0;         // encoder layers (decoder layers for Decoder)
  int64_t numDecoderLayers = 0;  // EncoderDecoder: resolved (never 0 here)
  int64_t dModel = 0, numHeads = 0, dFF = 0, vocabSize = 0, maxPositions = 0;
  NormPlacement normPlacement = NormPlacement::Post;
  Activation activation = Activation::Relu;
  PositionEncoding positionEncoding = PositionEncoding::Learned;
  int64_t typeVocabSize = 0;
  float embeddingScale = 1.0f;
  bool embeddingNorm = false, tiedEmbeddings = false, finalNorm = false;
  Pooling pooling = Pooling::None;
  int64_t numClasses = 0;
  float layerNormEpsilon = 1e-5f;
  // 2.0: the described architecture (defaults: the 1.x meaning). Counts stored as 0 mean
  // "derived"; use the accessors below, which resolve them.
  NormKind normKind = NormKind::LayerNorm;
  float normWeightOffset = 0.0f;      // norm scale = weight + offset (Gemma's RmsNorm: 1)
  int64_t numKvHeads = 0;             // 0 = numHeads; divides numHeads
  int64_t headDim = 0;                // 0 = dModel / numHeads
  bool ffnGated = false;              // (act(x Wg) * (x Wu)) Wd
  bool qkvBias = true, attnOutBias = true, ffnBias = true;
  float rotaryBase = 10000.0f;
  int64_t rotaryDim = 0;              // Rotary only; 0 = head width; even, <= head width
  int64_t slidingWindow = 0;          // 0 = unlimited
  int64_t positionPadId = -1;         // >= 0: RoBERTa positions
  int64_t embeddingSize = 0;          // 0 = dModel; > 0: embeddings.project [E, dModel] follows
  int64_t layerWeightGroups = 0;      // 0: own weights per layer

  int64_t kvHeads() const { return numKvHeads > 0 ? numKvHeads : numHeads; }
  int64_t headWidth() const { return headDim > 0 ? headDim : dModel / numHeads; }
  int64_t rotaryWidth() const { return rotaryDim > 0 ? rotaryDim : headWidth(); }
  int64_t embeddingWidth() const { return embeddingSize > 0 ? embeddingSize : dModel; }
  /// Width of q (and of the attention output): numHeads * head width.
  int64_t attentionWidth() const { return numHeads * headWidth(); }
  /// Width of k and v: kvHeads() * head width.
  int64_t kvWidth() const { return kvHeads() * headWidth(); }
  /// The layer whose weights layer `i` of a stack of `layers` uses (ALBERT shares them).
  int64_t weightLayer(int64_t i, int64_t layers) const {
    return layerWeightGroups > 0 ? i * layerWeightGroups / layers : i;
  }
  /// How many layers of a stack of `layers` have weights of their own.
  int64_t storedLayers(int64_t layers) const {
    return layerWeightGroups > 0 ? layerWeightGroups : layers;
  }
};

struct SpecialTokens {
  int32_t startId = -1, endId = -1, unkId = -1, padId = -1;
};

enum class TokenizerKind { None, WordPiece, ByteLevelBpe };

/// A token matched in the text before the model's tokenizer (model.fbs 1.2 `AddedToken`).
struct AddedToken {
  std::string content;
  bool special = true, singleWord = false, lstrip = false, rstrip = false, normalized = false;
};

/// How text becomes token ids (model.fbs 1.1 `Tokenizer`; plain data, see
/// ir/schema/model.fbs). `kind == None` when the file has no tokenizer.
struct Tokenizer {
  TokenizerKind kind = TokenizerKind::None;
  bool lowercase = false, stripAccents = false, handleChineseChars = true, cleanText = true;
  std::string continuingSubwordPrefix;  // "##" (WordPiece)
  int32_t maxInputCharsPerWord = 100;   // WordPiece
  std::string unkToken, clsToken, sepToken, padToken;
  std::vector<std::string> merges;      // byte-level BPE, rank order, "left right"
  bool addPrefixSpace = false;
  int32_t maxLength = 0;                // 0 = no limit
  std::vector<AddedToken> addedTokens;  // (1.2)
};

/// A weight as stored in the file: f32, row-major; `data` points into the
/// Model's file buffer (valid while the Model, or a copy of it, lives; the
/// reader checks it is 4-byte aligned).
struct Weight {
  std::vector<int64_t> shape;
  const float *data = nullptr;
  int64_t numElements() const;  // -1 for a negative dim or an overflow
};

/// A loaded, fully validated model description.
struct Model {
  std::string path;             // for messages
  std::string name, producer;
  uint32_t formatMajor = 0, formatMinor = 0;
  Hyperparameters hparams;
  SpecialTokens specialTokens;
  std::map<std::string, Weight> weights;
  std::vector<std::string> vocabulary;  // empty when the file has none
  Tokenizer tokenizer;                  // (1.1) kind None when the file has none
  std::shared_ptr<const std::vector<uint8_t>> buffer;  // owns the bytes `weights` point into
};

/// Result of a fallible call: `ok()` or an error message.
using Status = ::tfc::support::Status; // empty `error`: success (tfc/support/Status.h)

/// Reads and validates `path`. On failure returns a Status naming the problem.
Status loadModelFile(const std::string &path, Model &out);

/// Same, from bytes already in memory (`name` is used in messages).
Status loadModelBuffer(std::vector<uint8_t> bytes, const std::string &name, Model &out);

/// Builds the primitive-IR module of a validated model: one func.func
/// `@forward` whose arguments and results carry `tfc.name` (and for inputs
/// `tfc.dims`, e.g. ["batch", "seq"]) attributes; the module carries
/// `tfc.family`, `tfc.model_name` and the special token ids.
mlir::OwningOpRef<mlir::ModuleOp> buildModule(mlir::MLIRContext &context, const Model &model,
                                              std::string &error);

/// The op counts the architecture implies (used by tests and the report):
/// number of attention blocks and of layer norms.
struct ArchitectureCounts {
  int64_t attention = 0, layerNorm = 0;
  int64_t rmsNorm = 0;  // (2.0) norms of kind RmsNorm (not in layerNorm)
};
ArchitectureCounts countArchitecture(const Hyperparameters &hp);

//===----------------------------------------------------------------------===//
// Additions beyond the core API
//===----------------------------------------------------------------------===//

/// The format version this reader implements; any other major is rejected,
/// any minor of this major is accepted.
constexpr uint32_t kModelFormatMajor = 2;
constexpr uint32_t kModelFormatMinor = 0;
/// The oldest major version this reader still reads (1.x: the four fixed families).
constexpr uint32_t kModelFormatOldestMajor = 1;

/// One tensor of the weight-naming convention (docs/MODEL_FORMAT.md).
struct WeightSpec {
  std::string name;
  std::vector<int64_t> shape;
  bool required = true;  // false: may be absent (lm_head.bias)
};

/// Every weight a model with `hp` may hold, in a canonical order (embeddings,
/// then each stack layer by layer, then the head).
std::vector<WeightSpec> weightConvention(const Hyperparameters &hp);

/// Checks the hyperparameter ranges and the weight convention of a Model
/// (loadModel* already did; buildModule repeats it for hand-made Models).
/// Messages start with `model.path`.
Status validateModel(const Model &model);

/// "encoder", "decoder", "encoder_decoder", "classifier": the `tfc.family`
/// module attribute.
const char *familyAttrName(Family family);

/// The schema's name of the family: "Encoder", "EncoderDecoder", ...
const char *familySchemaName(Family family);

/// Loads the dialects buildModule creates ops of (tfc, func) into `context`.
void loadFrontendDialects(mlir::MLIRContext &context);

} // namespace tfc::fbs

#endif // TFC_FRONTENDS_FBSFRONTEND_H
