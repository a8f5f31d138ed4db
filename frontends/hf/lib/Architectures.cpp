//===- Architectures.cpp - config.json + HF weights -> tfc hyperparameters/weights ===//
//
// Encoders: bert (BertModel and Bert* heads, with or without the "bert." prefix;
// MiniLM is BERT), distilbert, roberta and xlm-roberta (BERT with RoBERTa's
// positions), electra (BERT with an embedding projection), albert (factorized
// embeddings, layers sharing weights). Decoders: gpt2, llama, mistral, qwen2,
// gemma (pre-RMSNorm, rotary, gated FFN, GQA) and phi (parallel blocks, partial
// rotary). HF nn.Linear weights are [out, in] and are transposed to tfc's
// [in, out]; GPT-2's Conv1D weights already are [in, out] and c_attn [d, 3d]
// splits into q, k, v by columns. Unused checkpoint tensors (pooler, heads,
// attention-mask buffers) are ignored.
//
//===----------------------------------------------------------------------===//
#include "Internal.h"

#include "tfc/schema/model_generated.h"

#include "llvm/Support/raw_ostream.h"

#include <cmath>

namespace tfc::hf {
namespace {

namespace fb = tfc::model;

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// Reads config.json keys with messages naming them.
struct Config {
  const llvm::json::Object &o;
  std::string file;

  Status integer(llvm::StringRef key, int64_t &out, bool required = true,
                 int64_t min = 1) const {
    const llvm::json::Value *v = o.get(key);
    if (!v || v->kind() == llvm::json::Value::Null) {
      if (required)
        return fail(file, "missing key '" + key.str() + "'");
      return {};
    }
    auto i = v->getAsInteger();
    if (!i)
      return fail(file, "key '" + key.str() + "' is not an integer");
    if (*i < min)
      return fail(file, "key '" + key.str() + "' is " + std::to_string(*i) + ", expected >= " +
                            std::to_string(min));
    out = *i;
    return {};
  }
  /// A boolean key (absent or null: `dflt`).
  Status boolean(llvm::StringRef key, bool &out, bool dflt) const {
    out = dflt;
    const llvm::json::Value *v = o.get(key);
    if (!v || v->kind() == llvm::json::Value::Null)
      return {};
    if (auto b = v->getAsBoolean()) {
      out = *b;
      return {};
    }
    return fail(file, "key '" + key.str() + "' is not a boolean");
  }
  /// A key that must be absent, null or `false` (a feature tfc does not implement).
  Status absent(llvm::StringRef key, const std::string &why) const {
    const llvm::json::Value *v = o.get(key);
    if (!v || v->kind() == llvm::json::Value::Null ||
        (v->getAsBoolean() && !*v->getAsBoolean()))
      return {};
    std::string text;
    llvm::raw_string_ostream os(text);
    os << *v;
    return fail(file, "key '" + key.str() + "' is " + os.str() + ", which is not supported (" +
                          why + ")");
  }
  Status number(llvm::StringRef key, float &out) const {
    const llvm::json::Value *v = o.get(key);
    if (!v)
      return {};
    auto d = v->getAsNumber();
    if (!d || !(*d > 0))
      return fail(file, "key '" + key.str() + "' is not a positive number");
    out = static_cast<float>(*d);
    return {};
  }
  std::string string(llvm::StringRef key, const std::string &dflt) const {
    if (auto s = o.getString(key))
      return s->str();
    return dflt;
  }
};

/// Looks tensors up by name with one of several prefixes.
struct Weights {
  const SafeTensors &st;
  std::vector<std::string> prefixes;
  std::string prefix;  // the one in use

  void choosePrefix(const std::string &probe) {
    for (const std::string &p : prefixes)
      if (st.tensors.count(p + probe)) {
        prefix = p;
        return;
      }
    prefix = prefixes.front();
  }
  Status get(const std::string &name, const std::vector<int64_t> &shape,
             std::vector<float> &out) const {
    std::string full = prefix + name;
    auto it = st.tensors.find(full);
    if (it == st.tensors.end())
      return fail(st.path, "missing tensor '" + full + "'");
    if (it->second.shape != shape)
      return fail(st.path, "tensor '" + full + "' has shape " + shapeText(it->second.shape) +
                               ", expected " + shapeText(shape));
    return tensorToF32(st, full, out);
  }
};

std::vector<float> transpose(const std::vector<float> &w, int64_t rows, int64_t cols) {
  std::vector<float> t(w.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      t[c * rows + r] = w[r * cols + c];
  return t;
}

struct Mapper {
  const Weights &w;
  ImportedModel &m;

  /// A tensor copied as is.
  Status copy(const std::string &hfName, const std::vector<int64_t> &shape,
              const std::string &tfcName) {
    OutWeight out{tfcName, shape, {}};
    if (Status s = w.get(hfName, shape, out.data); !s.ok())
      return s;
    m.weights.push_back(std::move(out));
    return {};
  }
  /// An nn.Linear(in, out): weight [out, in] -> [in, out], bias [out] (when `bias`).
  Status linear(const std::string &hf, int64_t in, int64_t out, const std::string &tfc,
                bool bias = true) {
    OutWeight weight{tfc + ".weight", {in, out}, {}};
    std::vector<float> raw;
    if (Status s = w.get(hf + ".weight", {out, in}, raw); !s.ok())
      return s;
    weight.data = transpose(raw, out, in);
    m.weights.push_back(std::move(weight));
    return bias ? copy(hf + ".bias", {out}, tfc + ".bias") : Status{};
  }
  /// A GPT-2 Conv1D(in, out): weight already [in, out].
  Status conv1d(const std::string &hf, int64_t in, int64_t out, const std::string &tfc) {
    if (Status s = copy(hf + ".weight", {in, out}, tfc + ".weight"); !s.ok())
      return s;
    return copy(hf + ".bias", {out}, tfc + ".bias");
  }
  /// A LayerNorm (weight and bias) or, with `bias` false, an RMSNorm (weight), `width` wide
  /// (0: d_model).
  Status norm(const std::string &hf, const std::string &tfc, int64_t width = 0,
              bool bias = true) {
    width = width ? width : m.dModel;
    if (Status s = copy(hf + ".weight", {width}, tfc + ".weight"); !s.ok())
      return s;
    return bias ? copy(hf + ".bias", {width}, tfc + ".bias") : Status{};
  }
};

Status checkActivation(const Config &c, const std::string &key, const std::string &value,
                       ImportedModel &m) {
  if (value == "gelu")
    m.activation = static_cast<int>(fb::Activation::GeluErf);
  else if (value == "gelu_new" || value == "gelu_pytorch_tanh")
    m.activation = static_cast<int>(fb::Activation::GeluTanh);
  else if (value == "relu")
    m.activation = static_cast<int>(fb::Activation::Relu);
  else if (value == "silu" || value == "swish")
    m.activation = static_cast<int>(fb::Activation::Silu);
  else
    return fail(c.file, "key '" + key + "' is '" + value +
                            "', which is not supported (supported: gelu, gelu_new, "
                            "gelu_pytorch_tanh, relu, silu, swish)");
  return {};
}

/// The BERT encoder layers (`encoder.layer.{i}.` names) from `w`'s prefix.
Status mapBertLayers(Mapper &map, ImportedModel &m) {
  int64_t d = m.dModel;
  for (int64_t i = 0; i < m.numLayers; ++i) {
    std::string hf = "encoder.layer." + std::to_string(i) + ".";
    std::string t = "encoder.layers." + std::to_string(i) + ".";
    const std::pair<const char *, const char *> qkv[] = {
        {"attention.self.query", "self_attn.q"}, {"attention.self.key", "self_attn.k"},
        {"attention.self.value", "self_attn.v"}, {"attention.output.dense", "self_attn.o"}};
    for (const auto &[a, b] : qkv)
      if (Status s = map.linear(hf + a, d, d, t + b); !s.ok()) return s;
    if (Status s = map.norm(hf + "attention.output.LayerNorm", t + "self_attn_norm"); !s.ok()) return s;
    if (Status s = map.linear(hf + "intermediate.dense", d, m.dFF, t + "ffn.up"); !s.ok()) return s;
    if (Status s = map.linear(hf + "output.dense", m.dFF, d, t + "ffn.down"); !s.ok()) return s;
    if (Status s = map.norm(hf + "output.LayerNorm", t + "ffn_norm"); !s.ok()) return s;
  }
  return {};
}

/// What distinguishes the BERT-shaped encoders.
struct BertVariant {
  std::vector<std::string> prefixes;  // the base model's prefix in head checkpoints
  bool robertaPositions = false;      // roberta, xlm-roberta
  bool embeddingProjection = false;   // electra: embedding_size, embeddings_project
  int64_t defaultTypeVocab = 2;
};

/// The BERT embeddings (word, position, token type, LayerNorm), `e` wide. A single token type
/// (RoBERTa's type_vocab_size 1) is added to every token embedding here, so the model needs
/// no token_type_ids input.
Status mapBertEmbeddings(const Config &c, Mapper &map, ImportedModel &m, int64_t e) {
  if (Status s = map.copy("embeddings.word_embeddings.weight", {m.vocabSize, e}, "embeddings.token"); !s.ok()) return s;
  if (Status s = map.copy("embeddings.position_embeddings.weight", {m.maxPositions, e}, "embeddings.position"); !s.ok()) return s;
  if (m.typeVocabSize == 1) {
    std::vector<float> type;
    if (Status s = map.w.get("embeddings.token_type_embeddings.weight", {1, e}, type); !s.ok()) return s;
    std::vector<float> &token = m.weights.front().data;
    for (size_t i = 0; i < token.size(); ++i)
      token[i] += type[i % static_cast<size_t>(e)];
    m.typeVocabSize = 0;
    m.notes.push_back(c.file + ": type_vocab_size is 1: its token type embedding is added to "
                               "every token embedding (no token_type_ids input)");
  } else if (m.typeVocabSize > 0) {
    if (Status s = map.copy("embeddings.token_type_embeddings.weight", {m.typeVocabSize, e}, "embeddings.token_type"); !s.ok()) return s;
  }
  return map.norm("embeddings.LayerNorm", "embeddings.norm", e);
}

Status mapBertLike(const Config &c, const SafeTensors &st, ImportedModel &m,
                   const BertVariant &v) {
  int64_t layers = 0;
  if (Status s = c.integer("hidden_size", m.dModel); !s.ok()) return s;
  if (Status s = c.integer("num_hidden_layers", layers); !s.ok()) return s;
  if (Status s = c.integer("num_attention_heads", m.numHeads); !s.ok()) return s;
  if (Status s = c.integer("intermediate_size", m.dFF); !s.ok()) return s;
  if (Status s = c.integer("vocab_size", m.vocabSize); !s.ok()) return s;
  if (Status s = c.integer("max_position_embeddings", m.maxPositions); !s.ok()) return s;
  m.typeVocabSize = v.defaultTypeVocab;
  if (Status s = c.integer("type_vocab_size", m.typeVocabSize, false, 0); !s.ok()) return s;
  m.layerNormEpsilon = 1e-12f;
  if (Status s = c.number("layer_norm_eps", m.layerNormEpsilon); !s.ok()) return s;
  if (Status s = checkActivation(c, "hidden_act", c.string("hidden_act", "gelu"), m); !s.ok())
    return s;
  std::string pos = c.string("position_embedding_type", "absolute");
  if (pos != "absolute")
    return fail(c.file, "key 'position_embedding_type' is '" + pos +
                            "', which is not supported (supported: absolute)");
  int64_t e = m.dModel;
  if (v.embeddingProjection) {
    e = 128;  // ElectraConfig's default
    if (Status s = c.integer("embedding_size", e, false); !s.ok()) return s;
    if (e != m.dModel)
      m.embeddingSize = e;
  }
  if (v.robertaPositions) {
    int64_t pad = 1;  // RobertaConfig's pad_token_id
    if (Status s = c.integer("pad_token_id", pad, false, 0); !s.ok()) return s;
    if (pad >= m.maxPositions)
      return fail(c.file, "key 'pad_token_id' is " + std::to_string(pad) +
                              ", not below max_position_embeddings " +
                              std::to_string(m.maxPositions));
    m.positionPadId = pad;
  }
  m.numLayers = layers;
  m.family = static_cast<int>(fb::Family::Encoder);
  m.normPlacement = static_cast<int>(fb::NormPlacement::Post);
  m.embeddingNorm = true;

  Weights w{st, v.prefixes, ""};
  w.choosePrefix("embeddings.word_embeddings.weight");
  Mapper map{w, m};
  if (Status s = mapBertEmbeddings(c, map, m, e); !s.ok()) return s;
  if (m.embeddingSize > 0)
    if (Status s = map.linear("embeddings_project", e, m.dModel, "embeddings.project"); !s.ok())
      return s;
  return mapBertLayers(map, m);
}

/// ALBERT: factorized embeddings (E wide, then embedding_hidden_mapping_in to the hidden
/// size) and num_hidden_groups groups of layers sharing their weights.
Status mapAlbert(const Config &c, const SafeTensors &st, ImportedModel &m) {
  int64_t e = 128, groups = 1, inner = 1;
  if (Status s = c.integer("hidden_size", m.dModel); !s.ok()) return s;
  if (Status s = c.integer("embedding_size", e, false); !s.ok()) return s;
  if (Status s = c.integer("num_hidden_layers", m.numLayers); !s.ok()) return s;
  if (Status s = c.integer("num_hidden_groups", groups, false); !s.ok()) return s;
  if (Status s = c.integer("inner_group_num", inner, false); !s.ok()) return s;
  if (Status s = c.integer("num_attention_heads", m.numHeads); !s.ok()) return s;
  if (Status s = c.integer("intermediate_size", m.dFF); !s.ok()) return s;
  if (Status s = c.integer("vocab_size", m.vocabSize); !s.ok()) return s;
  if (Status s = c.integer("max_position_embeddings", m.maxPositions); !s.ok()) return s;
  m.typeVocabSize = 2;
  if (Status s = c.integer("type_vocab_size", m.typeVocabSize, false, 0); !s.ok()) return s;
  m.layerNormEpsilon = 1e-12f;
  if (Status s = c.number("layer_norm_eps", m.layerNormEpsilon); !s.ok()) return s;
  if (Status s = checkActivation(c, "hidden_act", c.string("hidden_act", "gelu_new"), m); !s.ok())
    return s;
  std::string pos = c.string("position_embedding_type", "absolute");
  if (pos != "absolute")
    return fail(c.file, "key 'position_embedding_type' is '" + pos +
                            "', which is not supported (supported: absolute)");
  if (inner != 1)
    return fail(c.file, "key 'inner_group_num' is " + std::to_string(inner) +
                            ", which is not supported (supported: 1)");
  if (groups > m.numLayers)
    return fail(c.file, "key 'num_hidden_groups' is " + std::to_string(groups) +
                            ", more than num_hidden_layers " + std::to_string(m.numLayers));
  m.family = static_cast<int>(fb::Family::Encoder);
  m.normPlacement = static_cast<int>(fb::NormPlacement::Post);
  m.embeddingNorm = true;
  m.embeddingSize = e;  // ALBERT always projects, even when E equals the hidden size
  m.layerWeightGroups = groups;

  Weights w{st, {"", "albert."}, ""};
  w.choosePrefix("embeddings.word_embeddings.weight");
  Mapper map{w, m};
  int64_t d = m.dModel;
  if (Status s = mapBertEmbeddings(c, map, m, e); !s.ok()) return s;
  if (Status s = map.linear("encoder.embedding_hidden_mapping_in", e, d, "embeddings.project"); !s.ok()) return s;
  for (int64_t g = 0; g < groups; ++g) {
    std::string hf = "encoder.albert_layer_groups." + std::to_string(g) + ".albert_layers.0.";
    std::string t = "encoder.layers." + std::to_string(g) + ".";
    const std::pair<const char *, const char *> qkv[] = {
        {"attention.query", "self_attn.q"}, {"attention.key", "self_attn.k"},
        {"attention.value", "self_attn.v"}, {"attention.dense", "self_attn.o"}};
    for (const auto &[a, b] : qkv)
      if (Status s = map.linear(hf + a, d, d, t + b); !s.ok()) return s;
    if (Status s = map.norm(hf + "attention.LayerNorm", t + "self_attn_norm"); !s.ok()) return s;
    if (Status s = map.linear(hf + "ffn", d, m.dFF, t + "ffn.up"); !s.ok()) return s;
    if (Status s = map.linear(hf + "ffn_output", m.dFF, d, t + "ffn.down"); !s.ok()) return s;
    if (Status s = map.norm(hf + "full_layer_layer_norm", t + "ffn_norm"); !s.ok()) return s;
  }
  return {};
}

Status mapDistilBert(const Config &c, const SafeTensors &st, ImportedModel &m) {
  if (Status s = c.integer("dim", m.dModel); !s.ok()) return s;
  if (Status s = c.integer("n_layers", m.numLayers); !s.ok()) return s;
  if (Status s = c.integer("n_heads", m.numHeads); !s.ok()) return s;
  if (Status s = c.integer("hidden_dim", m.dFF); !s.ok()) return s;
  if (Status s = c.integer("vocab_size", m.vocabSize); !s.ok()) return s;
  if (Status s = c.integer("max_position_embeddings", m.maxPositions); !s.ok()) return s;
  if (Status s = checkActivation(c, "activation", c.string("activation", "gelu"), m); !s.ok())
    return s;
  m.layerNormEpsilon = 1e-12f;  // fixed in transformers' DistilBERT
  m.family = static_cast<int>(fb::Family::Encoder);
  m.normPlacement = static_cast<int>(fb::NormPlacement::Post);
  m.embeddingNorm = true;
  m.typeVocabSize = 0;

  Weights w{st, {"", "distilbert."}, ""};
  w.choosePrefix("embeddings.word_embeddings.weight");
  Mapper map{w, m};
  int64_t d = m.dModel;
  if (Status s = map.copy("embeddings.word_embeddings.weight", {m.vocabSize, d}, "embeddings.token"); !s.ok()) return s;
  // With sinusoidal_pos_embds the table is still stored in the checkpoint: use it as learned.
  if (Status s = map.copy("embeddings.position_embeddings.weight", {m.maxPositions, d}, "embeddings.position"); !s.ok()) return s;
  if (Status s = map.norm("embeddings.LayerNorm", "embeddings.norm"); !s.ok()) return s;
  for (int64_t i = 0; i < m.numLayers; ++i) {
    std::string hf = "transformer.layer." + std::to_string(i) + ".";
    std::string t = "encoder.layers." + std::to_string(i) + ".";
    const std::pair<const char *, const char *> qkv[] = {
        {"attention.q_lin", "self_attn.q"}, {"attention.k_lin", "self_attn.k"},
        {"attention.v_lin", "self_attn.v"}, {"attention.out_lin", "self_attn.o"}};
    for (const auto &[a, b] : qkv)
      if (Status s = map.linear(hf + a, d, d, t + b); !s.ok()) return s;
    if (Status s = map.norm(hf + "sa_layer_norm", t + "self_attn_norm"); !s.ok()) return s;
    if (Status s = map.linear(hf + "ffn.lin1", d, m.dFF, t + "ffn.up"); !s.ok()) return s;
    if (Status s = map.linear(hf + "ffn.lin2", m.dFF, d, t + "ffn.down"); !s.ok()) return s;
    if (Status s = map.norm(hf + "output_layer_norm", t + "ffn_norm"); !s.ok()) return s;
  }
  return {};
}

Status mapGpt2(const Config &c, const SafeTensors &st, ImportedModel &m) {
  if (Status s = c.integer("n_embd", m.dModel); !s.ok()) return s;
  if (Status s = c.integer("n_layer", m.numLayers); !s.ok()) return s;
  if (Status s = c.integer("n_head", m.numHeads); !s.ok()) return s;
  if (Status s = c.integer("vocab_size", m.vocabSize); !s.ok()) return s;
  if (Status s = c.integer("n_positions", m.maxPositions); !s.ok()) return s;
  m.dFF = 4 * m.dModel;
  if (Status s = c.integer("n_inner", m.dFF, false); !s.ok()) return s;
  if (Status s = c.number("layer_norm_epsilon", m.layerNormEpsilon); !s.ok()) return s;
  if (Status s = checkActivation(c, "activation_function",
                                 c.string("activation_function", "gelu_new"), m);
      !s.ok())
    return s;
  if (auto v = c.o.getBoolean("scale_attn_weights"); v && !*v)
    return fail(c.file, "key 'scale_attn_weights' is false, which is not supported");
  if (auto v = c.o.getBoolean("scale_attn_by_inverse_layer_idx"); v && *v)
    return fail(c.file, "key 'scale_attn_by_inverse_layer_idx' is true, which is not supported");
  m.family = static_cast<int>(fb::Family::Decoder);
  m.normPlacement = static_cast<int>(fb::NormPlacement::Pre);
  m.finalNorm = true;
  m.tiedEmbeddings = true;

  Weights w{st, {"transformer.", ""}, ""};
  w.choosePrefix("wte.weight");
  Mapper map{w, m};
  int64_t d = m.dModel;
  if (Status s = map.copy("wte.weight", {m.vocabSize, d}, "embeddings.token"); !s.ok()) return s;
  if (Status s = map.copy("wpe.weight", {m.maxPositions, d}, "embeddings.position"); !s.ok()) return s;
  for (int64_t i = 0; i < m.numLayers; ++i) {
    std::string hf = "h." + std::to_string(i) + ".";
    std::string t = "decoder.layers." + std::to_string(i) + ".";
    if (Status s = map.norm(hf + "ln_1", t + "self_attn_norm"); !s.ok()) return s;
    // c_attn: [d, 3d] = [q | k | v] by columns.
    std::vector<float> cw, cb;
    if (Status s = w.get(hf + "attn.c_attn.weight", {d, 3 * d}, cw); !s.ok()) return s;
    if (Status s = w.get(hf + "attn.c_attn.bias", {3 * d}, cb); !s.ok()) return s;
    const char *parts[] = {"q", "k", "v"};
    for (int p = 0; p < 3; ++p) {
      OutWeight wt{t + "self_attn." + parts[p] + ".weight", {d, d}, std::vector<float>(d * d)};
      for (int64_t r = 0; r < d; ++r)
        for (int64_t col = 0; col < d; ++col)
          wt.data[r * d + col] = cw[r * 3 * d + p * d + col];
      OutWeight bt{t + "self_attn." + parts[p] + ".bias", {d},
                   std::vector<float>(cb.begin() + p * d, cb.begin() + (p + 1) * d)};
      m.weights.push_back(std::move(wt));
      m.weights.push_back(std::move(bt));
    }
    if (Status s = map.conv1d(hf + "attn.c_proj", d, d, t + "self_attn.o"); !s.ok()) return s;
    if (Status s = map.norm(hf + "ln_2", t + "ffn_norm"); !s.ok()) return s;
    if (Status s = map.conv1d(hf + "mlp.c_fc", d, m.dFF, t + "ffn.up"); !s.ok()) return s;
    if (Status s = map.conv1d(hf + "mlp.c_proj", m.dFF, d, t + "ffn.down"); !s.ok()) return s;
  }
  if (Status s = map.norm("ln_f", "decoder.final_norm"); !s.ok()) return s;
  // An untied lm_head (rare for GPT-2) must equal wte to be represented.
  if (st.tensors.count("lm_head.weight")) {
    std::vector<float> head;
    Weights top{st, {""}, ""};
    if (Status s = top.get("lm_head.weight", {m.vocabSize, d}, head); !s.ok()) return s;
    if (head != m.weights.front().data)
      return fail(st.path, "tensor 'lm_head.weight' differs from the token embeddings "
                           "(an untied GPT-2 LM head is not supported)");
  }
  return {};
}

/// bos/eos/pad/unk ids from config.json (an id in range; an eos list gives its first), for
/// a model imported without a tokenizer; tokenizer files override them.
void readSpecialIds(const Config &c, ImportedModel &m) {
  auto id = [&](llvm::StringRef key, int32_t &out) {
    const llvm::json::Value *v = c.o.get(key);
    if (v && v->getAsArray() && !v->getAsArray()->empty())
      v = &v->getAsArray()->front();
    if (auto i = v ? v->getAsInteger() : std::nullopt; i && *i >= 0 && *i < m.vocabSize)
      out = static_cast<int32_t>(*i);
  };
  id("bos_token_id", m.startId);
  id("eos_token_id", m.endId);
  id("pad_token_id", m.padId);
  id("unk_token_id", m.unkId);
}

/// The longest max_positions a rotary decoder is given: its causal mask table is [M, M]
/// (frontends/fbs embeds at most 8192); no weight depends on it.
constexpr int64_t kMaxRotaryPositions = 8192;

/// The rotary keys every llama-shaped config shares: rope_theta, rope_scaling (refused),
/// max_position_embeddings (capped, noted).
Status readRotary(const Config &c, ImportedModel &m) {
  m.positionEncoding = static_cast<int>(fb::PositionEncoding::Rotary);
  if (Status s = c.number("rope_theta", m.rotaryBase); !s.ok()) return s;
  if (Status s = c.absent("rope_scaling", "tfc implements unscaled rotary embeddings"); !s.ok())
    return s;
  if (Status s = c.integer("max_position_embeddings", m.maxPositions); !s.ok()) return s;
  if (m.maxPositions > kMaxRotaryPositions) {
    m.notes.push_back(c.file + ": max_position_embeddings " + std::to_string(m.maxPositions) +
                      " capped at " + std::to_string(kMaxRotaryPositions) +
                      " (the longest causal mask tfc embeds)");
    m.maxPositions = kMaxRotaryPositions;
  }
  return {};
}

/// The LM head of a decoder: tied to the token embeddings, or `lm_head` [vocab, d].
Status mapLmHead(const Config &c, const SafeTensors &st, ImportedModel &m, bool tiedDefault,
                 bool bias) {
  if (Status s = c.boolean("tie_word_embeddings", m.tiedEmbeddings, tiedDefault); !s.ok())
    return s;
  Weights top{st, {""}, ""};
  Mapper head{top, m};
  if (!m.tiedEmbeddings) {
    if (Status s = head.linear("lm_head", m.dModel, m.vocabSize, "lm_head", bias); !s.ok())
      return s;
  } else if (bias) {
    if (Status s = head.copy("lm_head.bias", {m.vocabSize}, "lm_head.bias"); !s.ok())
      return s;
  }
  return {};
}

enum class Decoder { Llama, Mistral, Qwen2, Gemma };

/// llama, mistral, qwen2, gemma: pre-RMSNorm blocks, rotary positions, a gated FFN, grouped
/// key/value heads; `model.` prefix, `lm_head` at the top.
Status mapLlamaLike(const Config &c, const SafeTensors &st, ImportedModel &m, Decoder kind) {
  if (Status s = c.integer("hidden_size", m.dModel); !s.ok()) return s;
  if (Status s = c.integer("num_hidden_layers", m.numLayers); !s.ok()) return s;
  if (Status s = c.integer("num_attention_heads", m.numHeads); !s.ok()) return s;
  m.numKvHeads = m.numHeads;
  if (Status s = c.integer("num_key_value_heads", m.numKvHeads, false); !s.ok()) return s;
  if (Status s = c.integer("intermediate_size", m.dFF); !s.ok()) return s;
  if (Status s = c.integer("vocab_size", m.vocabSize); !s.ok()) return s;
  if (m.dModel % m.numHeads != 0 && kind != Decoder::Gemma)
    return fail(c.file, "key 'num_attention_heads' " + std::to_string(m.numHeads) +
                            " does not divide hidden_size " + std::to_string(m.dModel));
  int64_t headDim = m.numHeads > 0 ? m.dModel / m.numHeads : 0;
  if (kind == Decoder::Gemma)
    if (Status s = c.integer("head_dim", headDim); !s.ok()) return s;
  m.headDim = headDim == m.dModel / m.numHeads ? 0 : headDim;
  m.layerNormEpsilon = 1e-6f;
  if (Status s = c.number("rms_norm_eps", m.layerNormEpsilon); !s.ok()) return s;
  if (Status s = readRotary(c, m); !s.ok()) return s;

  std::string act = c.string("hidden_act", "silu");
  std::string actKey = "hidden_act";
  if (kind == Decoder::Gemma) {
    // transformers 4.40's GemmaMLP uses hidden_activation, or gelu_pytorch_tanh when it is
    // unset (whatever hidden_act says).
    actKey = "hidden_activation";
    act = c.string("hidden_activation", "gelu_pytorch_tanh");
  }
  if (Status s = checkActivation(c, actKey, act, m); !s.ok()) return s;

  bool attentionBias = false, mlpBias = false;
  if (Status s = c.boolean("attention_bias", attentionBias, false); !s.ok()) return s;
  if (Status s = c.boolean("mlp_bias", mlpBias, false); !s.ok()) return s;
  m.qkvBias = attentionBias;
  m.attnOutBias = attentionBias;
  m.ffnBias = mlpBias;
  if (kind == Decoder::Qwen2) {
    m.qkvBias = true;  // Qwen2Attention: q, k, v with bias, o_proj without
    m.attnOutBias = false;
    if (Status s = c.absent("use_sliding_window",
                            "transformers 4.40 applies Qwen2's window only in flash attention");
        !s.ok())
      return s;
  }
  if (kind == Decoder::Mistral)
    if (Status s = c.integer("sliding_window", m.slidingWindow, false, 0); !s.ok()) return s;
  if (kind == Decoder::Gemma) {
    m.normWeightOffset = 1.0f;  // GemmaRMSNorm: x_normed * (1 + weight)
    m.embeddingScale = static_cast<float>(std::sqrt(static_cast<double>(m.dModel)));
  }
  m.family = static_cast<int>(fb::Family::Decoder);
  m.normPlacement = static_cast<int>(fb::NormPlacement::Pre);
  m.normKind = static_cast<int>(fb::NormKind::RmsNorm);
  m.finalNorm = true;
  m.ffnGated = true;

  Weights w{st, {"model.", ""}, ""};
  w.choosePrefix("embed_tokens.weight");
  Mapper map{w, m};
  int64_t d = m.dModel, q = m.numHeads * headDim, kv = m.numKvHeads * headDim;
  if (Status s = map.copy("embed_tokens.weight", {m.vocabSize, d}, "embeddings.token"); !s.ok()) return s;
  for (int64_t i = 0; i < m.numLayers; ++i) {
    std::string hf = "layers." + std::to_string(i) + ".";
    std::string t = "decoder.layers." + std::to_string(i) + ".";
    if (Status s = map.norm(hf + "input_layernorm", t + "self_attn_norm", d, false); !s.ok()) return s;
    if (Status s = map.linear(hf + "self_attn.q_proj", d, q, t + "self_attn.q", m.qkvBias); !s.ok()) return s;
    if (Status s = map.linear(hf + "self_attn.k_proj", d, kv, t + "self_attn.k", m.qkvBias); !s.ok()) return s;
    if (Status s = map.linear(hf + "self_attn.v_proj", d, kv, t + "self_attn.v", m.qkvBias); !s.ok()) return s;
    if (Status s = map.linear(hf + "self_attn.o_proj", q, d, t + "self_attn.o", m.attnOutBias); !s.ok()) return s;
    if (Status s = map.norm(hf + "post_attention_layernorm", t + "ffn_norm", d, false); !s.ok()) return s;
    if (Status s = map.linear(hf + "mlp.gate_proj", d, m.dFF, t + "ffn.gate", m.ffnBias); !s.ok()) return s;
    if (Status s = map.linear(hf + "mlp.up_proj", d, m.dFF, t + "ffn.up", m.ffnBias); !s.ok()) return s;
    if (Status s = map.linear(hf + "mlp.down_proj", m.dFF, d, t + "ffn.down", m.ffnBias); !s.ok()) return s;
  }
  if (Status s = map.norm("norm", "decoder.final_norm", d, false); !s.ok()) return s;
  return mapLmHead(c, st, m, kind == Decoder::Gemma, false);
}

/// phi (Phi-1, Phi-1.5, Phi-2): parallel blocks around one LayerNorm, partial rotary
/// embeddings, biases everywhere, a final LayerNorm and an LM head with a bias.
Status mapPhi(const Config &c, const SafeTensors &st, ImportedModel &m) {
  if (Status s = c.integer("hidden_size", m.dModel); !s.ok()) return s;
  if (Status s = c.integer("num_hidden_layers", m.numLayers); !s.ok()) return s;
  if (Status s = c.integer("num_attention_heads", m.numHeads); !s.ok()) return s;
  m.numKvHeads = m.numHeads;
  if (Status s = c.integer("num_key_value_heads", m.numKvHeads, false); !s.ok()) return s;
  if (Status s = c.integer("intermediate_size", m.dFF); !s.ok()) return s;
  if (Status s = c.integer("vocab_size", m.vocabSize); !s.ok()) return s;
  if (m.dModel % m.numHeads != 0)
    return fail(c.file, "key 'num_attention_heads' " + std::to_string(m.numHeads) +
                            " does not divide hidden_size " + std::to_string(m.dModel));
  if (Status s = c.number("layer_norm_eps", m.layerNormEpsilon); !s.ok()) return s;
  if (Status s = checkActivation(c, "hidden_act", c.string("hidden_act", "gelu_new"), m); !s.ok())
    return s;
  if (Status s = c.absent("qk_layernorm", "query/key layer norms are not implemented"); !s.ok())
    return s;
  if (Status s = readRotary(c, m); !s.ok()) return s;
  float factor = 0.5f;
  if (Status s = c.number("partial_rotary_factor", factor); !s.ok()) return s;
  int64_t headDim = m.dModel / m.numHeads;
  // PhiAttention: int(partial_rotary_factor * head_dim) (a Python float product).
  m.rotaryDim = static_cast<int64_t>(static_cast<double>(factor) * static_cast<double>(headDim));
  if (m.rotaryDim < 2 || m.rotaryDim % 2 != 0 || m.rotaryDim > headDim)
    return fail(c.file, "key 'partial_rotary_factor' gives " + std::to_string(m.rotaryDim) +
                            " rotary dims of a " + std::to_string(headDim) +
                            "-wide head, expected an even count from 2 to the head width");
  if (m.rotaryDim == headDim)
    m.rotaryDim = 0;
  m.family = static_cast<int>(fb::Family::Decoder);
  m.normPlacement = static_cast<int>(fb::NormPlacement::Parallel);
  m.finalNorm = true;

  Weights w{st, {"model.", ""}, ""};
  w.choosePrefix("embed_tokens.weight");
  Mapper map{w, m};
  int64_t d = m.dModel, kv = m.numKvHeads * headDim;
  if (Status s = map.copy("embed_tokens.weight", {m.vocabSize, d}, "embeddings.token"); !s.ok()) return s;
  for (int64_t i = 0; i < m.numLayers; ++i) {
    std::string hf = "layers." + std::to_string(i) + ".";
    std::string t = "decoder.layers." + std::to_string(i) + ".";
    if (Status s = map.norm(hf + "input_layernorm", t + "self_attn_norm"); !s.ok()) return s;
    if (Status s = map.linear(hf + "self_attn.q_proj", d, d, t + "self_attn.q"); !s.ok()) return s;
    if (Status s = map.linear(hf + "self_attn.k_proj", d, kv, t + "self_attn.k"); !s.ok()) return s;
    if (Status s = map.linear(hf + "self_attn.v_proj", d, kv, t + "self_attn.v"); !s.ok()) return s;
    if (Status s = map.linear(hf + "self_attn.dense", d, d, t + "self_attn.o"); !s.ok()) return s;
    if (Status s = map.linear(hf + "mlp.fc1", d, m.dFF, t + "ffn.up"); !s.ok()) return s;
    if (Status s = map.linear(hf + "mlp.fc2", m.dFF, d, t + "ffn.down"); !s.ok()) return s;
  }
  if (Status s = map.norm("final_layernorm", "decoder.final_norm"); !s.ok()) return s;
  return mapLmHead(c, st, m, false, true);
}

} // namespace

static Status mapDescribed(const Config &c, llvm::StringRef type, const SafeTensors &weights,
                           ImportedModel &m);

Status mapArchitecture(const std::string &dir, const llvm::json::Object &config,
                       const SafeTensors &weights, ImportedModel &m) {
  Config c{config, dir + "/config.json"};
  auto type = config.getString("model_type");
  if (!type)
    return fail(c.file, "missing key 'model_type'");
  m.name = type->str();
  if (const llvm::json::Array *archs = config.getArray("architectures"))
    if (!archs->empty())
      if (auto a = (*archs)[0].getAsString())
        m.name = a->str();
  if (*type != "bert" && *type != "distilbert" && *type != "gpt2") {
    Status s = mapDescribed(c, *type, weights, m);
    if (s.ok())
      readSpecialIds(c, m);
    return s;
  }
  if (*type == "bert")
    return mapBertLike(c, weights, m, BertVariant{{"", "bert."}});
  if (*type == "distilbert")
    return mapDistilBert(c, weights, m);
  if (*type == "gpt2")
    return mapGpt2(c, weights, m);
  return fail("config.json", "model_type '" + type->str() + "' is not supported (supported: " +
                                 supportedModelTypes() + ")");
}

/// The architectures model.fbs 2.0 describes (beyond 1.x's bert, distilbert, gpt2).
static Status mapDescribed(const Config &c, llvm::StringRef type, const SafeTensors &weights,
                    ImportedModel &m) {
  if (type == "roberta" || type == "xlm-roberta")
    return mapBertLike(c, weights, m,
                       BertVariant{{"", "roberta."}, /*robertaPositions=*/true, false, 1});
  if (type == "electra")
    return mapBertLike(c, weights, m,
                       BertVariant{{"", "electra."}, false, /*embeddingProjection=*/true});
  if (type == "albert")
    return mapAlbert(c, weights, m);
  if (type == "llama")
    return mapLlamaLike(c, weights, m, Decoder::Llama);
  if (type == "mistral")
    return mapLlamaLike(c, weights, m, Decoder::Mistral);
  if (type == "qwen2")
    return mapLlamaLike(c, weights, m, Decoder::Qwen2);
  if (type == "gemma")
    return mapLlamaLike(c, weights, m, Decoder::Gemma);
  if (type == "phi")
    return mapPhi(c, weights, m);
  return fail("config.json", "model_type '" + type.str() + "' is not supported (supported: " +
                                 supportedModelTypes() + ")");
}

bool isSupportedModelType(llvm::StringRef type) {
  for (const char *t : kModelTypes)
    if (type == t)
      return true;
  return false;
}

std::string supportedModelTypes() {
  std::string out;
  for (const char *t : kModelTypes)
    out += (out.empty() ? "" : ", ") + std::string(t);
  return out;
}

} // namespace tfc::hf
