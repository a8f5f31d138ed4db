//===- support_npy_test.cpp - the .npy reader and writer (tfc/support/Npy.h) ===//
//
// Round trips for every supported dtype, byte-identity with files numpy wrote
// (the e2e reference fixtures), and every malformed-file error with its message.
//
//===----------------------------------------------------------------------===//
#include "tfc/support/Npy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

using namespace tfc::support;
using ::testing::HasSubstr;

namespace {

/// A .npy file with the given version and header text (padded as numpy does
/// unless `pad` is false), followed by `data`.
std::string npyBytes(const std::string &dict, const std::string &data, int major = 1,
                     int minor = 0, bool pad = true) {
  std::string header = dict;
  size_t prefix = major == 1 ? 10 : 12;
  if (pad) {
    size_t total = (prefix + header.size() + 1 + 63) / 64 * 64;
    header.append(total - prefix - header.size() - 1, ' ');
    header += '\n';
  }
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += static_cast<char>(minor);
  uint32_t len = static_cast<uint32_t>(header.size());
  for (size_t i = 0; i < prefix - 8; ++i)
    out += static_cast<char>((len >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string dictFor(const std::string &descr, const std::string &shape, bool fortran = false) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
         ", 'shape': " + shape + ", }";
}

Status parse(const std::string &bytes, NpyArray &out) {
  return parseNpy(bytes.data(), bytes.size(), "x.npy", out);
}

std::string parseError(const std::string &bytes) {
  NpyArray a;
  Status s = parse(bytes, a);
  EXPECT_FALSE(s.ok()) << "expected an error";
  return s.error;
}

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class TempDir {
public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tfrun_npy_XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string &path() const { return path_; }

private:
  std::string path_;
};

template <typename T> std::string rawBytes(const std::vector<T> &v) {
  return std::string(reinterpret_cast<const char *>(v.data()), v.size() * sizeof(T));
}

} // namespace

// ---- round trips ---------------------------------------------------------------

TEST(TfrunNpy, RoundTripsEveryDtype) {
  const std::vector<int64_t> shape = {2, 3};
  struct Case {
    NpyDtype dtype;
    std::string data;
  };
  const Case cases[] = {
      {NpyDtype::F32, rawBytes(std::vector<float>{1.5f, -2, 0, 3.25f, 1e-8f, -0.0f})},
      {NpyDtype::F16, rawBytes(std::vector<uint16_t>{0x3c00, 0, 0xbc00, 1, 2, 3})},
      {NpyDtype::I64, rawBytes(std::vector<int64_t>{1, -2, INT64_MAX, INT64_MIN, 0, 7})},
      {NpyDtype::I32, rawBytes(std::vector<int32_t>{1, -2, INT32_MAX, INT32_MIN, 0, 7})},
      {NpyDtype::I8, rawBytes(std::vector<int8_t>{1, -2, 127, -128, 0, 7})},
      {NpyDtype::U8, rawBytes(std::vector<uint8_t>{1, 2, 255, 128, 0, 7})},
      {NpyDtype::Bool, rawBytes(std::vector<uint8_t>{1, 0, 1, 1, 0, 0})},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(npyDescr(c.dtype));
    std::string bytes = encodeNpy(c.dtype, shape, c.data.data());
    EXPECT_EQ(std::string(bytes, 0, 6), "\x93NUMPY");
    EXPECT_EQ(bytes[6], 1);
    EXPECT_EQ((bytes.size() - c.data.size()) % 64, 0u) << "data should start 64-byte aligned";
    NpyArray a;
    ASSERT_TRUE(parse(bytes, a).ok());
    EXPECT_EQ(a.dtype, c.dtype);
    EXPECT_EQ(a.shape, shape);
    EXPECT_EQ(std::string(a.data.begin(), a.data.end()), c.data);
  }
}

TEST(TfrunNpy, RoundTripsScalarsVectorsAndEmptyArrays) {
  for (const std::vector<int64_t> &shape :
       {std::vector<int64_t>{}, {5}, {0}, {2, 0, 3}, {1, 1, 1, 1, 1, 1, 1, 2}}) {
    SCOPED_TRACE(formatNpyShape(shape));
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    std::vector<float> values(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
      values[i] = static_cast<float>(i) * 0.5f;
    NpyArray a;
    ASSERT_TRUE(parse(encodeNpy(NpyDtype::F32, shape, values.data()), a).ok());
    EXPECT_EQ(a.shape, shape);
    EXPECT_EQ(a.numElements(), n);
    EXPECT_EQ(std::string(a.data.begin(), a.data.end()), rawBytes(values));
  }
}

TEST(TfrunNpy, FormatsShapesAsPythonTuples) {
  EXPECT_EQ(formatNpyShape({}), "()");
  EXPECT_EQ(formatNpyShape({3}), "(3,)");
  EXPECT_EQ(formatNpyShape({2, 3}), "(2, 3)");
}

TEST(TfrunNpy, ReadsVersion2Headers) {
  std::vector<int32_t> v = {4, 5, 6};
  NpyArray a;
  ASSERT_TRUE(parse(npyBytes(dictFor("<i4", "(3,)"), rawBytes(v), 2, 0), a).ok());
  EXPECT_EQ(a.dtype, NpyDtype::I32);
  EXPECT_EQ(a.shape, std::vector<int64_t>{3});
}

TEST(TfrunNpy, AcceptsHeaderVariants) {
  // Keys in any order, double quotes, no trailing comma, no padding, Python 2 longs.
  std::vector<float> v = {1, 2};
  NpyArray a;
  EXPECT_TRUE(parse(npyBytes("{\"shape\": (1, 2L), 'fortran_order': False, 'descr': '<f4'}\n",
                             rawBytes(v), 1, 0, false),
                    a)
                  .ok());
  EXPECT_EQ(a.shape, (std::vector<int64_t>{1, 2}));
}

TEST(TfrunNpy, WritesLargeHeadersAsVersion2) {
  // A shape long enough to need more than 65535 header bytes.
  std::vector<int64_t> shape(25000, 1);
  float one = 1;
  std::string bytes = encodeNpy(NpyDtype::F32, shape, &one);
  EXPECT_EQ(bytes[6], 2);
  NpyArray a;
  ASSERT_TRUE(parse(bytes, a).ok());
  EXPECT_EQ(a.shape.size(), shape.size());
}

TEST(TfrunNpy, MatchesFilesNumpyWrote) {
  // The reference fixtures were written by numpy: reading them and writing them back must
  // give the same bytes.
  const std::string refs = TFC_SOURCE_DIR "/tests/e2e/refs/";
  for (const char *file : {"encoder/case1.input_ids.npy", "encoder/case1.last_hidden_state.npy",
                           "classifier/case2.probs.npy"}) {
    SCOPED_TRACE(file);
    NpyArray a;
    Status s = readNpy(refs + file, a);
    ASSERT_TRUE(s.ok()) << s.error;
    EXPECT_EQ(encodeNpy(a.dtype, a.shape, a.data.data()), readFile(refs + file));
  }
  NpyArray ids;
  ASSERT_TRUE(readNpy(refs + "encoder/case1.input_ids.npy", ids).ok());
  EXPECT_EQ(ids.dtype, NpyDtype::I64);
  EXPECT_EQ(ids.shape, (std::vector<int64_t>{1, 7}));
}

TEST(TfrunNpy, WritesAtomicallyAndLeavesNoTempFile) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::string path = dir.path() + "/out.npy";
  std::vector<int64_t> v = {1, 2, 3};
  { std::ofstream(path) << "old"; }
  ASSERT_TRUE(writeNpyAtomically(path, NpyDtype::I64, {3}, v.data()).ok());
  NpyArray a;
  ASSERT_TRUE(readNpy(path, a).ok());
  EXPECT_EQ(std::string(a.data.begin(), a.data.end()), rawBytes(v));
  size_t files = 0;
  for (const auto &e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1u);
}

TEST(TfrunNpy, WriteNamesTheFileItCannotCreate) {
  int64_t v = 0;
  Status s = writeNpyAtomically("/nonexistent-dir/out.npy", NpyDtype::I64, {1}, &v);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error, HasSubstr("/nonexistent-dir/out.npy"));
}

// ---- malformed files ------------------------------------------------------------

TEST(TfrunNpyErrors, MissingFile) {
  NpyArray a;
  Status s = readNpy("/nonexistent-dir/in.npy", a);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error, "cannot open /nonexistent-dir/in.npy: No such file or directory");
}

TEST(TfrunNpyErrors, BadMagic) {
  EXPECT_EQ(parseError("garbage that is not npy"), "x.npy: not a .npy file (bad magic)");
  EXPECT_EQ(parseError(""), "x.npy: not a .npy file (bad magic)");
  EXPECT_EQ(parseError("\x93NUMP"), "x.npy: not a .npy file (bad magic)");
}

TEST(TfrunNpyErrors, UnsupportedVersion) {
  EXPECT_EQ(parseError(npyBytes(dictFor("<f4", "(1,)"), std::string(4, '\0'), 3, 0)),
            "x.npy: unsupported .npy format version 3.0 (supported: 1.0, 2.0)");
  EXPECT_EQ(parseError(npyBytes(dictFor("<f4", "(1,)"), std::string(4, '\0'), 1, 1)),
            "x.npy: unsupported .npy format version 1.1 (supported: 1.0, 2.0)");
}

TEST(TfrunNpyErrors, TruncatedHeader) {
  EXPECT_EQ(parseError(std::string("\x93NUMPY", 6)), "x.npy: truncated header");
  EXPECT_EQ(parseError(std::string("\x93NUMPY\x01\x00\x10", 9)), "x.npy: truncated header");
  std::string full = npyBytes(dictFor("<f4", "(1,)"), std::string(4, '\0'));
  EXPECT_EQ(parseError(full.substr(0, 40)),
            "x.npy: truncated header (118 header bytes expected, 30 present)");
}

TEST(TfrunNpyErrors, MalformedHeader) {
  auto error = [](const std::string &dict) {
    return parseError(npyBytes(dict, std::string(4, '\0')));
  };
  EXPECT_THAT(error("not a dict"), HasSubstr("x.npy: malformed header: expected '{'"));
  EXPECT_THAT(error("{'fortran_order': False, 'shape': (1,)}"),
              HasSubstr("x.npy: malformed header: no 'descr'"));
  EXPECT_THAT(error("{'descr': '<f4', 'shape': (1,)}"),
              HasSubstr("x.npy: malformed header: no 'fortran_order'"));
  EXPECT_THAT(error("{'descr': '<f4', 'fortran_order': False}"),
              HasSubstr("x.npy: malformed header: no 'shape'"));
  EXPECT_THAT(error(dictFor("<f4", "(-1,)")),
              HasSubstr("x.npy: malformed header: 'shape' is not a tuple of non-negative "
                        "integers"));
  EXPECT_THAT(error(dictFor("<f4", "(99999999999999999999,)")),
              HasSubstr("'shape' is not a tuple of non-negative integers"));
  EXPECT_THAT(error("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}"),
              HasSubstr("x.npy: malformed header: 'fortran_order' is not True or False"));
  EXPECT_THAT(error("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}"),
              HasSubstr("x.npy: malformed header: 'descr' is not a string"));
  EXPECT_THAT(error("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}"),
              HasSubstr("x.npy: malformed header: unexpected key 'x'"));
  EXPECT_THAT(error("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x"),
              HasSubstr("x.npy: malformed header: unexpected text after the dict"));
}

TEST(TfrunNpyErrors, UnsupportedDtype) {
  const std::string supported =
      "(supported: '<f4', '<f2', '<i8', '<i4', '|i1', '|u1', '|b1')";
  for (const char *descr : {"<f8", ">f4", ">i8", "<U3", "|O", "<c8", "<u4"}) {
    SCOPED_TRACE(descr);
    EXPECT_EQ(parseError(npyBytes(dictFor(descr, "(1,)"), std::string(8, '\0'))),
              std::string("x.npy: unsupported dtype '") + descr + "' " + supported);
  }
}

TEST(TfrunNpyErrors, FortranOrder) {
  EXPECT_EQ(parseError(npyBytes(dictFor("<f4", "(2, 2)", true), std::string(16, '\0'))),
            "x.npy: fortran_order arrays are not supported (save a C-order array, e.g. with "
            "np.ascontiguousarray)");
}

TEST(TfrunNpyErrors, TruncatedData) {
  EXPECT_EQ(parseError(npyBytes(dictFor("<f4", "(2, 3)"), std::string(20, '\0'))),
            "x.npy: truncated data: shape (2, 3) of '<f4' needs 24 bytes, the file has 20");
  EXPECT_EQ(parseError(npyBytes(dictFor("<i8", "(3,)"), "")),
            "x.npy: truncated data: shape (3,) of '<i8' needs 24 bytes, the file has 0");
}

TEST(TfrunNpyErrors, TrailingBytes) {
  EXPECT_EQ(parseError(npyBytes(dictFor("<i4", "(2,)"), std::string(12, '\0'))),
            "x.npy: 4 unexpected bytes after the data of shape (2,)");
}

TEST(TfrunNpyErrors, ShapeTooLarge) {
  EXPECT_EQ(parseError(npyBytes(dictFor("<f4", "(4294967296, 4294967296, 4294967296)"), "")),
            "x.npy: shape (4294967296, 4294967296, 4294967296) is too large");
}

TEST(TfrunNpyErrors, BoolOtherThanZeroOrOne) {
  EXPECT_EQ(parseError(npyBytes(dictFor("|b1", "(3,)"), std::string("\x01\x00\x07", 3))),
            "x.npy: bool element 2 is 7 (expected 0 or 1)");
}

TEST(TfrunNpyErrors, ReadNamesTheFile) {
  TempDir dir;
  std::string path = dir.path() + "/bad.npy";
  { std::ofstream(path, std::ios::binary) << "garbage"; }
  NpyArray a;
  Status s = readNpy(path, a);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error, path + ": not a .npy file (bad magic)");
}

TEST(TfrunNpyErrors, Directory) {
  TempDir dir;
  NpyArray a;
  Status s = readNpy(dir.path(), a);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error, "cannot read " + dir.path() + ": Is a directory");
}
