//===- Text.cpp - tfrun's text inputs and sentence embeddings ------------------------------===//
#include "Text.h"

#include "Run.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace tfc::tfrun {

namespace {

bool contains(const char *name, const char *part) {
  return name && std::strstr(name, part) != nullptr;
}

} // namespace

Status tokenize(const tfc_plan *plan, const std::string &text, bool special, bool truncate,
                std::vector<int64_t> &ids, size_t *untruncated) {
  unsigned flags = (special ? TFC_TOKENIZE_ADD_SPECIAL : 0u) |
                   (truncate ? 0u : TFC_TOKENIZE_NO_TRUNCATION);
  tfc_ids *raw = nullptr;
  if (Status s = take(tfc_plan_tokenize_flags(plan, text.data(), text.size(), flags, &raw));
      !s.ok())
    return s;
  ids.assign(tfc_ids_data(raw), tfc_ids_data(raw) + tfc_ids_count(raw));
  if (untruncated)
    *untruncated = tfc_ids_untruncated_count(raw);
  tfc_ids_free(raw);
  return Status::success();
}

Status detokenize(const tfc_plan *plan, const std::vector<int64_t> &ids, std::string &text) {
  char *raw = nullptr;
  size_t length = 0;
  Status s = take(tfc_plan_detokenize_n(plan, ids.data(), ids.size(), 1, &raw, &length));
  text.assign(raw ? raw : "", length);
  tfc_string_free(raw);
  return s;
}

Status textInputs(const tfc_plan *plan, const tfc_plan_info &info, const FunctionDescription &fn,
                  const std::vector<std::string> &texts, std::vector<HostTensor> &inputs,
                  std::vector<int64_t> &mask, int64_t &length,
                  std::vector<std::string> &warnings) {
  std::vector<std::vector<int64_t>> rows;
  for (const std::string &t : texts) {
    std::vector<int64_t> ids;
    size_t untruncated = 0;
    if (Status s = tokenize(plan, t, true, true, ids, &untruncated); !s.ok())
      return s;
    if (ids.empty())
      return Status::failure("--text '" + t + "' has no tokens");
    if (untruncated > ids.size())
      warnings.push_back("--text " + std::to_string(rows.size() + 1) + " has " +
                         std::to_string(untruncated) + " tokens, more than the tokenizer's max "
                         "length: truncated to " + std::to_string(ids.size()) +
                         " (as Hugging Face does with truncation=True)");
    rows.push_back(std::move(ids));
  }
  length = 0;
  for (const auto &r : rows)
    length = std::max<int64_t>(length, int64_t(r.size()));
  int64_t batch = int64_t(rows.size()), pad = info.pad_id >= 0 ? info.pad_id : 0;
  mask.assign(size_t(batch * length), 0);
  std::vector<int64_t> ids(size_t(batch * length), pad);
  for (int64_t b = 0; b < batch; ++b)
    for (size_t j = 0; j < rows[size_t(b)].size(); ++j) {
      ids[size_t(b * length) + j] = rows[size_t(b)][j];
      mask[size_t(b * length) + j] = 1;
    }
  inputs.clear();
  for (const tfc_port_info &p : fn.inputs) {
    const std::vector<int64_t> *values = nullptr;
    std::vector<int64_t> zeros;
    if (contains(p.name, "mask"))
      values = &mask;
    else if (contains(p.name, "type"))
      values = &(zeros = std::vector<int64_t>(ids.size(), 0));
    else if (contains(p.name, "ids") || contains(p.name, "input"))
      values = &ids;
    if (!values || p.rank != 2)
      return Status::failure(std::string("--text: cannot fill input '") + (p.name ? p.name : "?") +
                           "' of '" + fn.name + "' from text (it takes token ids [batch, seq], "
                           "an attention mask and token type ids)");
    HostTensor t;
    t.name = p.name;
    t.dtype = p.dtype;
    t.dims = {batch, length};
    size_t size = tfc_dtype_size(p.dtype);
    t.data.resize(values->size() * size);
    for (size_t i = 0; i < values->size(); ++i) {
      int64_t v = (*values)[i];
      switch (p.dtype) {
      case TFC_I64: std::memcpy(t.data.data() + 8 * i, &v, 8); break;
      case TFC_I32: { int32_t x = int32_t(v); std::memcpy(t.data.data() + 4 * i, &x, 4); break; }
      case TFC_F32: { float x = float(v); std::memcpy(t.data.data() + 4 * i, &x, 4); break; }
      case TFC_BOOL:
      case TFC_I8: t.data[i] = uint8_t(v); break;
      default:
        return Status::failure(std::string("--text: input '") + p.name + "' has dtype " +
                             dtypeName(p.dtype));
      }
    }
    inputs.push_back(std::move(t));
  }
  return Status::success();
}

std::vector<float> meanPoolNormalize(const float *hidden, const std::vector<int64_t> &mask,
                                     int64_t batch, int64_t len, int64_t dim) {
  std::vector<float> out(size_t(batch * dim), 0.f);
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<double> sum(size_t(dim), 0.0);
    double count = 0;
    for (int64_t s = 0; s < len; ++s) {
      if (!mask[size_t(b * len + s)])
        continue;
      count += 1;
      const float *row = hidden + (b * len + s) * dim;
      for (int64_t d = 0; d < dim; ++d)
        sum[size_t(d)] += row[d];
    }
    double norm = 0;
    for (double &v : sum) {
      v /= std::max(count, 1e-9);
      norm += v * v;
    }
    norm = std::max(std::sqrt(norm), 1e-12);
    for (int64_t d = 0; d < dim; ++d)
      out[size_t(b * dim + d)] = float(sum[size_t(d)] / norm);
  }
  return out;
}

} // namespace tfc::tfrun
