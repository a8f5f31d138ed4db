//===- Heatmap.cpp - an attention heatmap as SVG -----------------------------------------------===//
#include "Heatmap.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tfc::tfrun {
namespace {

constexpr int kMaxLabel = 16; // characters of a token shown (longer ones end in "~")

std::string label(const std::vector<std::string> &labels, int64_t i) {
  std::string s = size_t(i) < labels.size() ? labels[size_t(i)] : std::to_string(i);
  // Count code points, not bytes, and never cut inside a UTF-8 sequence.
  size_t points = 0, cut = s.size();
  for (size_t b = 0; b < s.size(); ++b)
    if ((static_cast<unsigned char>(s[b]) & 0xC0) != 0x80 && points++ == kMaxLabel) {
      cut = b;
      break;
    }
  return cut < s.size() ? s.substr(0, cut) + "~" : s;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

} // namespace

std::string xmlEscape(const std::string &text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&apos;"; break;
    default:
      // XML 1.0 allows no control characters but tab, newline and carriage return.
      out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
    }
  }
  return out;
}

std::string heatmapColor(float w) {
  float t = std::isnan(w) ? 0.f : std::clamp(w, 0.f, 1.f);
  // From white to #08306b (the dark end of ColorBrewer's "Blues"), linear in each channel.
  auto channel = [&](int dark) { return int(std::lround(255.0 + (dark - 255.0) * t)); };
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", channel(0x08), channel(0x30), channel(0x6b));
  return buf;
}

std::string attentionHeatmapSvg(const HeatmapInput &in) {
  const int64_t rows = in.rows, cols = in.cols;
  const double cell = std::clamp(560.0 / double(std::max<int64_t>({rows, cols, 1})), 6.0, 28.0);
  const double font = std::clamp(cell * 0.7, 6.0, 12.0);
  size_t longest = 1;
  for (int64_t i = 0; i < rows; ++i)
    longest = std::max(longest, label(in.rowLabels, i).size());
  for (int64_t j = 0; j < cols; ++j)
    longest = std::max(longest, label(in.colLabels, j).size());
  const double labelSpace = std::min<double>(double(std::min<size_t>(longest, kMaxLabel + 1)) *
                                                 font * 0.62 + 8.0, 160.0);
  const double left = labelSpace + 4, top = labelSpace + 28;
  const double gridW = cell * double(cols), gridH = cell * double(rows);
  const double barX = left + gridW + 16, width = barX + 60, height = top + gridH + 24;

  std::string s;
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(width) + "\" height=\"" +
       num(height) + "\" viewBox=\"0 0 " + num(width) + " " + num(height) +
       "\" font-family=\"DejaVu Sans, sans-serif\">\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  s += "<text class=\"title\" x=\"4\" y=\"16\" font-size=\"13\">" + xmlEscape(in.title) +
       "</text>\n";
  // Query tokens down the left, key tokens across the top (rotated).
  s += "<g class=\"queries\" font-size=\"" + num(font) + "\" text-anchor=\"end\">\n";
  for (int64_t i = 0; i < rows; ++i)
    s += "<text x=\"" + num(left - 4) + "\" y=\"" + num(top + cell * (double(i) + 0.5) + font * 0.35) +
         "\">" + xmlEscape(label(in.rowLabels, i)) + "</text>\n";
  s += "</g>\n<g class=\"keys\" font-size=\"" + num(font) + "\" text-anchor=\"start\">\n";
  for (int64_t j = 0; j < cols; ++j)
    s += "<text transform=\"translate(" + num(left + cell * (double(j) + 0.5) + font * 0.35) + "," +
         num(top - 4) + ") rotate(-90)\">" + xmlEscape(label(in.colLabels, j)) + "</text>\n";
  s += "</g>\n<g class=\"cells\" shape-rendering=\"crispEdges\">\n";
  char value[32];
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      float w = in.weights[i * cols + j];
      std::snprintf(value, sizeof value, "%.4f", double(w));
      s += "<rect class=\"cell\" data-q=\"" + std::to_string(i) + "\" data-k=\"" +
           std::to_string(j) + "\" x=\"" + num(left + cell * double(j)) + "\" y=\"" +
           num(top + cell * double(i)) + "\" width=\"" + num(cell) + "\" height=\"" + num(cell) +
           "\" fill=\"" + heatmapColor(w) + "\"><title>" + value + "</title></rect>\n";
    }
  s += "</g>\n";
  s += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(gridW) +
       "\" height=\"" + num(gridH) + "\" fill=\"none\" stroke=\"#888888\"/>\n";
  // The colour bar: 1 at the top, 0 at the bottom.
  s += "<defs><linearGradient id=\"bar\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
       "<stop offset=\"0\" stop-color=\"" + heatmapColor(0) + "\"/><stop offset=\"1\" "
       "stop-color=\"" + heatmapColor(1) + "\"/></linearGradient></defs>\n";
  s += "<rect class=\"bar\" x=\"" + num(barX) + "\" y=\"" + num(top) + "\" width=\"14\" height=\"" +
       num(gridH) + "\" fill=\"url(#bar)\" stroke=\"#888888\"/>\n";
  s += "<text x=\"" + num(barX + 18) + "\" y=\"" + num(top + 10) + "\" font-size=\"10\">1</text>\n";
  s += "<text x=\"" + num(barX + 18) + "\" y=\"" + num(top + gridH) +
       "\" font-size=\"10\">0</text>\n";
  s += "<text x=\"" + num(left) + "\" y=\"" + num(top + gridH + 16) +
       "\" font-size=\"10\">rows: queries, columns: keys</text>\n";
  s += "</svg>\n";
  return s;
}

} // namespace tfc::tfrun
