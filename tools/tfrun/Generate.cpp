//===- Generate.cpp - tfrun --generate: prompts in, streamed tokens out ----------------------===//
//
// Prompts come from the token input's --input file (rows of [batch, len]), from --text (through
// the plan's vocabulary, one token per character), or default to <START> (one per row of the
// fixed inputs). Everything goes through tfc_session_generate; this file only prepares inputs,
// prints, and writes tokens.npy.
//
//===----------------------------------------------------------------------------------------===//
#include "Generate.h"

#include "Attention.h"
#include "Inputs.h"
#include "Npy.h"
#include "Run.h"
#include "Text.h"

#include "tfc/support/Progress.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <optional>
#include <unistd.h>
#include <cstring>
#include <map>
#include <memory>

namespace tfc::tfrun {

namespace {

/// Splits UTF-8 text into code points (invalid bytes become one-byte pieces).
std::vector<std::string> codePoints(const std::string &text) {
  std::vector<std::string> out;
  for (size_t i = 0; i < text.size();) {
    unsigned char c = text[i];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (i + n > text.size())
      n = 1;
    out.push_back(text.substr(i, n));
    i += n;
  }
  return out;
}

struct Printer {
  const tfc_plan *plan = nullptr;
  std::FILE *out = nullptr;
  int64_t rows = 0;
  bool text = false; // the plan has a vocabulary
  int64_t eosId = -1;
  bool tokenizer = false;         // the plan has a tokenizer: decode whole sequences
  std::vector<int64_t> generated; // (tokenizer) the ids streamed so far
  size_t printed = 0;             // (tokenizer) bytes of their text already printed
};

/// The text of `ids` through the plan's tokenizer, NUL bytes included ("" on failure).
std::string textOf(const tfc_plan *plan, const std::vector<int64_t> &ids) {
  std::string text;
  if (!detokenize(plan, ids, text).ok())
    text.clear();
  return text;
}

/// Prints every byte of `text` (it may hold NUL bytes).
void printText(std::FILE *out, const std::string &text) {
  std::fwrite(text.data(), 1, text.size(), out);
}

/// One token as text (the vocabulary's string) or as an id.
std::string tokenText(const Printer &p, int64_t token) {
  const char *s = p.text ? tfc_plan_token(p.plan, token) : nullptr;
  if (s && token != p.eosId)
    return s;
  return (p.text ? "<" + std::to_string(token) + ">" : std::to_string(token) + " ");
}

/// Streams the tokens of a single sequence as they come.
int printToken(void *user, int64_t, int64_t token) {
  auto *p = static_cast<Printer *>(user);
  if (p->tokenizer) {
    // Byte-level tokens may end inside a UTF-8 character: print what decodes completely.
    p->generated.push_back(token);
    std::string text = textOf(p->plan, p->generated);
    bool partial = text.size() >= 3 && text.compare(text.size() - 3, 3, "\xEF\xBF\xBD") == 0;
    if (!partial && text.size() > p->printed) {
      printText(p->out, text.substr(p->printed));
      p->printed = text.size();
    }
    std::fflush(p->out);
    return 1;
  }
  std::fputs(tokenText(*p, token).c_str(), p->out);
  std::fflush(p->out);
  return 1;
}

double perSecond(double count, double ms) { return ms > 0 ? count * 1000.0 / ms : 0.0; }

/// What the token callback does: stream a single sequence (Printer) and/or keep the progress
/// line ("generating 37/64 tokens 41 tok/s") on a terminal's stderr.
struct TokenSink {
  Printer *printer = nullptr; // non-null: stream the tokens
  std::optional<tfc::support::ProgressLine> progress;
  int64_t maxNew = 0, tokens = 0;
  std::vector<int64_t> perRow;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  // The process's CPU time at the first and the latest token: with one sequence, the steps
  // between them are the decode steps (the first token comes from the prompt's logits).
  double cpuFirst = 0, cpuLast = 0;
  int64_t calls = 0;
};

/// CPU seconds of this process (every thread).
double processCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

int onToken(void *user, int64_t row, int64_t token) {
  auto *sink = static_cast<TokenSink *>(user);
  sink->cpuLast = processCpuSeconds();
  if (sink->calls++ == 0)
    sink->cpuFirst = sink->cpuLast;
  int keep = sink->printer ? printToken(sink->printer, row, token) : 1;
  if (sink->progress) {
    if (size_t(row) >= sink->perRow.size())
      sink->perRow.resize(size_t(row) + 1);
    ++sink->perRow[size_t(row)];
    ++sink->tokens;
    int64_t step = *std::max_element(sink->perRow.begin(), sink->perRow.end());
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - sink->start).count();
    char line[96];
    std::snprintf(line, sizeof line, "generating %lld/%lld tokens %.0f tok/s", (long long)step,
                  (long long)sink->maxNew, s > 0 ? double(sink->tokens) / s : 0.0);
    sink->progress->update(line);
  }
  return keep;
}

/// The tokens of every generated sequence (prompt + new tokens), as labels.
TokenRows sequenceTokens(const tfc_plan *plan, const tfc_generation *result) {
  TokenRows rows;
  for (size_t i = 0, n = tfc_generation_count(result); i < n; ++i) {
    size_t len = 0;
    const int64_t *seq = tfc_generation_tokens(result, i, &len);
    rows.push_back(tokenLabels(plan, seq, 1, int64_t(len)).front());
  }
  return rows;
}

} // namespace

Status runGenerate(const Options &options, tfc_plan *plan, const tfc_plan_info &info,
                   std::FILE *out) {
  tfc_generation_info gen;
  tfc_plan_get_generation_info(plan, &gen);
  if (!gen.mode)
    return Status::failure("plan '" + options.plan + "' does not generate (family '" +
                         std::string(info.family ? info.family : "") +
                         "': no causal self-attention with per-position logits)");
  std::string tokensInput = options.tokensInput.empty() ? gen.token_input : options.tokensInput;
  if (tokensInput != gen.token_input)
    return Status::failure("--tokens-input '" + tokensInput + "': the plan generates through '" +
                         gen.token_input + "'");

  // Inputs: the prompts (token input) and the fixed ones.
  std::vector<std::vector<int64_t>> prompts;
  std::vector<HostTensor> fixed;
  for (const auto &[name, file] : options.inputs) {
    NpyArray a;
    if (Status s = readNpy(file, a); !s.ok())
      return s;
    if (name == tokensInput) {
      if (!options.texts.empty())
        return Status::failure("give the prompts either with --input " + name + "=... or --text");
      if (a.shape.size() != 2 || a.shape[1] < 1 ||
          (a.dtype != NpyDtype::I64 && a.dtype != NpyDtype::I32))
        return Status::failure(file + ": the prompts must be int64 or int32 [batch, len >= 1]");
      for (int64_t r = 0; r < a.shape[0]; ++r) {
        std::vector<int64_t> p(size_t(a.shape[1]));
        for (int64_t c = 0; c < a.shape[1]; ++c) {
          size_t i = size_t(r * a.shape[1] + c);
          if (a.dtype == NpyDtype::I64)
            std::memcpy(&p[size_t(c)], a.data.data() + 8 * i, 8);
          else {
            int32_t v;
            std::memcpy(&v, a.data.data() + 4 * i, 4);
            p[size_t(c)] = v;
          }
        }
        prompts.push_back(std::move(p));
      }
      continue;
    }
    HostTensor t;
    if (Status s = tensorFromNpy(name, file, std::move(a), t); !s.ok())
      return s;
    fixed.push_back(std::move(t));
  }
  bool tokenizer = tfc_plan_has_tokenizer(plan) != 0;
  for (const std::string &text : options.texts) {
    if (tokenizer) {
      // The whole prompt: generate refuses one longer than the plan's positions, naming its
      // length (the tokenizer's truncation is for encoder inputs).
      std::vector<int64_t> p;
      if (Status s = tokenize(plan, text, false, false, p); !s.ok())
        return s;
      if (p.empty())
        return Status::failure("--text '" + text + "' has no tokens");
      prompts.push_back(std::move(p));
      continue;
    }
    size_t vocab = tfc_plan_vocabulary_size(plan);
    if (vocab == 0)
      return Status::failure("--text needs a plan with a vocabulary (this one has none); give the "
                           "token ids with --input " + tokensInput + "=FILE.npy");
    // One token per character: the vocabulary must be character-level (special tokens aside).
    // Subword tokenizers (WordPiece, BPE) are not read here.
    std::map<std::string, int64_t> ids;
    for (size_t i = 0; i < vocab; ++i) {
      const char *s = tfc_plan_token(plan, int64_t(i));
      std::string t = s ? s : "";
      bool special = t.size() > 2 && t.front() == '<' && t.back() == '>';
      if (!t.empty() && !special && codePoints(t).size() != 1)
        return Status::failure("--text: the plan's vocabulary is not character-level (token " +
                             std::to_string(i) + " is '" + t + "'); give the token ids with "
                             "--input " + tokensInput + "=FILE.npy");
      if (!t.empty())
        ids.emplace(t, int64_t(i));
    }
    std::vector<int64_t> p;
    if (info.start_id >= 0)
      p.push_back(info.start_id);
    for (const std::string &c : codePoints(text)) {
      auto it = ids.find(c);
      if (it == ids.end() && info.unk_id < 0)
        return Status::failure("--text: '" + c + "' is not in the vocabulary and the model has no "
                             "<UNK>");
      p.push_back(it == ids.end() ? info.unk_id : it->second);
    }
    prompts.push_back(std::move(p));
  }
  if (prompts.empty()) {
    if (info.start_id < 0)
      return Status::failure("no prompt: give --input " + tokensInput +
                           "=FILE.npy (int64 [batch, len]) or --text");
    int64_t rows = fixed.empty() || fixed[0].dims.empty() ? 1 : fixed[0].dims[0];
    prompts.assign(size_t(rows), std::vector<int64_t>{info.start_id});
  }

  tfc_generate_options go;
  tfc_generate_options_init(&go);
  go.strategy = options.strategy == "sample" ? TFC_SAMPLE
                : options.strategy == "beam" ? TFC_BEAM
                                             : TFC_GREEDY;
  go.max_new_tokens = options.maxNewTokens;
  bool modelFbs = std::strcmp(info.family ? info.family : "", "onnx") != 0;
  go.eos_id = options.hasEosId ? options.eosId : (modelFbs ? info.end_id : -1);
  go.temperature = float(options.temperature);
  go.top_k = options.topK;
  go.top_p = float(options.topP);
  go.seed = uint64_t(options.seed);
  go.beam_width = options.beamWidth;
  go.length_penalty = float(options.lengthPenalty);

  tfc_session_options so;
  tfc_session_options_init(&so);
  so.num_threads = options.threads;
  so.device = options.device.empty() ? nullptr : options.device.c_str();
  if (Status s = checkDevice(options.device); !s.ok())
    return s;
  tfc_session *rawSession = nullptr;
  if (Status s = take(tfc_session_create(plan, &so, &rawSession)); !s.ok())
    return s;
  std::unique_ptr<tfc_session, void (*)(tfc_session *)> session(rawSession, tfc_session_release);
  const bool capture = !options.attentionOut.empty();
  if (capture)
    if (Status s = take(tfc_session_set_attention_capture(session.get(), 1)); !s.ok())
      return Status::failure("--attention-out: " + s.error);

  std::vector<int64_t> tokens, offsets = {0};
  for (const auto &p : prompts) {
    tokens.insert(tokens.end(), p.begin(), p.end());
    offsets.push_back(int64_t(tokens.size()));
  }
  std::vector<tfc_tensor> views;
  for (const HostTensor &t : fixed)
    views.push_back(t.view());

  std::string how = std::string(gen.mode) == "kv-cache" ? "KV cache: prefill + decode_step"
                                                       : std::string("recompute: ") + gen.reason;
  std::fprintf(out, "generating: %zu prompt(s), %s, up to %d new tokens, %s; %s\n",
               prompts.size(), options.strategy.c_str(), options.maxNewTokens,
               go.eos_id >= 0 ? ("eos " + std::to_string(go.eos_id)).c_str() : "no eos",
               how.c_str());
  Printer printer;
  printer.plan = plan;
  printer.out = out;
  printer.rows = int64_t(prompts.size());
  printer.text = tfc_plan_vocabulary_size(plan) > 0;
  printer.eosId = go.eos_id;
  printer.tokenizer = tokenizer;
  if (tokenizer && prompts.size() == 1) {
    printText(out, textOf(plan, prompts[0]));
  } else if (printer.text && prompts.size() == 1) {
    for (int64_t t : prompts[0])
      if (t != info.start_id)
        if (const char *s = tfc_plan_token(plan, t))
          std::fputs(s, out);
  }
  std::vector<double> decodeRates;
  std::unique_ptr<tfc_generation, void (*)(tfc_generation *)> result(nullptr, tfc_generation_free);
  tfc_generation_stats stats{};
  double decodeCpuMs = -1; // the streamed run's, when it is one greedy or sampled sequence
  int runs = options.warmup + options.iterations;
  for (int run = 0; run < runs; ++run) {
    bool stream = run == runs - 1; // stream the last (timed) run only
    if (options.profile && stream) {
      tfc_session_profile_reset(session.get());
      tfc_session_set_profiling(session.get(), 1);
    }
    tfc_generation *raw = nullptr;
    bool single = prompts.size() == 1;
    if (capture) // keep the streamed (last) run's weights only
      tfc_session_attention_clear(session.get());
    TokenSink sink;
    sink.printer = stream && single ? &printer : nullptr;
    sink.maxNew = options.maxNewTokens;
    // A streamed sequence on a terminal is its own progress: no line under it.
    if (tfc::support::progressWanted() && !(sink.printer && isatty(STDOUT_FILENO)))
      sink.progress.emplace();
    bool callback = sink.printer || sink.progress;
    if (Status s = take(tfc_session_generate(session.get(), tokens.data(), offsets.data(),
                                             prompts.size(), views.data(), views.size(), &go,
                                             callback ? onToken : nullptr, &sink, &raw));
        !s.ok())
      return s;
    result.reset(raw);
    tfc_generation_get_stats(raw, &stats);
    if (stream && single && options.strategy != "beam" && sink.calls == stats.decode_steps + 1)
      decodeCpuMs = 1e3 * (sink.cpuLast - sink.cpuFirst);
    if (run >= options.warmup)
      decodeRates.push_back(perSecond(double(stats.decode_steps) * double(prompts.size()) *
                                          (options.strategy == "beam" ? options.beamWidth : 1),
                                      stats.decode_ms));
  }
  std::fputc('\n', out);
  if (prompts.size() > 1) // a batch: each sequence once it is complete
    for (size_t i = 0, n = tfc_generation_count(result.get()); i < n; ++i) {
      size_t len = 0;
      const int64_t *seq = tfc_generation_tokens(result.get(), i, &len);
      std::string line = "[" + std::to_string(i) + "] ";
      if (tokenizer)
        line += textOf(plan, std::vector<int64_t>(seq, seq + len));
      else
        for (size_t j = 0; j < len; ++j)
          if (!(printer.text && seq[j] == info.start_id))
            line += tokenText(printer, seq[j]);
      printText(out, line + "\n");
    }

  // Throughput: rows fed per decode step (beam rows included).
  int64_t rowsPerStep = int64_t(prompts.size()) * (options.strategy == "beam" ? options.beamWidth : 1);
  double decodeTokens = double(stats.decode_steps) * double(rowsPerStep);
  std::sort(decodeRates.begin(), decodeRates.end());
  std::fprintf(out, "prefill: %lld tokens in %.3f ms (%.1f tokens/s)\n",
               (long long)stats.prompt_tokens, stats.prefill_ms,
               perSecond(double(stats.prompt_tokens), stats.prefill_ms));
  std::fprintf(out, "decode: %lld tokens in %.3f ms (%.1f tokens/s; %lld steps x %lld rows)\n",
               (long long)decodeTokens, stats.decode_ms,
               decodeRates.empty() ? 0.0 : decodeRates[decodeRates.size() / 2],
               (long long)stats.decode_steps, (long long)rowsPerStep);
  // CPU time is what a busy machine does not inflate (with one thread; more threads add their
  // spinning and waiting): tools/bench/decode_cpu.py reads this line.
  if (decodeCpuMs >= 0 && stats.decode_steps > 0)
    std::fprintf(out, "decode cpu: %.3f ms over %lld steps (%.3f ms per step; process CPU time)\n",
                 decodeCpuMs, (long long)stats.decode_steps,
                 decodeCpuMs / double(stats.decode_steps));
  if (options.iterations > 1)
    std::fprintf(out, "decode tokens/s over %d runs: min %.1f, median %.1f, max %.1f\n",
                 options.iterations, decodeRates.front(), decodeRates[decodeRates.size() / 2],
                 decodeRates.back());

  if (options.profile) {
    std::fprintf(out, "profile of decode_step (%lld steps):\n", (long long)stats.decode_steps);
    if (Status s = printProfile(session.get(), "decode_step", int(std::max<int64_t>(1, stats.decode_steps)), out);
        !s.ok())
      return s;
  }
  if (capture)
    if (Status s = writeAttention(options, session.get(), sequenceTokens(plan, result.get()), out);
        !s.ok())
      return s;
  if (!options.outputDir.empty()) {
    size_t n = tfc_generation_count(result.get()), width = 0;
    for (size_t i = 0; i < n; ++i) {
      size_t len = 0;
      tfc_generation_tokens(result.get(), i, &len);
      width = std::max(width, len);
    }
    int64_t pad = go.eos_id >= 0 ? go.eos_id : (info.pad_id >= 0 ? info.pad_id : 0);
    std::vector<int64_t> all(n * width, pad);
    for (size_t i = 0; i < n; ++i) {
      size_t len = 0;
      const int64_t *seq = tfc_generation_tokens(result.get(), i, &len);
      std::copy(seq, seq + len, all.begin() + long(i * width));
    }
    std::string path = options.outputDir + "/tokens.npy";
    if (Status s = writeOutputNpy(options, path, NpyDtype::I64, {int64_t(n), int64_t(width)}, all.data());
        !s.ok())
      return s;
    std::fprintf(out, "wrote %s: int64 [%zu, %zu]\n", path.c_str(), n, width);
  }
  return Status::success();
}

} // namespace tfc::tfrun
