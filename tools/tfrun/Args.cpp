//===- Args.cpp - tfrun's command line -------------------------------------===//
#include "Args.h"

#include "tfc/tfc_runtime.h" // TFC_MAX_THREADS

#include <cerrno>
#include <climits>
#include <cstdlib>

namespace tfc::tfrun {

const char *const kUsage =
    "usage: tfrun PLAN [options]\n"
    "\n"
    "Runs a plan written by `tfc compile` and prints (or saves) its outputs.\n"
    "\n"
    "  --input NAME=FILE.npy  feed input NAME from FILE.npy (repeatable); inputs not given\n"
    "                         are generated: token ids (inside the table they index), all-ones\n"
    "                         masks, zero token_type_ids, batch 1 and each other symbolic dim\n"
    "                         min(128, its bound)\n"
    "  --output-dir DIR       write each output to DIR/NAME.npy instead of printing a summary\n"
    "  --describe             print the plan's signature and metadata, then exit\n"
    "  --verify               check every weight's checksum now (reads all the weights), say\n"
    "                         so, then exit (after --describe's output with --describe); a run\n"
    "                         checks them anyway before its session is created\n"
    "  --function NAME        the function to run (default: forward)\n"
    "  --threads N            worker threads, at most 1024 (default 0: the runtime's default)\n"
    "  --device D             cpu, cuda or cuda:N (default: device 0 of the plan's target)\n"
    "  --wait-policy P        how idle worker threads wait: auto (default: spin briefly, then\n"
    "                         sleep; robust on a busy machine), spin (spin long: lowest latency\n"
    "                         when the cores are yours), passive (sleep at once); sets\n"
    "                         TFC_WAIT_POLICY. OMP_WAIT_POLICY or GOMP_SPINCOUNT, if set, win\n"
    "  --no-spin              the same as --wait-policy passive\n"
    "  --iterations N         timed runs (default 1); latency min/p50/p90/max is printed\n"
    "  --warmup K             untimed runs before the timed ones (default 0)\n"
    "  --profile              time per kernel over the timed runs\n"
    "  --attention-out DIR    write each attention kernel's weights (softmax probabilities,\n"
    "                         f32 [batch, heads, queries, keys]) of the last run (or timed\n"
    "                         generation) as DIR/<function>.L<layer>.<kernel>.npy, with\n"
    "                         DIR/attention.json listing them and the tokens (cpu only;\n"
    "                         computing them slows that run)\n"
    "  --heatmap              with --attention-out: an SVG heatmap per layer, head and batch\n"
    "                         row in DIR/heatmaps (tokens on both axes)\n"
    "  --quiet, --no-progress no progress line on stderr (shown only when it is a terminal)\n"
    "  -h, --help             this message\n"
    "\n"
    "Text (plans that carry their tokenizer, e.g. imported from Hugging Face):\n"
    "  --text TEXT            tokenize TEXT (repeatable: a batch, padded) into the token ids,\n"
    "                         attention mask and token type inputs, and run\n"
    "  --embed                with --text: sentence embeddings (mean over the attention mask of\n"
    "                         the first output, L2-normalized) and, for two or more texts, their\n"
    "                         cosine similarities; --output-dir writes embeddings.npy\n"
    "\n"
    "Generation (plans of causal decoders and encoder-decoders):\n"
    "  --generate             generate tokens, streaming them as they come (one prompt; a batch\n"
    "                         prints each sequence when done); prints prefill and\n"
    "                         decode tokens/s (one sequence: also the decode's process CPU\n"
    "                         time); with --output-dir writes DIR/tokens.npy (int64\n"
    "                         [batch, prompt + generated], shorter rows padded with the eos id)\n"
    "  --tokens-input NAME    the input carrying the token sequence (default: the plan's);\n"
    "                         its --input file holds the prompts [batch, len]; other --input\n"
    "                         files stay fixed (one row per prompt, e.g. src_ids, src_mask)\n"
    "  --text TEXT            a prompt as text, through the plan's tokenizer or its character\n"
    "                         vocabulary (repeatable)\n"
    "  --max-new-tokens N     per sequence (default 32)\n"
    "  --strategy S           greedy (default), sample or beam\n"
    "  --temperature T        sample: > 0 (default 1)\n"
    "  --top-k K              sample: keep the K most likely tokens (default 0: all)\n"
    "  --top-p P              sample: nucleus (0, 1] (default 1)\n"
    "  --seed S               sample: the same seed gives the same tokens (default 0)\n"
    "  --beam-width W         beam: beams per prompt (default 4 with --strategy beam)\n"
    "  --length-penalty A     beam: score = log p / length^A (default 1)\n"
    "  --eos-id ID            stop a sequence at ID (default: the model's <END> for model.fbs\n"
    "                         plans, none for ONNX; -1: never)\n";

namespace {

bool parseDouble(const std::string &text, double &out) {
  if (text.empty())
    return false;
  char *end = nullptr;
  errno = 0;
  out = std::strtod(text.c_str(), &end);
  return !errno && !*end;
}

bool parseLong(const std::string &text, long long minValue, long long &out) {
  if (text.empty())
    return false;
  char *end = nullptr;
  errno = 0;
  out = std::strtoll(text.c_str(), &end, 10);
  return !errno && !*end && out >= minValue;
}

bool parseInt(const std::string &text, int minValue, int &out) {
  if (text.empty())
    return false;
  char *end = nullptr;
  errno = 0;
  long v = std::strtol(text.c_str(), &end, 10);
  if (errno || *end || v < minValue || v > INT_MAX)
    return false;
  out = static_cast<int>(v);
  return true;
}

} // namespace

Status parseArgs(int argc, const char *const *argv, Options &out) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    // "--flag VALUE" and "--flag=VALUE" both work.
    std::string flag = a, inlineValue;
    bool hasInline = false;
    if (a.rfind("--", 0) == 0) {
      if (size_t eq = a.find('='); eq != std::string::npos) {
        flag = a.substr(0, eq);
        inlineValue = a.substr(eq + 1);
        hasInline = true;
      }
    }
    auto value = [&](std::string &v) -> Status {
      if (hasInline) {
        v = inlineValue;
        return Status::success();
      }
      if (i + 1 >= argc)
        return Status::failure(flag + " needs a value");
      v = argv[++i];
      return Status::success();
    };
    auto intValue = [&](int minValue, int &dst, int maxValue = INT_MAX) -> Status {
      std::string v;
      if (Status s = value(v); !s.ok())
        return s;
      if (!parseInt(v, minValue, dst) || dst > maxValue)
        return Status::failure(flag + " expects an integer " +
                             (maxValue == INT_MAX ? ">= " + std::to_string(minValue)
                                                  : "in [" + std::to_string(minValue) + ", " +
                                                        std::to_string(maxValue) + "]") +
                             ", got '" + v + "'");
      return Status::success();
    };
    auto noValue = [&]() -> Status {
      return hasInline ? Status::failure(flag + " takes no value") : Status::success();
    };

    Status s;
    if (a == "-h" || flag == "--help") {
      out.help = true;
    } else if (flag == "--input") {
      std::string v;
      if (s = value(v); s.ok()) {
        size_t eq = v.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == v.size()) {
          s = Status::failure("--input expects NAME=FILE.npy, got '" + v + "'");
        } else {
          std::string name = v.substr(0, eq);
          for (const auto &[n, f] : out.inputs)
            if (n == name)
              s = Status::failure("input '" + name + "' given twice");
          if (s.ok())
            out.inputs.emplace_back(name, v.substr(eq + 1));
        }
      }
    } else if (flag == "--output-dir") {
      if (s = value(out.outputDir); s.ok() && out.outputDir.empty())
        s = Status::failure("--output-dir needs a directory");
    } else if (flag == "--function") {
      if (s = value(out.function); s.ok() && out.function.empty())
        s = Status::failure("--function needs a name");
    } else if (flag == "--describe") {
      s = noValue();
      out.describe = true;
    } else if (flag == "--verify") {
      s = noValue();
      out.verify = true;
    } else if (flag == "--profile") {
      s = noValue();
      out.profile = true;
    } else if (flag == "--no-spin") {
      s = noValue();
      out.waitPolicy = "passive";
    } else if (flag == "--wait-policy") {
      if (s = value(out.waitPolicy); s.ok() && out.waitPolicy != "auto" &&
                                     out.waitPolicy != "spin" && out.waitPolicy != "passive")
        s = Status::failure("--wait-policy expects auto, spin or passive, got '" + out.waitPolicy +
                          "'");
    } else if (flag == "--threads") {
      s = intValue(0, out.threads, TFC_MAX_THREADS);
    } else if (flag == "--device") {
      if (s = value(out.device); s.ok() && out.device.empty())
        s = Status::failure("--device needs a device (cpu, cuda or cuda:N)");
    } else if (flag == "--iterations") {
      s = intValue(1, out.iterations);
    } else if (flag == "--warmup") {
      s = intValue(0, out.warmup);
    } else if (flag == "--attention-out") {
      if (s = value(out.attentionOut); s.ok() && out.attentionOut.empty())
        s = Status::failure("--attention-out needs a directory");
    } else if (flag == "--heatmap") {
      s = noValue();
      out.heatmap = true;
    } else if (flag == "--quiet" || flag == "--no-progress") {
      s = noValue();
      out.progress = false;
    } else if (flag == "--embed") {
      s = noValue();
      out.embed = true;
    } else if (flag == "--generate") {
      s = noValue();
      out.generate = true;
    } else if (flag == "--tokens-input") {
      if (s = value(out.tokensInput); s.ok() && out.tokensInput.empty())
        s = Status::failure("--tokens-input needs a name");
    } else if (flag == "--text") {
      std::string v;
      if (s = value(v); s.ok())
        out.texts.push_back(v);
    } else if (flag == "--max-new-tokens") {
      s = intValue(0, out.maxNewTokens);
    } else if (flag == "--strategy") {
      if (s = value(out.strategy); s.ok() && out.strategy != "greedy" &&
                                   out.strategy != "sample" && out.strategy != "beam")
        s = Status::failure("--strategy expects greedy, sample or beam, got '" + out.strategy + "'");
      if (s.ok() && out.strategy == "beam" && out.beamWidth == 1)
        out.beamWidth = 4;
    } else if (flag == "--temperature" || flag == "--top-p" || flag == "--length-penalty") {
      std::string v;
      double d = 0;
      if (s = value(v); s.ok() && !parseDouble(v, d))
        s = Status::failure(flag + " expects a number, got '" + v + "'");
      if (s.ok())
        (flag == "--temperature" ? out.temperature
                                 : flag == "--top-p" ? out.topP : out.lengthPenalty) = d;
    } else if (flag == "--top-k") {
      s = intValue(0, out.topK);
    } else if (flag == "--beam-width") {
      s = intValue(1, out.beamWidth);
    } else if (flag == "--seed" || flag == "--eos-id") {
      std::string v;
      long long n = 0;
      if (s = value(v); s.ok() && !parseLong(v, flag == "--seed" ? 0 : -1, n))
        s = Status::failure(flag + " expects an integer >= " + (flag == "--seed" ? "0" : "-1") +
                          ", got '" + v + "'");
      if (s.ok() && flag == "--seed")
        out.seed = n;
      else if (s.ok()) {
        out.eosId = n;
        out.hasEosId = true;
      }
    } else if (a.size() > 1 && a[0] == '-') {
      s = Status::failure("unknown option '" + a + "'");
    } else if (out.plan.empty()) {
      out.plan = a;
    } else {
      s = Status::failure("more than one plan given ('" + out.plan + "' and '" + a + "')");
    }
    if (!s.ok())
      return s;
  }
  if (out.plan.empty() && !out.help)
    return Status::failure("no plan given");
  if (!out.generate && !out.tokensInput.empty())
    return Status::failure("--tokens-input needs --generate");
  if (out.heatmap && out.attentionOut.empty())
    return Status::failure("--heatmap needs --attention-out DIR");
  if (out.embed && (out.generate || out.texts.empty()))
    return Status::failure("--embed needs --text (and no --generate)");
  return Status::success();
}

} // namespace tfc::tfrun
