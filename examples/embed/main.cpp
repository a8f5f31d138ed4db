//===- main.cpp - tfc_embed: a small program that embeds the tfc runtime ----------------------===//
//
// Usage: tfc_embed PLAN TEXT... [--max-new-tokens N] [--threads N]
//
// Opens a plan compiled by `tfc compile` and, through the public C++ wrapper (tfc_runtime.hpp)
// only:
//  * encoder plans that carry their tokenizer: one sentence embedding per TEXT (the `forward`
//    hidden states mean-pooled over the real tokens, L2-normalized), printed as
//    "[i] N tokens, embedding [D]: x0 .. x5 ...  TEXT", then the cosine similarities;
//  * plans that generate (decoders): greedy generation from each TEXT, printed as
//    "[i] PROMPT+GENERATED". Prompts are tokenized by the plan's tokenizer, or character by
//    character with a character-level vocabulary (examples/models/chargpt.fbs).
// The formats are tfrun's (`tfrun --embed --text`, `tfrun --generate --text`), so that the two
// can be compared (tests/install/install_test.sh).
//
//===----------------------------------------------------------------------------------------===//
#include "tfc/tfc_runtime.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

int fail(const std::string &what, const tfc::Status &s) {
  std::fprintf(stderr, "tfc_embed: %s: %s\n", what.c_str(), s.toString().c_str());
  return 1;
}

bool contains(const char *name, const char *part) { return name && std::strstr(name, part); }

/// A tensor of int64 values converted to the port's dtype (token ids, masks, type ids).
struct Input {
  std::vector<unsigned char> bytes;
  int64_t dims[2];
  tfc_tensor view(const char *name, tfc_dtype dtype) const {
    tfc_tensor t{};
    t.name = name;
    t.dtype = dtype;
    t.rank = 2;
    t.dims = dims;
    t.data = bytes.data();
    return t;
  }
};

bool convert(const std::vector<int64_t> &values, tfc_dtype dtype, Input *out) {
  out->bytes.resize(values.size() * tfc_dtype_size(dtype));
  for (size_t i = 0; i < values.size(); ++i) {
    int64_t v = values[i];
    switch (dtype) {
    case TFC_I64: std::memcpy(&out->bytes[8 * i], &v, 8); break;
    case TFC_I32: { int32_t x = int32_t(v); std::memcpy(&out->bytes[4 * i], &x, 4); break; }
    case TFC_F32: { float x = float(v); std::memcpy(&out->bytes[4 * i], &x, 4); break; }
    case TFC_BOOL:
    case TFC_I8: out->bytes[i] = (unsigned char)v; break;
    default: return false;
    }
  }
  return true;
}

int embed(const tfc::Plan &plan, const std::vector<std::string> &texts, int threads) {
  // Tokenize with the model's special tokens, pad to the longest row.
  std::vector<std::vector<int64_t>> rows;
  for (const std::string &t : texts) {
    std::vector<int64_t> ids;
    if (tfc::Status s = plan.tokenize(t, TFC_TOKENIZE_ADD_SPECIAL, &ids); !s.ok())
      return fail("tokenize", s);
    rows.push_back(ids);
  }
  int64_t batch = int64_t(rows.size()), len = 0;
  for (const auto &r : rows)
    len = std::max<int64_t>(len, int64_t(r.size()));
  tfc_plan_info info = plan.info();
  std::vector<int64_t> ids(size_t(batch * len), info.pad_id >= 0 ? info.pad_id : 0);
  std::vector<int64_t> mask(ids.size(), 0), zeros(ids.size(), 0);
  for (int64_t b = 0; b < batch; ++b)
    for (size_t j = 0; j < rows[size_t(b)].size(); ++j) {
      ids[size_t(b * len) + j] = rows[size_t(b)][j];
      mask[size_t(b * len) + j] = 1;
    }

  // Fill forward's inputs by name: token ids, attention mask, token type ids.
  size_t numInputs = 0, numOutputs = 0;
  if (tfc::Status s(tfc_plan_num_ports(plan.get(), "forward", &numInputs, &numOutputs)); !s.ok())
    return fail("forward", s);
  std::vector<tfc_port_info> ports(numInputs);
  std::vector<Input> buffers(numInputs);
  std::vector<tfc_tensor> inputs;
  for (size_t i = 0; i < numInputs; ++i) {
    if (tfc::Status s = plan.inputInfo("forward", i, &ports[i]); !s.ok())
      return fail("forward", s);
    const tfc_port_info &p = ports[i];
    const std::vector<int64_t> *values = contains(p.name, "mask")   ? &mask
                                         : contains(p.name, "type") ? &zeros
                                         : contains(p.name, "ids") || contains(p.name, "input")
                                             ? &ids
                                             : nullptr;
    if (!values || p.rank != 2 || !convert(*values, p.dtype, &buffers[i])) {
      std::fprintf(stderr, "tfc_embed: cannot fill input '%s' from text\n", p.name);
      return 1;
    }
    buffers[i].dims[0] = batch;
    buffers[i].dims[1] = len;
    inputs.push_back(buffers[i].view(p.name, p.dtype));
  }

  tfc::Session session;
  if (tfc::Status s = tfc::Session::create(plan, threads, &session); !s.ok())
    return fail("session", s);
  tfc::Outputs outputs;
  if (tfc::Status s = session.run("forward", inputs.data(), inputs.size(), &outputs); !s.ok())
    return fail("forward", s);
  tfc_tensor h = outputs[0];
  if (h.dtype != TFC_F32 || h.rank != 3 || h.dims[0] != batch || h.dims[1] != len) {
    std::fprintf(stderr, "tfc_embed: forward's first output is not f32 [batch, seq, dim]\n");
    return 1;
  }
  const int64_t dim = h.dims[2];
  const float *hidden = static_cast<const float *>(h.data);

  // Mean over the real tokens, then L2 normalization (sentence-transformers' pooling).
  std::vector<float> e(size_t(batch * dim));
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<double> sum(size_t(dim), 0.0);
    double count = 0, norm = 0;
    for (int64_t s = 0; s < len; ++s) {
      if (!mask[size_t(b * len + s)])
        continue;
      count += 1;
      for (int64_t d = 0; d < dim; ++d)
        sum[size_t(d)] += hidden[(b * len + s) * dim + d];
    }
    for (double &v : sum) {
      v /= std::max(count, 1e-9);
      norm += v * v;
    }
    norm = std::max(std::sqrt(norm), 1e-12);
    for (int64_t d = 0; d < dim; ++d)
      e[size_t(b * dim + d)] = float(sum[size_t(d)] / norm);
    std::printf("[%lld] %lld tokens, embedding [%lld]:", (long long)b, (long long)count,
                (long long)dim);
    for (int64_t d = 0; d < std::min<int64_t>(dim, 6); ++d)
      std::printf(" %.5f", e[size_t(b * dim + d)]);
    std::printf(" ...  %s\n", texts[size_t(b)].c_str());
  }
  if (batch > 1) {
    std::printf("cosine similarity:\n");
    for (int64_t i = 0; i < batch; ++i) {
      std::printf("  [%lld]", (long long)i);
      for (int64_t j = 0; j < batch; ++j) {
        double dot = 0;
        for (int64_t d = 0; d < dim; ++d)
          dot += double(e[size_t(i * dim + d)]) * e[size_t(j * dim + d)];
        std::printf(" %7.4f", float(dot));
      }
      std::printf("\n");
    }
  }
  return 0;
}

/// UTF-8 code points of `text`, each as its bytes.
std::vector<std::string> codePoints(const std::string &text) {
  std::vector<std::string> out;
  for (size_t i = 0; i < text.size();) {
    unsigned char c = (unsigned char)text[i];
    size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    out.push_back(text.substr(i, n));
    i += n;
  }
  return out;
}

int generate(const tfc::Plan &plan, const std::vector<std::string> &texts, int maxNewTokens,
             int threads) {
  tfc_plan_info info = plan.info();
  const bool tokenizer = plan.hasTokenizer();
  std::map<std::string, int64_t> chars; // a character-level vocabulary, when no tokenizer
  const size_t vocab = tfc_plan_vocabulary_size(plan.get());
  if (!tokenizer) {
    if (vocab == 0) {
      std::fprintf(stderr, "tfc_embed: the plan has neither a tokenizer nor a vocabulary\n");
      return 1;
    }
    for (size_t i = 0; i < vocab; ++i)
      if (const char *s = tfc_plan_token(plan.get(), int64_t(i)); s && *s)
        chars.emplace(s, int64_t(i));
  }
  std::vector<std::vector<int64_t>> prompts;
  for (const std::string &t : texts) {
    std::vector<int64_t> p;
    if (tokenizer) {
      if (tfc::Status s = plan.tokenize(t, TFC_TOKENIZE_NO_TRUNCATION, &p); !s.ok())
        return fail("tokenize", s);
    } else {
      if (info.start_id >= 0)
        p.push_back(info.start_id);
      for (const std::string &c : codePoints(t)) {
        auto it = chars.find(c);
        if (it == chars.end() && info.unk_id < 0) {
          std::fprintf(stderr, "tfc_embed: '%s' is not in the vocabulary\n", c.c_str());
          return 1;
        }
        p.push_back(it == chars.end() ? info.unk_id : it->second);
      }
    }
    prompts.push_back(std::move(p));
  }

  tfc::Session session;
  if (tfc::Status s = tfc::Session::create(plan, threads, &session); !s.ok())
    return fail("session", s);
  tfc_generate_options options;
  tfc_generate_options_init(&options); // greedy
  options.max_new_tokens = maxNewTokens;
  options.eos_id = info.end_id;
  tfc::Generation generation;
  if (tfc::Status s = session.generate(prompts, nullptr, 0, options, &generation); !s.ok())
    return fail("generate", s);
  for (size_t i = 0; i < generation.size(); ++i) {
    std::vector<int64_t> seq = generation[i];
    std::string line;
    if (tokenizer) {
      if (tfc::Status s = plan.detokenize(seq, /*skipSpecial=*/true, &line); !s.ok())
        return fail("detokenize", s);
    } else {
      for (int64_t id : seq) {
        if (id == info.start_id)
          continue;
        const char *s = tfc_plan_token(plan.get(), id);
        line += s && id != info.end_id ? std::string(s) : "<" + std::to_string(id) + ">";
      }
    }
    std::printf("[%zu] %s\n", i, line.c_str());
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> texts;
  int maxNewTokens = 32, threads = 0; // 0: the runtime's default
  const char *path = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--max-new-tokens") == 0 && i + 1 < argc)
      maxNewTokens = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
      threads = std::atoi(argv[++i]);
    else if (!path)
      path = argv[i];
    else
      texts.push_back(argv[i]);
  }
  if (!path || texts.empty()) {
    std::fprintf(stderr, "usage: tfc_embed PLAN TEXT... [--max-new-tokens N] [--threads N]\n");
    return 2;
  }
  tfc::Plan plan;
  if (tfc::Status s = tfc::Plan::open(path, &plan); !s.ok())
    return fail(path, s);
  tfc_generation_info gen{};
  tfc_plan_get_generation_info(plan.get(), &gen);
  if (gen.mode)
    return generate(plan, texts, maxNewTokens, threads);
  if (!plan.hasTokenizer()) {
    std::fprintf(stderr, "tfc_embed: %s carries no tokenizer: cannot embed text\n", path);
    return 1;
  }
  return embed(plan, texts, threads);
}
