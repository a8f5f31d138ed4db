//===- MiniJson.h - a small JSON reader for the e2e test's manifest --------===//
//
// Enough JSON for tests/e2e/refs/manifest.json: objects, arrays, strings (with
// the usual escapes; \u only for ASCII), numbers, true/false/null. Header-only;
// parse() returns false with a message naming the offset on malformed input.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_TESTS_E2E_MINIJSON_H
#define TFC_TESTS_E2E_MINIJSON_H

#include <cctype>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tfc::minijson {

struct Value {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Value> array;
  std::vector<std::pair<std::string, Value>> object; // in file order

  /// The member `key` of an object, or a shared null value.
  const Value &operator[](const std::string &key) const {
    static const Value null;
    for (const auto &[k, v] : object)
      if (k == key)
        return v;
    return null;
  }
  bool isNull() const { return kind == Null; }
};

class Parser {
public:
  explicit Parser(const std::string &text) : s_(text) {}

  bool parse(Value &out, std::string &error) {
    if (!value(out) || (space(), pos_ != s_.size())) {
      error = "malformed JSON at offset " + std::to_string(pos_);
      return false;
    }
    return true;
  }

private:
  void space() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_])))
      ++pos_;
  }
  bool eat(char c) {
    space();
    if (pos_ < s_.size() && s_[pos_] == c)
      return ++pos_, true;
    return false;
  }
  bool word(const char *w) {
    std::string ws(w);
    if (s_.compare(pos_, ws.size(), ws) != 0)
      return false;
    pos_ += ws.size();
    return true;
  }
  bool str(std::string &out) {
    if (!eat('"'))
      return false;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      char c = s_[pos_++];
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size())
        return false;
      char e = s_[pos_++];
      switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'u':
        if (pos_ + 4 > s_.size())
          return false;
        out += static_cast<char>(std::strtol(s_.substr(pos_, 4).c_str(), nullptr, 16) & 0x7f);
        pos_ += 4;
        break;
      default: out += e; break; // \" \\ \/
      }
    }
    return pos_ < s_.size() && s_[pos_++] == '"';
  }
  bool value(Value &v) {
    space();
    if (pos_ >= s_.size())
      return false;
    char c = s_[pos_];
    if (c == '{') {
      v.kind = Value::Object;
      ++pos_;
      if (eat('}'))
        return true;
      do {
        std::string key;
        Value member;
        if (!str(key) || !eat(':') || !value(member))
          return false;
        v.object.emplace_back(std::move(key), std::move(member));
      } while (eat(','));
      return eat('}');
    }
    if (c == '[') {
      v.kind = Value::Array;
      ++pos_;
      if (eat(']'))
        return true;
      do {
        Value item;
        if (!value(item))
          return false;
        v.array.push_back(std::move(item));
      } while (eat(','));
      return eat(']');
    }
    if (c == '"') {
      v.kind = Value::String;
      return str(v.string);
    }
    if (word("true"))
      return v.kind = Value::Bool, v.boolean = true, true;
    if (word("false"))
      return v.kind = Value::Bool, v.boolean = false, true;
    if (word("null"))
      return v.kind = Value::Null, true;
    const char *begin = s_.c_str() + pos_;
    char *end = nullptr;
    v.number = std::strtod(begin, &end);
    if (end == begin)
      return false;
    v.kind = Value::Number;
    pos_ += static_cast<size_t>(end - begin);
    return true;
  }

  const std::string &s_;
  size_t pos_ = 0;
};

} // namespace tfc::minijson

#endif // TFC_TESTS_E2E_MINIJSON_H
