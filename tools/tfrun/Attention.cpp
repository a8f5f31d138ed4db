//===- Attention.cpp - tfrun --attention-out: attention weights as .npy, JSON and heatmaps -----===//
#include "Attention.h"

#include "Heatmap.h"
#include "Npy.h"
#include "Run.h"

#include "tfc/support/OutputFile.h"

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>
#include <system_error>

namespace tfc::tfrun {
namespace {

/// A file-name piece: anything but [A-Za-z0-9._-] becomes '_'.
std::string fileSafe(const std::string &name) {
  std::string s = name.empty() ? "attention" : name;
  for (char &c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-')
      c = '_';
  return s;
}

std::string twoDigits(int64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%02lld", (long long)n);
  return buf;
}

/// A JSON string literal.
std::string jsonString(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

struct Record {
  tfc_attention_weights w;
  std::string prefix; // "<function>[.sNNN].L<layer>.<kernel>"
};

/// Every record with its file prefix; a function that ran more than once gets its run ordinal.
Status readRecords(const tfc_session *session, std::vector<Record> &records) {
  std::map<std::string, std::vector<int64_t>> runsOf; // function -> distinct runs, in order
  for (size_t i = 0, n = tfc_session_attention_count(session); i < n; ++i) {
    Record r;
    if (Status s = take(tfc_session_attention_get(session, i, &r.w)); !s.ok())
      return s;
    auto &runs = runsOf[r.w.function];
    if (runs.empty() || runs.back() != r.w.run)
      runs.push_back(r.w.run);
    records.push_back(r);
  }
  for (Record &r : records) {
    const auto &runs = runsOf[r.w.function];
    r.prefix = fileSafe(r.w.function);
    if (runs.size() > 1) {
      int64_t step = 0;
      while (runs[size_t(step)] != r.w.run)
        ++step;
      char buf[24];
      std::snprintf(buf, sizeof buf, ".s%03lld", (long long)step);
      r.prefix += buf;
    }
    r.prefix += ".L" + twoDigits(r.w.layer) + "." + fileSafe(r.w.kernel);
  }
  return Status::success();
}

/// One SVG per head and batch row of a record with more than one query. Queries are the last
/// Sq of the Sk key positions (self-attention over this run's and the cached tokens).
Status writeHeatmaps(const Record &r, const TokenRows &tokens, const std::string &dir,
                     size_t &written) {
  const int64_t B = r.w.dims[0], H = r.w.dims[1], Sq = r.w.dims[2], Sk = r.w.dims[3];
  if (Sq < 2)
    return Status::success();
  for (int64_t b = 0; b < B; ++b) {
    HeatmapInput in;
    in.rows = Sq, in.cols = Sk;
    const std::vector<std::string> none;
    const std::vector<std::string> &row = size_t(b) < tokens.size() ? tokens[size_t(b)] : none;
    for (int64_t j = 0; j < Sk; ++j)
      in.colLabels.push_back(size_t(j) < row.size() ? row[size_t(j)] : std::to_string(j));
    for (int64_t i = 0; i < Sq; ++i) // more queries than keys: not self-attention, numbered
      in.rowLabels.push_back(Sq <= Sk ? in.colLabels[size_t(Sk - Sq + i)] : std::to_string(i));
    for (int64_t h = 0; h < H; ++h) {
      in.weights = r.w.data + (b * H + h) * Sq * Sk;
      in.title = std::string(r.w.kernel) + " (" + r.w.function + ", layer " +
                 std::to_string(r.w.layer) + "), head " + std::to_string(h) + ", row " +
                 std::to_string(b);
      std::string path = dir + "/" + r.prefix + ".h" + twoDigits(h) + ".b" + std::to_string(b) +
                         ".svg";
      if (std::string e = tfc::support::writeFileAtomically(path, attentionHeatmapSvg(in));
          !e.empty())
        return Status::failure(e);
      ++written;
    }
  }
  return Status::success();
}

} // namespace

TokenRows tokenLabels(const tfc_plan *plan, const int64_t *ids, int64_t rows, int64_t len) {
  TokenRows out(static_cast<size_t>(rows));
  for (int64_t b = 0; b < rows; ++b)
    for (int64_t j = 0; j < len; ++j) {
      int64_t id = ids[b * len + j];
      const char *s = tfc_plan_token(plan, id);
      out[size_t(b)].push_back(s ? s : std::to_string(id));
    }
  return out;
}

Status writeAttention(const Options &options, const tfc_session *session,
                      const TokenRows &tokens, std::FILE *out) {
  namespace fs = std::filesystem;
  const std::string &dir = options.attentionOut;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir, ec))
    return Status::failure("cannot create --attention-out directory " + dir +
                         (ec ? ": " + ec.message() : ": not a directory"));
  std::vector<Record> records;
  if (Status s = readRecords(session, records); !s.ok())
    return s;
  if (records.empty())
    return Status::failure("--attention-out: the plan ran no attention kernel (nothing captured)");
  std::string json = "{\n  \"records\": [\n";
  for (size_t i = 0; i < records.size(); ++i) {
    const Record &r = records[i];
    std::vector<int64_t> dims(r.w.dims, r.w.dims + 4);
    std::string file = r.prefix + ".npy";
    if (Status s = writeOutputNpy(options, dir + "/" + file, NpyDtype::F32, dims, r.w.data);
        !s.ok())
      return s;
    json += "    {\"file\": " + jsonString(file) + ", \"function\": " +
            jsonString(r.w.function) + ", \"run\": " + std::to_string(r.w.run) +
            ", \"layer\": " + std::to_string(r.w.layer) + ", \"kernel\": " +
            jsonString(r.w.kernel) + ", \"dims\": [" + std::to_string(dims[0]) + ", " +
            std::to_string(dims[1]) + ", " + std::to_string(dims[2]) + ", " +
            std::to_string(dims[3]) + "]}" + (i + 1 < records.size() ? ",\n" : "\n");
  }
  json += "  ],\n  \"tokens\": [";
  for (size_t b = 0; b < tokens.size(); ++b) {
    json += b ? ",\n    [" : "\n    [";
    for (size_t j = 0; j < tokens[b].size(); ++j)
      json += (j ? ", " : "") + jsonString(tokens[b][j]);
    json += "]";
  }
  json += tokens.empty() ? "]\n}\n" : "\n  ]\n}\n";
  if (std::string e = tfc::support::writeFileAtomically(dir + "/attention.json", json);
      !e.empty())
    return Status::failure(e);
  std::fprintf(out, "wrote %zu attention record(s) to %s (attention.json, %s.npy, ...)\n",
               records.size(), dir.c_str(), records.front().prefix.c_str());
  if (!options.heatmap)
    return Status::success();
  std::string maps = dir + "/heatmaps";
  fs::create_directories(maps, ec);
  if (ec)
    return Status::failure("cannot create " + maps + ": " + ec.message());
  size_t written = 0;
  for (const Record &r : records)
    if (Status s = writeHeatmaps(r, tokens, maps, written); !s.ok())
      return s;
  std::fprintf(out, "wrote %zu attention heatmap(s) to %s\n", written, maps.c_str());
  return Status::success();
}

} // namespace tfc::tfrun
