#include "storage/struct_json.h"

#include <cmath>
#include <cstdint>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tasks::storage {
namespace {

using google::protobuf::ListValue;
using google::protobuf::Struct;
using google::protobuf::Value;

class Parser {
 public:
  explicit Parser(absl::string_view text) : text_(text) {}

  absl::Status ParseDocument(Struct* out) {
    SkipSpace();
    if (!Consume('{')) return Error("expected an object");
    if (!ParseObjectBody(out, 1)) return error_;
    SkipSpace();
    if (pos_ != text_.size()) return Error("unexpected text after the object");
    return absl::OkStatus();
  }

 private:
  // The Parse* methods return false after recording the error in error_.
  bool ParseValue(Value* value, int depth) {
    SkipSpace();
    if (pos_ == text_.size()) return Fail("unexpected end of text");
    switch (text_[pos_]) {
      case '{':
        ++pos_;
        return ParseObjectBody(value->mutable_struct_value(), depth + 1);
      case '[':
        ++pos_;
        return ParseArrayBody(value->mutable_list_value(), depth + 1);
      case '"':
        return ParseString(value->mutable_string_value());
      case 't':
        if (!ConsumeWord("true")) return false;
        value->set_bool_value(true);
        return true;
      case 'f':
        if (!ConsumeWord("false")) return false;
        value->set_bool_value(false);
        return true;
      case 'n':
        if (!ConsumeWord("null")) return false;
        value->set_null_value(google::protobuf::NULL_VALUE);
        return true;
      default:
        return ParseNumber(value);
    }
  }

  // After '{'.
  bool ParseObjectBody(Struct* object, int depth) {
    if (depth > kMaxJsonNesting) return Fail("nesting too deep");
    SkipSpace();
    if (Consume('}')) return true;
    auto* fields = object->mutable_fields();
    std::string key;
    while (true) {
      SkipSpace();
      if (pos_ == text_.size() || text_[pos_] != '"') {
        return Fail("expected a string key");
      }
      key.clear();
      if (!ParseString(&key)) return false;
      SkipSpace();
      if (!Consume(':')) return Fail("expected ':'");
      auto inserted = fields->insert({key, Value()});
      if (!inserted.second) return Fail("duplicate key");
      if (!ParseValue(&inserted.first->second, depth)) return false;
      SkipSpace();
      if (Consume('}')) return true;
      if (!Consume(',')) return Fail("expected ',' or '}'");
    }
  }

  // After '['.
  bool ParseArrayBody(ListValue* list, int depth) {
    if (depth > kMaxJsonNesting) return Fail("nesting too deep");
    SkipSpace();
    if (Consume(']')) return true;
    while (true) {
      if (!ParseValue(list->add_values(), depth)) return false;
      SkipSpace();
      if (Consume(']')) return true;
      if (!Consume(',')) return Fail("expected ',' or ']'");
    }
  }

  // At '"'; appends the decoded string to `out`.
  bool ParseString(std::string* out) {
    ++pos_;
    while (true) {
      size_t start = pos_;
      while (pos_ < text_.size() && text_[pos_] != '"' && text_[pos_] != '\\' &&
             static_cast<unsigned char>(text_[pos_]) >= 0x20) {
        ++pos_;
      }
      out->append(text_.data() + start, pos_ - start);
      if (pos_ == text_.size()) return Fail("unterminated string");
      char c = text_[pos_++];
      if (c == '"') return true;
      if (c != '\\') {
        --pos_;
        return Fail("control character in string");
      }
      if (pos_ == text_.size()) return Fail("unterminated string");
      switch (text_[pos_++]) {
        case '"':
          out->push_back('"');
          break;
        case '\\':
          out->push_back('\\');
          break;
        case '/':
          out->push_back('/');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t code;
          if (!ParseHex4(&code)) return false;
          if (code >= 0xDC00 && code <= 0xDFFF) {
            return Fail("lone low surrogate");
          }
          if (code >= 0xD800 && code <= 0xDBFF) {
            uint32_t low;
            if (!Consume('\\') || !Consume('u')) {
              return Fail("high surrogate without a low surrogate");
            }
            if (!ParseHex4(&low)) return false;
            if (low < 0xDC00 || low > 0xDFFF) {
              return Fail("high surrogate without a low surrogate");
            }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          }
          AppendUtf8(code, out);
          break;
        }
        default:
          --pos_;
          return Fail("invalid escape");
      }
    }
  }

  bool ParseHex4(uint32_t* code) {
    if (text_.size() - pos_ < 4) return Fail("truncated \\u escape");
    uint32_t result = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[pos_++];
      int digit;
      if (c >= '0' && c <= '9') {
        digit = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        digit = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        digit = c - 'A' + 10;
      } else {
        --pos_;
        return Fail("invalid \\u escape");
      }
      result = result * 16 + digit;
    }
    *code = result;
    return true;
  }

  static void AppendUtf8(uint32_t code, std::string* out) {
    if (code < 0x80) {
      out->push_back(static_cast<char>(code));
    } else if (code < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (code >> 6)));
      out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else if (code < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (code >> 12)));
      out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (code >> 18)));
      out->push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
    }
  }

  // RFC 8259 grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  bool ParseNumber(Value* value) {
    size_t start = pos_;
    Consume('-');
    if (Consume('0')) {
      // A leading zero stands alone.
    } else if (!ConsumeDigits()) {
      return Fail("expected a value");
    }
    if (Consume('.') && !ConsumeDigits()) return Fail("expected a digit");
    if (Consume('e') || Consume('E')) {
      if (!Consume('+')) Consume('-');
      if (!ConsumeDigits()) return Fail("expected a digit");
    }
    double number;
    if (!absl::SimpleAtod(text_.substr(start, pos_ - start), &number) ||
        !std::isfinite(number)) {
      pos_ = start;
      return Fail("number out of range");
    }
    value->set_number_value(number);
    return true;
  }

  bool ConsumeDigits() {
    size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      ++pos_;
    }
    return pos_ > start;
  }

  bool ConsumeWord(absl::string_view word) {
    if (text_.substr(pos_, word.size()) != word)
      return Fail("expected a value");
    pos_ += word.size();
    return true;
  }

  bool Consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  void SkipSpace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\r' ||
            text_[pos_] == '\t')) {
      ++pos_;
    }
  }

  bool Fail(absl::string_view what) {
    error_ = absl::InvalidArgumentError(
        absl::StrCat("invalid JSON at offset ", pos_, ": ", what));
    return false;
  }

  absl::Status Error(absl::string_view what) {
    Fail(what);
    return error_;
  }

  absl::string_view text_;
  size_t pos_ = 0;
  absl::Status error_;
};

}  // namespace

absl::Status JsonToStruct(absl::string_view json, Struct* out) {
  out->Clear();
  return Parser(json).ParseDocument(out);
}

}  // namespace tasks::storage
