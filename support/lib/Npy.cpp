//===- Npy.cpp - read and write NumPy .npy files ---------------------------===//
//
// Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
//   "\x93NUMPY" major minor, header length (uint16 LE for 1.0, uint32 LE for
//   2.0), then an ASCII Python dict literal
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
//   padded with spaces and a final '\n', then the raw data.
//
//===----------------------------------------------------------------------===//
#include "tfc/support/Npy.h"

#include "tfc/support/OutputFile.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <sys/stat.h>
#include <unistd.h>

namespace tfc::support {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

struct DtypeEntry {
  NpyDtype dtype;
  const char *descr;
  const char *name;
  size_t size;
};
constexpr DtypeEntry kDtypes[] = {
    {NpyDtype::F32, "<f4", "f32", 4}, {NpyDtype::F16, "<f2", "f16", 2},
    {NpyDtype::I64, "<i8", "i64", 8}, {NpyDtype::I32, "<i4", "i32", 4},
    {NpyDtype::I8, "|i1", "i8", 1},   {NpyDtype::U8, "|u1", "u8", 1},
    {NpyDtype::Bool, "|b1", "bool", 1},
};

const DtypeEntry &entry(NpyDtype dtype) {
  for (const auto &e : kDtypes)
    if (e.dtype == dtype)
      return e;
  return kDtypes[0];
}

std::string supportedDescrs() {
  std::string s;
  for (const auto &e : kDtypes)
    s += std::string(s.empty() ? "" : ", ") + "'" + e.descr + "'";
  return s;
}

// ---- the header dict ------------------------------------------------------

struct Header {
  bool hasDescr = false, hasFortran = false, hasShape = false;
  std::string descr;
  bool fortranOrder = false;
  std::vector<int64_t> shape;
};

/// A recursive-descent reader of the dict literal numpy writes; `error` says
/// what it expected where.
class HeaderParser {
public:
  explicit HeaderParser(const std::string &text) : text_(text) {}

  bool parse(Header &h, std::string &error) {
    skipSpace();
    if (!consume('{'))
      return fail("expected '{'", error);
    for (;;) {
      skipSpace();
      if (consume('}'))
        break;
      std::string key;
      if (!parseString(key))
        return fail("expected a quoted key", error);
      skipSpace();
      if (!consume(':'))
        return fail("expected ':' after '" + key + "'", error);
      skipSpace();
      if (key == "descr") {
        if (!parseString(h.descr))
          return fail("'descr' is not a string", error);
        h.hasDescr = true;
      } else if (key == "fortran_order") {
        if (!parseBool(h.fortranOrder))
          return fail("'fortran_order' is not True or False", error);
        h.hasFortran = true;
      } else if (key == "shape") {
        if (!parseShape(h.shape))
          return fail("'shape' is not a tuple of non-negative integers", error);
        h.hasShape = true;
      } else {
        return fail("unexpected key '" + key + "'", error);
      }
      skipSpace();
      if (consume(','))
        continue;
      skipSpace();
      if (consume('}'))
        break;
      return fail("expected ',' or '}'", error);
    }
    skipSpace();
    if (pos_ != text_.size())
      return fail("unexpected text after the dict", error);
    if (!h.hasDescr)
      return fail("no 'descr'", error);
    if (!h.hasFortran)
      return fail("no 'fortran_order'", error);
    if (!h.hasShape)
      return fail("no 'shape'", error);
    return true;
  }

private:
  bool fail(const std::string &why, std::string &error) {
    error = why + " at offset " + std::to_string(pos_);
    return false;
  }
  void skipSpace() {
    while (pos_ < text_.size() && std::strchr(" \t\r\n", text_[pos_]))
      ++pos_;
  }
  bool consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool consumeWord(const char *w) {
    size_t n = std::strlen(w);
    if (text_.compare(pos_, n, w) != 0)
      return false;
    pos_ += n;
    return true;
  }
  bool parseString(std::string &out) {
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"'))
      return false;
    char quote = text_[pos_++];
    size_t end = text_.find(quote, pos_);
    if (end == std::string::npos)
      return false;
    out = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return true;
  }
  bool parseBool(bool &out) {
    if (consumeWord("True"))
      return out = true, true;
    if (consumeWord("False"))
      return out = false, true;
    return false;
  }
  bool parseShape(std::vector<int64_t> &out) {
    out.clear();
    if (!consume('('))
      return false;
    for (;;) {
      skipSpace();
      if (consume(')'))
        return true;
      if (pos_ >= text_.size() || !std::isdigit(static_cast<unsigned char>(text_[pos_])))
        return false;
      int64_t v = 0;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
        int digit = text_[pos_++] - '0';
        if (v > (std::numeric_limits<int64_t>::max() - digit) / 10)
          return false;
        v = v * 10 + digit;
      }
      consume('L'); // Python 2 longs
      out.push_back(v);
      skipSpace();
      if (consume(','))
        continue;
      skipSpace();
      if (consume(')'))
        return true;
      return false;
    }
  }

  const std::string &text_;
  size_t pos_ = 0;
};

uint32_t readLE(const uint8_t *p, int bytes) {
  uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}

} // namespace

const char *npyDescr(NpyDtype dtype) { return entry(dtype).descr; }
const char *npyDtypeName(NpyDtype dtype) { return entry(dtype).name; }
size_t npyDtypeSize(NpyDtype dtype) { return entry(dtype).size; }

int64_t NpyArray::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string formatNpyShape(const std::vector<int64_t> &shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

Status parseNpy(const void *bytes, size_t size, const std::string &name, NpyArray &out) {
  const auto *p = static_cast<const uint8_t *>(bytes);
  if (size < kMagicSize || std::memcmp(p, kMagic, kMagicSize) != 0)
    return Status::failure(name + ": not a .npy file (bad magic)");
  if (size < kMagicSize + 2)
    return Status::failure(name + ": truncated header");
  int major = p[6], minor = p[7];
  if ((major != 1 && major != 2) || minor != 0)
    return Status::failure(name + ": unsupported .npy format version " + std::to_string(major) +
                         "." + std::to_string(minor) + " (supported: 1.0, 2.0)");
  size_t lenBytes = major == 1 ? 2 : 4;
  size_t prefix = kMagicSize + 2 + lenBytes;
  if (size < prefix)
    return Status::failure(name + ": truncated header");
  size_t headerLen = readLE(p + kMagicSize + 2, static_cast<int>(lenBytes));
  if (size - prefix < headerLen)
    return Status::failure(name + ": truncated header (" + std::to_string(headerLen) +
                         " header bytes expected, " + std::to_string(size - prefix) + " present)");
  std::string text(reinterpret_cast<const char *>(p + prefix), headerLen);

  Header h;
  std::string why;
  if (!HeaderParser(text).parse(h, why))
    return Status::failure(name + ": malformed header: " + why);
  const DtypeEntry *dt = nullptr;
  for (const auto &e : kDtypes)
    if (h.descr == e.descr)
      dt = &e;
  if (!dt)
    return Status::failure(name + ": unsupported dtype '" + h.descr +
                         "' (supported: " + supportedDescrs() + ")");
  if (h.fortranOrder)
    return Status::failure(name + ": fortran_order arrays are not supported (save a C-order "
                                "array, e.g. with np.ascontiguousarray)");

  // Element count and byte size, guarding against overflow.
  uint64_t count = 1;
  const uint64_t limit = std::numeric_limits<uint64_t>::max() / 8;
  for (int64_t d : h.shape) {
    if (d != 0 && count > limit / static_cast<uint64_t>(d))
      return Status::failure(name + ": shape " + formatNpyShape(h.shape) + " is too large");
    count *= static_cast<uint64_t>(d);
  }
  uint64_t need = count * dt->size;
  uint64_t have = size - prefix - headerLen;
  if (have < need)
    return Status::failure(name + ": truncated data: shape " + formatNpyShape(h.shape) + " of '" +
                         dt->descr + "' needs " + std::to_string(need) + " bytes, the file has " +
                         std::to_string(have));
  if (have > need)
    return Status::failure(name + ": " + std::to_string(have - need) +
                         " unexpected bytes after the data of shape " + formatNpyShape(h.shape));

  const uint8_t *data = p + prefix + headerLen;
  if (dt->dtype == NpyDtype::Bool) {
    for (uint64_t i = 0; i < count; ++i)
      if (data[i] > 1)
        return Status::failure(name + ": bool element " + std::to_string(i) + " is " +
                             std::to_string(data[i]) + " (expected 0 or 1)");
  }
  out.dtype = dt->dtype;
  out.shape = std::move(h.shape);
  out.data.assign(data, data + need);
  return Status::success();
}

Status readNpy(const std::string &path, NpyArray &out) {
  std::FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return Status::failure("cannot open " + path + ": " + std::strerror(errno));
  std::string bytes;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
    bytes.append(buf, n);
  bool failed = std::ferror(f);
  int err = errno;
  std::fclose(f);
  if (failed) // e.g. a directory
    return Status::failure("cannot read " + path + ": " + std::strerror(err));
  return parseNpy(bytes.data(), bytes.size(), path, out);
}

std::string encodeNpy(NpyDtype dtype, const std::vector<int64_t> &shape, const void *data) {
  std::string dict = std::string("{'descr': '") + npyDescr(dtype) +
                     "', 'fortran_order': False, 'shape': " + formatNpyShape(shape) + ", }";
  // Pad with spaces so that the data starts 64-byte aligned, then a '\n'.
  size_t prefix = kMagicSize + 2 + 2;
  int major = 1;
  if (dict.size() + 1 + 64 > 0xffff) {
    prefix = kMagicSize + 2 + 4;
    major = 2;
  }
  size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict += '\n';

  std::string out(kMagic, kMagicSize);
  out += static_cast<char>(major);
  out += '\0';
  uint32_t len = static_cast<uint32_t>(dict.size());
  for (size_t i = 0; i < prefix - kMagicSize - 2; ++i)
    out += static_cast<char>((len >> (8 * i)) & 0xff);
  out += dict;
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  out.append(static_cast<const char *>(data), static_cast<size_t>(count) * npyDtypeSize(dtype));
  return out;
}

Status writeNpyAtomically(const std::string &path, NpyDtype dtype,
                          const std::vector<int64_t> &shape, const void *data) {
  std::string bytes = encodeNpy(dtype, shape, data);
  if (std::string e = tfc::support::writeFileAtomically(path, bytes); !e.empty())
    return Status::failure(e);
  return Status::success();
}

} // namespace tfc::support
