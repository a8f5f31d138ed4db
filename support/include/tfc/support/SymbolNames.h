//===- SymbolNames.h - what a symbolic dim's name says it is (header only) -*- C++ -*-===//
//
// Frontends keep the dim names they are given (ONNX dim params: "batch", "batch_size", "N",
// "sequence_length", "src_len", ...). The compiler (bounds: --max-batch vs --max-seq; the
// generation derivation) and the runtime (the KV cache's rows, one per batch row) must agree on
// which symbol is the batch, so the rule lives here, shared by both. Header only: the runtime
// links nothing for it.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_SUPPORT_SYMBOLNAMES_H
#define TFC_SUPPORT_SYMBOLNAMES_H

#include <cctype>
#include <string>
#include <string_view>

namespace tfc::support {

/// True for the usual batch names, case-insensitively: anything starting with "batch"
/// ("batch", "batch_size", "batchsize"), "b", "n", "bs", "nb". Every other name is a length
/// ("seq", "sequence_length", "src_len", "tgt_len", "past_sequence_length", "s0", ...).
inline bool isBatchSymbolName(std::string_view name) {
  std::string n(name);
  for (char &c : n)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return n.rfind("batch", 0) == 0 || n == "b" || n == "n" || n == "bs" || n == "nb";
}

/// The index of the batch symbol among `symbols` (anything with a `.name`): the one named
/// "batch" if there is one, else the first batch name; -1 when none.
template <class Symbols> int batchSymbolIndex(const Symbols &symbols) {
  int first = -1, i = 0;
  for (const auto &s : symbols) {
    if (s.name == "batch")
      return i;
    if (first < 0 && isBatchSymbolName(s.name))
      first = i;
    ++i;
  }
  return first;
}

} // namespace tfc::support

#endif // TFC_SUPPORT_SYMBOLNAMES_H
