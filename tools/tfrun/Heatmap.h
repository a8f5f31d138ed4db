//===- Heatmap.h - an attention heatmap as SVG: queries down, keys across ---------------------===//
//
// One picture per (layer, head, batch row), as bertviz's head view and the source notes'
// "Attention HeatMap & Mask" draw it: a grid of cells, row i = query token i, column j = key
// token j, the cell's darkness = the weight (0 white, 1 dark blue, linear), tokens written along
// both axes, a colour bar. Keys a padding mask hides get weight 0: a white column band. Plain
// SVG text, no dependency.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_TOOLS_TFRUN_HEATMAP_H
#define TFC_TOOLS_TFRUN_HEATMAP_H

#include <cstdint>
#include <string>
#include <vector>

namespace tfc::tfrun {

struct HeatmapInput {
  const float *weights = nullptr; // [rows, cols], row-major, values in [0, 1]
  int64_t rows = 0, cols = 0;
  std::vector<std::string> rowLabels, colLabels; // one per row / column (missing: the index)
  std::string title;
};

/// The SVG document. Each cell is a <rect class="cell" data-q="i" data-k="j" fill="#rrggbb">
/// with a <title> holding its weight (for tests and tooltips).
std::string attentionHeatmapSvg(const HeatmapInput &in);

/// The fill of weight `w` (clamped to [0, 1]): "#ffffff" for 0, "#08306b" for 1.
std::string heatmapColor(float w);

/// `text` with &, <, >, " and ' escaped for SVG/XML (other control bytes become '?').
std::string xmlEscape(const std::string &text);

} // namespace tfc::tfrun

#endif // TFC_TOOLS_TFRUN_HEATMAP_H
