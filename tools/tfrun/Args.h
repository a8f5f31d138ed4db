//===- Args.h - tfrun's command line ---------------------------------------===//
//
//   tfrun PLAN [--input NAME=FILE.npy]... [--output-dir DIR] [--describe] [--verify]
//         [--function NAME] [--threads N] [--device D] [--iterations N] [--warmup K]
//         [--profile] [--attention-out DIR [--heatmap]] [--quiet]
//   tfrun PLAN --generate [--tokens-input NAME] [--text TEXT]... [--max-new-tokens N]
//         [--strategy greedy|sample|beam] [--temperature T] [--top-k K] [--top-p P]
//         [--beam-width W] [--length-penalty A] [--seed S] [--eos-id ID] ...
//
// Parsing only: no file is opened here.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_TOOLS_TFRUN_ARGS_H
#define TFC_TOOLS_TFRUN_ARGS_H

#include "Status.h"

#include <string>
#include <utility>
#include <vector>

namespace tfc::tfrun {

extern const char *const kUsage;

struct Options {
  std::string plan;
  std::vector<std::pair<std::string, std::string>> inputs; // NAME, FILE.npy; names unique
  std::string outputDir;                                   // empty: print a summary
  std::string function;                                    // empty: "forward", else the first
  bool describe = false;
  bool verify = false; // --verify: tfc_plan_verify, then exit
  bool profile = false;
  bool help = false;
  // --wait-policy auto|spin|passive (--no-spin: passive): how idle worker threads wait, applied
  // as TFC_WAIT_POLICY by re-executing tfrun (libtfc_runtime reads it when it loads). Empty: the
  // environment's TFC_WAIT_POLICY, else auto.
  std::string waitPolicy;
  int threads = 0; // 0: the runtime's default
  std::string device; // --device: "cpu", "cuda", "cuda:N"; empty: the plan target's device 0
  int iterations = 1;
  int warmup = 0;

  bool embed = false;                  // --embed: sentence embeddings of --text
  std::string attentionOut;            // --attention-out DIR: attention weights (Attention.h)
  bool heatmap = false;                // --heatmap: with --attention-out, SVG heatmaps too
  bool progress = true;                // false: --quiet / --no-progress (no progress line)

  // --generate
  bool generate = false;
  std::string tokensInput;             // empty: the plan's token input
  std::vector<std::string> texts;      // --text (a batch of prompts)
  int maxNewTokens = 32;
  std::string strategy = "greedy";     // greedy | sample | beam
  double temperature = 1.0, topP = 1.0, lengthPenalty = 1.0;
  int topK = 0, beamWidth = 1;
  long long seed = 0;
  bool hasEosId = false;
  long long eosId = -1;
};

/// Parses argv[1..argc); on error the message says which flag and why.
Status parseArgs(int argc, const char *const *argv, Options &out);

} // namespace tfc::tfrun

#endif // TFC_TOOLS_TFRUN_ARGS_H
