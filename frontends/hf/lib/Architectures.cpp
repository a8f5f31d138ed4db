//===- Architectures.cpp - config.json + HF weights -> tfc hyperparameters/weights ===//
//
// bert (BertModel and Bert* heads, with or without the "bert." prefix; MiniLM
// is BERT), distilbert and gpt2. HF nn.Linear weights are [out, in] and are
// transposed to tfc's [in, out]; GPT-2's Conv1D weights already are [in, out]
// and c_attn [d, 3d] splits into q, k, v by columns. Unused checkpoint tensors
// (pooler, heads, attention-mask buffers) are ignored.
//
//===----------------------------------------------------------------------===//
#include "Internal.h"

#include "tfc/schema/model_generated.h"

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
  /// An nn.Linear(in, out): weight [out, in] -> [in, out], bias [out].
  Status linear(const std::string &hf, int64_t in, int64_t out, const std::string &tfc) {
    OutWeight weight{tfc + ".weight", {in, out}, {}};
    std::vector<float> raw;
    if (Status s = w.get(hf + ".weight", {out, in}, raw); !s.ok())
      return s;
    weight.data = transpose(raw, out, in);
    m.weights.push_back(std::move(weight));
    return copy(hf + ".bias", {out}, tfc + ".bias");
  }
  /// A GPT-2 Conv1D(in, out): weight already [in, out].
  Status conv1d(const std::string &hf, int64_t in, int64_t out, const std::string &tfc) {
    if (Status s = copy(hf + ".weight", {in, out}, tfc + ".weight"); !s.ok())
      return s;
    return copy(hf + ".bias", {out}, tfc + ".bias");
  }
  Status norm(const std::string &hf, const std::string &tfc) {
    if (Status s = copy(hf + ".weight", {m.dModel}, tfc + ".weight"); !s.ok())
      return s;
    return copy(hf + ".bias", {m.dModel}, tfc + ".bias");
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
  else
    return fail(c.file, "key '" + key + "' is '" + value +
                            "', which is not supported (supported: gelu, gelu_new, "
                            "gelu_pytorch_tanh, relu)");
  return {};
}

Status mapBert(const Config &c, const SafeTensors &st, ImportedModel &m) {
  int64_t layers = 0;
  if (Status s = c.integer("hidden_size", m.dModel); !s.ok()) return s;
  if (Status s = c.integer("num_hidden_layers", layers); !s.ok()) return s;
  if (Status s = c.integer("num_attention_heads", m.numHeads); !s.ok()) return s;
  if (Status s = c.integer("intermediate_size", m.dFF); !s.ok()) return s;
  if (Status s = c.integer("vocab_size", m.vocabSize); !s.ok()) return s;
  if (Status s = c.integer("max_position_embeddings", m.maxPositions); !s.ok()) return s;
  m.typeVocabSize = 2;
  if (Status s = c.integer("type_vocab_size", m.typeVocabSize, false, 0); !s.ok()) return s;
  m.layerNormEpsilon = 1e-12f;
  if (Status s = c.number("layer_norm_eps", m.layerNormEpsilon); !s.ok()) return s;
  if (Status s = checkActivation(c, "hidden_act", c.string("hidden_act", "gelu"), m); !s.ok())
    return s;
  std::string pos = c.string("position_embedding_type", "absolute");
  if (pos != "absolute")
    return fail(c.file, "key 'position_embedding_type' is '" + pos +
                            "', which is not supported (supported: absolute)");
  m.numLayers = layers;
  m.family = static_cast<int>(fb::Family::Encoder);
  m.normPlacement = static_cast<int>(fb::NormPlacement::Post);
  m.embeddingNorm = true;

  Weights w{st, {"", "bert."}, ""};
  w.choosePrefix("embeddings.word_embeddings.weight");
  Mapper map{w, m};
  int64_t d = m.dModel;
  if (Status s = map.copy("embeddings.word_embeddings.weight", {m.vocabSize, d}, "embeddings.token"); !s.ok()) return s;
  if (Status s = map.copy("embeddings.position_embeddings.weight", {m.maxPositions, d}, "embeddings.position"); !s.ok()) return s;
  if (m.typeVocabSize > 0)
    if (Status s = map.copy("embeddings.token_type_embeddings.weight", {m.typeVocabSize, d}, "embeddings.token_type"); !s.ok()) return s;
  if (Status s = map.norm("embeddings.LayerNorm", "embeddings.norm"); !s.ok()) return s;
  for (int64_t i = 0; i < layers; ++i) {
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

} // namespace

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
  if (*type == "bert")
    return mapBert(c, weights, m);
  if (*type == "distilbert")
    return mapDistilBert(c, weights, m);
  if (*type == "gpt2")
    return mapGpt2(c, weights, m);
  return fail("config.json", "model_type '" + type->str() +
                                 "' is not supported (supported: bert, distilbert, gpt2)");
}

} // namespace tfc::hf
