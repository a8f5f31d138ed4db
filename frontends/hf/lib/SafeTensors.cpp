//===- SafeTensors.cpp - a checked reader of .safetensors files -----------===//
//
// Layout: u64 little-endian N, then N bytes of JSON {name: {dtype, shape,
// data_offsets: [begin, end]}, "__metadata__": {...}}, then the data section;
// offsets are relative to the data section. Every check fails with a message
// naming the file and, where there is one, the tensor.
//
//===----------------------------------------------------------------------===//
#include "Internal.h"

#include <algorithm>
#include <cstring>
#include <fstream>

namespace tfc::hf {

Status fail(const std::string &file, const std::string &message) {
  return {file + ": " + message};
}

Status readTextFile(const std::string &path, std::string &out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail(path, "cannot open file");
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad())
    return fail(path, "cannot read file");
  return {};
}

namespace {

bool dtypeFromName(llvm::StringRef s, DType &out, size_t &size) {
  if (s == "F32") { out = DType::F32; size = 4; return true; }
  if (s == "F16") { out = DType::F16; size = 2; return true; }
  if (s == "BF16") { out = DType::BF16; size = 2; return true; }
  if (s == "I64") { out = DType::I64; size = 8; return true; }
  return false;
}

/// A non-negative integer JSON value (json numbers may be int64 or double).
bool asUnsigned(const llvm::json::Value &v, uint64_t &out) {
  if (auto i = v.getAsInteger()) {
    if (*i < 0)
      return false;
    out = static_cast<uint64_t>(*i);
    return true;
  }
  if (auto u = v.getAsUINT64()) {
    out = *u;
    return true;
  }
  return false;
}

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

Status parseEntry(const std::string &file, const std::string &name, const llvm::json::Value &v,
                  uint64_t dataSize, const uint8_t *data, SafeTensor &t, uint64_t &begin,
                  uint64_t &end) {
  auto where = "tensor '" + name + "'";
  const llvm::json::Object *o = v.getAsObject();
  if (!o)
    return fail(file, where + ": header entry is not an object");
  auto dt = o->getString("dtype");
  if (!dt)
    return fail(file, where + ": missing dtype");
  size_t elemSize = 0;
  if (!dtypeFromName(*dt, t.dtype, elemSize))
    return fail(file, where + ": unknown or unsupported dtype '" + dt->str() +
                          "' (supported: F32, F16, BF16, I64)");
  const llvm::json::Array *shape = o->getArray("shape");
  if (!shape)
    return fail(file, where + ": missing shape");
  uint64_t elems = 1;
  for (const llvm::json::Value &d : *shape) {
    uint64_t n = 0;
    if (!asUnsigned(d, n) || n > (uint64_t(1) << 62))
      return fail(file, where + ": shape has a dim that is not a non-negative integer");
    t.shape.push_back(static_cast<int64_t>(n));
    if (__builtin_mul_overflow(elems, n, &elems))
      return fail(file, where + ": shape " + shapeText(t.shape) + " has too many elements");
  }
  const llvm::json::Array *offsets = o->getArray("data_offsets");
  if (!offsets || offsets->size() != 2 || !asUnsigned((*offsets)[0], begin) ||
      !asUnsigned((*offsets)[1], end))
    return fail(file, where + ": data_offsets must be [begin, end] (non-negative integers)");
  if (end < begin)
    return fail(file, where + ": data_offsets [" + std::to_string(begin) + ", " +
                          std::to_string(end) + "] end before begin");
  if (end > dataSize)
    return fail(file, where + ": data_offsets [" + std::to_string(begin) + ", " +
                          std::to_string(end) + "] out of range (data section has " +
                          std::to_string(dataSize) + " bytes)");
  uint64_t expected = 0;
  if (__builtin_mul_overflow(elems, elemSize, &expected) || expected != end - begin)
    return fail(file, where + ": has " + std::to_string(end - begin) + " bytes, expected " +
                          std::to_string(elems) + " x " + std::to_string(elemSize) +
                          " for shape " + shapeText(t.shape) + " " + dt->str());
  t.data = data + begin;
  t.size = end - begin;
  return {};
}

} // namespace

Status parseSafeTensors(std::vector<uint8_t> bytes, const std::string &file, SafeTensors &out) {
  auto buffer = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  const std::vector<uint8_t> &b = *buffer;
  if (b.size() < 8)
    return fail(file, "file is too small for a safetensors header (" + std::to_string(b.size()) +
                          " bytes)");
  uint64_t headerLen = 0;
  for (int i = 7; i >= 0; --i)
    headerLen = (headerLen << 8) | b[i];
  if (headerLen > b.size() - 8)
    return fail(file, "header length " + std::to_string(headerLen) + " exceeds the file (" +
                          std::to_string(b.size() - 8) + " bytes after the length)");
  llvm::StringRef headerText(reinterpret_cast<const char *>(b.data() + 8), headerLen);
  llvm::json::Value header(nullptr);
  if (Status s = parseJsonText(headerText, file, "header", header); !s.ok())
    return s;
  const llvm::json::Object *root = header.getAsObject();
  if (!root)
    return fail(file, "header is not a JSON object");
  const uint8_t *data = b.data() + 8 + headerLen;
  uint64_t dataSize = b.size() - 8 - headerLen;

  SafeTensors result;
  result.path = file;
  result.bytes = buffer;
  struct Range {
    uint64_t begin, end;
    std::string name;
  };
  std::vector<Range> ranges;
  for (const auto &kv : *root) {
    std::string name = kv.first.str();
    if (name == "__metadata__")
      continue;
    SafeTensor t;
    uint64_t begin = 0, end = 0;
    if (Status s = parseEntry(file, name, kv.second, dataSize, data, t, begin, end); !s.ok())
      return s;
    ranges.push_back({begin, end, name});
    result.tensors.emplace(name, std::move(t));
  }
  std::sort(ranges.begin(), ranges.end(), [](const Range &a, const Range &c) {
    return a.begin != c.begin ? a.begin < c.begin : a.end < c.end;
  });
  const Range *last = nullptr;  // the non-empty range ending last so far
  for (const Range &r : ranges) {
    if (r.end == r.begin)
      continue;
    if (last && r.begin < last->end)
      return fail(file, "tensors '" + last->name + "' and '" + r.name +
                            "' overlap in the data section");
    if (!last || r.end > last->end)
      last = &r;
  }
  out = std::move(result);
  return {};
}

Status readSafeTensors(const std::string &path, SafeTensors &out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail(path, "cannot open file");
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size < 0)
    return fail(path, "cannot read file");
  in.seekg(0, std::ios::beg);
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char *>(bytes.data()), size))
    return fail(path, "cannot read file");
  return parseSafeTensors(std::move(bytes), path, out);
}

namespace {
float halfToFloat(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalize
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) {
        mant <<= 1;
        --exp;
      }
      mant &= 0x3ff;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
} // namespace

Status tensorToF32(const SafeTensors &file, const std::string &name, std::vector<float> &out) {
  auto it = file.tensors.find(name);
  if (it == file.tensors.end())
    return fail(file.path, "missing tensor '" + name + "'");
  const SafeTensor &t = it->second;
  const uint8_t *p = t.data;
  switch (t.dtype) {
  case DType::F32:
    out.resize(t.size / 4);
    if (t.size)
      std::memcpy(out.data(), p, t.size);
    return {};
  case DType::F16:
  case DType::BF16:
    out.resize(t.size / 2);
    for (size_t i = 0; i < out.size(); ++i) {
      uint16_t h = static_cast<uint16_t>(p[2 * i] | (p[2 * i + 1] << 8));
      if (t.dtype == DType::F16) {
        out[i] = halfToFloat(h);
      } else {
        uint32_t bits = static_cast<uint32_t>(h) << 16;
        std::memcpy(&out[i], &bits, 4);
      }
    }
    return {};
  case DType::I64:
    break;
  }
  return fail(file.path, "tensor '" + name + "' has dtype I64, expected a float dtype");
}

} // namespace tfc::hf
