//===- Json.cpp - JSON from checkpoint files, with a nesting limit --------===//
//
// llvm::json::parse (and the Value it builds) recurses once per nesting level, so a file
// nested 100,000 deep overflows the stack. Checkpoint files come from outside: the text is
// scanned first and refused beyond kMaxJsonDepth levels, the limit Hugging Face's own Rust
// loaders have (serde_json refuses more than 128), so no file that transformers or tokenizers
// can load is refused here.
//
//===----------------------------------------------------------------------===//
#include "Internal.h"

namespace tfc::hf {

std::string checkJsonNesting(llvm::StringRef text, int maxDepth) {
  int depth = 0;
  bool inString = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (inString) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > maxDepth)
        return "JSON nested deeper than " + std::to_string(maxDepth) + " levels (at byte " +
               std::to_string(i) + ")";
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return {};
}

Status parseJsonText(llvm::StringRef text, const std::string &file, const std::string &what,
                     llvm::json::Value &out) {
  if (std::string e = checkJsonNesting(text, kMaxJsonDepth); !e.empty())
    return fail(file, what + " is not accepted: " + e);
  llvm::Expected<llvm::json::Value> v = llvm::json::parse(text);
  if (!v)
    return fail(file, what + " is not valid JSON: " + llvm::toString(v.takeError()));
  out = std::move(*v);
  return {};
}

Status readJsonFile(const std::string &path, llvm::json::Value &out) {
  std::string text;
  if (Status s = readTextFile(path, text); !s.ok())
    return s;
  return parseJsonText(text, path, "the file", out);
}

} // namespace tfc::hf
