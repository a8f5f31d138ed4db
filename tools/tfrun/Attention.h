//===- Attention.h - tfrun --attention-out: attention weights as .npy, JSON and heatmaps -------===//
//
// With --attention-out DIR the session captures attention weights (tfc_session_attention_*)
// during the run (or the timed generation) and this writes them:
//   DIR/<function>[.sNNN].L<layer>.<kernel>.npy   f32 [batch, heads, queries, keys] per kernel
//                                                 (.sNNN: the run of that function, when it ran
//                                                 more than once: a generation's decode steps)
//   DIR/attention.json  {"records": [{"file", "function", "run", "layer", "kernel", "dims"}],
//                        "tokens": [[row 0's tokens], ...]}
//   DIR/heatmaps/<same prefix>.L<layer>.h<head>.b<row>.svg   with --heatmap, for records with
//                                                 more than one query (Heatmap.h)
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_TOOLS_TFRUN_ATTENTION_H
#define TFC_TOOLS_TFRUN_ATTENTION_H

#include "Args.h"
#include "Status.h"

#include "tfc/tfc_runtime.h"

#include <cstdio>
#include <string>
#include <vector>

namespace tfc::tfrun {

/// The tokens of each batch row, as labels for the pictures.
using TokenRows = std::vector<std::vector<std::string>>;

/// Labels of `ids` [rows, len]: the plan's vocabulary strings (the id in decimal without one).
TokenRows tokenLabels(const tfc_plan *plan, const int64_t *ids, int64_t rows, int64_t len);

/// Writes every record `session` holds to options.attentionOut (see the banner).
Status writeAttention(const Options &options, const tfc_session *session,
                      const TokenRows &tokens, std::FILE *out);

} // namespace tfc::tfrun

#endif // TFC_TOOLS_TFRUN_ATTENTION_H
