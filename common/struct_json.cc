#include "common/struct_json.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tasks {
namespace {

using google::protobuf::ListValue;
using google::protobuf::Struct;
using google::protobuf::Value;

class Parser {
 public:
  Parser(absl::string_view text, NegativeZero zero)
      : text_(text), zero_(zero) {}

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
      auto inserted = fields->try_emplace(key);
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
    const bool negative = Consume('-');
    if (Consume('0')) {
      // A leading zero stands alone.
    } else if (!ConsumeDigits()) {
      return Fail("expected a value");
    }
    const size_t integer_end = pos_;
    const bool has_fraction = Consume('.');
    if (has_fraction && !ConsumeDigits()) return Fail("expected a digit");
    const bool has_exponent = Consume('e') || Consume('E');
    if (has_exponent) {
      if (!Consume('+')) Consume('-');
      if (!ConsumeDigits()) return Fail("expected a digit");
    }
    // Integers of up to 15 digits are exact in a double: no need for the
    // general conversion.
    const size_t digits = integer_end - start - (negative ? 1 : 0);
    if (!has_fraction && !has_exponent && digits <= 15) {
      int64_t magnitude = 0;
      for (size_t i = integer_end - digits; i < integer_end; ++i) {
        magnitude = magnitude * 10 + (text_[i] - '0');
      }
      // -0 stays negative zero, as the general conversion gives it.
      const double number = static_cast<double>(magnitude);
      SetNumber(negative ? -number : number, value);
      return true;
    }
    double number;
    if (!absl::SimpleAtod(text_.substr(start, pos_ - start), &number) ||
        !std::isfinite(number)) {
      pos_ = start;
      return Fail("number out of range");
    }
    SetNumber(number, value);
    return true;
  }

  void SetNumber(double number, Value* value) const {
    if (number == 0 && zero_ == NegativeZero::kPlain) number = 0;
    value->set_number_value(number);
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
  const NegativeZero zero_;
  absl::Status error_;
};

class Writer {
 public:
  Writer(std::string* out, NegativeZero zero) : out_(*out), zero_(zero) {}

  // `level`: the messages (Struct, ListValue, Value) around `value`.
  absl::Status WriteStruct(const Struct& value, int level) {
    if (level > kMaxJsonWriteMessageDepth) return TooDeep();
    using Entry = google::protobuf::Map<std::string, Value>::value_type;
    // Sorted as a deterministic serialization orders map keys.
    std::vector<const Entry*> entries;
    entries.reserve(value.fields().size());
    for (const Entry& entry : value.fields()) entries.push_back(&entry);
    std::sort(
        entries.begin(), entries.end(),
        [](const Entry* a, const Entry* b) { return a->first < b->first; });
    out_.push_back('{');
    bool first = true;
    for (const Entry* entry : entries) {
      if (!first) out_.push_back(',');
      first = false;
      WriteString(entry->first);
      out_.push_back(':');
      if (absl::Status status = WriteValue(entry->second, level + 1);
          !status.ok()) {
        return status;
      }
    }
    out_.push_back('}');
    return absl::OkStatus();
  }

  absl::Status WriteValue(const Value& value, int level) {
    if (level > kMaxJsonWriteMessageDepth) return TooDeep();
    switch (value.kind_case()) {
      case Value::kNullValue:
        out_.append("null");
        return absl::OkStatus();
      case Value::kBoolValue:
        out_.append(value.bool_value() ? "true" : "false");
        return absl::OkStatus();
      case Value::kNumberValue:
        return WriteNumber(value.number_value());
      case Value::kStringValue:
        WriteString(value.string_value());
        return absl::OkStatus();
      case Value::kStructValue:
        return WriteStruct(value.struct_value(), level + 1);
      case Value::kListValue:
        return WriteList(value.list_value(), level + 1);
      default:
        return absl::InvalidArgumentError("a JSON value has no kind set");
    }
  }

 private:
  absl::Status WriteList(const ListValue& list, int level) {
    if (level > kMaxJsonWriteMessageDepth) return TooDeep();
    out_.push_back('[');
    bool first = true;
    for (const Value& item : list.values()) {
      if (!first) out_.push_back(',');
      first = false;
      if (absl::Status status = WriteValue(item, level + 1); !status.ok()) {
        return status;
      }
    }
    out_.push_back(']');
    return absl::OkStatus();
  }

  absl::Status WriteNumber(double number) {
    if (!std::isfinite(number)) {
      return absl::InvalidArgumentError("JSON numbers must be finite");
    }
    if (number == 0 && zero_ == NegativeZero::kPlain) number = 0;
    // protobuf's SimpleDtoa: the shorter form when it reads back exactly.
    char buffer[32];
    int length = std::snprintf(buffer, sizeof(buffer), "%.15g", number);
    double read = 0;
    if (!absl::SimpleAtod(absl::string_view(buffer, length), &read) ||
        read != number) {
      length = std::snprintf(buffer, sizeof(buffer), "%.17g", number);
    }
    // A locale with a decimal comma would write one; JSON needs a point.
    std::replace(buffer, buffer + length, ',', '.');
    out_.append(buffer, length);
    return absl::OkStatus();
  }

  void WriteString(absl::string_view text) {
    out_.push_back('"');
    size_t plain = 0;  // start of the run not yet copied
    size_t i = 0;
    while (i < text.size()) {
      const unsigned char byte = static_cast<unsigned char>(text[i]);
      if (byte >= 0x20 && byte < 0x7f && byte != '"' && byte != '\\' &&
          byte != '<' && byte != '>') {
        ++i;
        continue;
      }
      size_t length = 1;
      const uint32_t code = DecodeUtf8(text, i, &length);
      char escaped[16];
      const int escaped_length = Escape(code, escaped);
      if (escaped_length > 0) {
        out_.append(text.data() + plain, i - plain);
        out_.append(escaped, escaped_length);
        plain = i + length;
      }
      i += length;
    }
    out_.append(text.data() + plain, text.size() - plain);
    out_.push_back('"');
  }

  // The code point of the (valid) UTF-8 sequence at `at`; sets its length.
  static uint32_t DecodeUtf8(absl::string_view text, size_t at,
                             size_t* length) {
    const unsigned char lead = static_cast<unsigned char>(text[at]);
    int more = 0;
    uint32_t code = lead;
    if (lead >= 0xf0) {
      more = 3;
      code = lead & 0x07;
    } else if (lead >= 0xe0) {
      more = 2;
      code = lead & 0x0f;
    } else if (lead >= 0xc0) {
      more = 1;
      code = lead & 0x1f;
    }
    for (int k = 1; k <= more && at + k < text.size(); ++k) {
      code = (code << 6) | (static_cast<unsigned char>(text[at + k]) & 0x3f);
    }
    *length = std::min<size_t>(1 + more, text.size() - at);
    return code;
  }

  // Writes protobuf's escape of `code` to `buffer` and returns its length;
  // 0 when the character is written as is.
  static int Escape(uint32_t code, char* buffer) {
    switch (code) {
      case '"':
        return Copy("\\\"", buffer);
      case '\\':
        return Copy("\\\\", buffer);
      case '\b':
        return Copy("\\b", buffer);
      case '\t':
        return Copy("\\t", buffer);
      case '\n':
        return Copy("\\n", buffer);
      case '\f':
        return Copy("\\f", buffer);
      case '\r':
        return Copy("\\r", buffer);
      default:
        break;
    }
    // Control characters, '<' and '>' (for HTML), and characters that are
    // invisible or reorder text (for JavaScript), as protobuf lists them.
    if (code < 0x20 || code == '<' || code == '>' ||
        (code >= 0x7f && code < 0xa0) || code == 0xad ||
        (code >= 0x600 && code <= 0x603) || code == 0x6dd || code == 0x70f ||
        code == 0x17b4 || code == 0x17b5 ||
        (code >= 0x200b && code <= 0x200f) ||
        (code >= 0x2028 && code <= 0x202e) ||
        (code >= 0x2060 && code <= 0x2064) ||
        (code >= 0x206a && code <= 0x206f) || code == 0xfeff ||
        (code >= 0xfff9 && code <= 0xfffb)) {
      return Hex4(code, buffer);
    }
    if (code == 0xe0001 || (code >= 0x1d173 && code <= 0x1d17a) ||
        (code >= 0xe0020 && code <= 0xe007f)) {
      const uint32_t offset = code - 0x10000;
      const int high = Hex4(0xd800 + (offset >> 10), buffer);
      return high + Hex4(0xdc00 + (offset & 0x3ff), buffer + high);
    }
    return 0;
  }

  static int Copy(const char* text, char* buffer) {
    int length = 0;
    while (text[length] != '\0') {
      buffer[length] = text[length];
      ++length;
    }
    return length;
  }

  // "\u" and four lowercase hex digits.
  static int Hex4(uint32_t unit, char* buffer) {
    static constexpr char kHex[] = "0123456789abcdef";
    buffer[0] = '\\';
    buffer[1] = 'u';
    for (int k = 0; k < 4; ++k) {
      buffer[5 - k] = kHex[(unit >> (4 * k)) & 0xf];
    }
    return 6;
  }

  static absl::Status TooDeep() {
    return absl::InvalidArgumentError(absl::StrCat(
        "JSON nested in more than ", kMaxJsonWriteMessageDepth, " messages"));
  }

  std::string& out_;
  const NegativeZero zero_;
};

}  // namespace

absl::Status JsonToStruct(absl::string_view json, Struct* out,
                          NegativeZero zero) {
  out->Clear();
  return Parser(json, zero).ParseDocument(out);
}

absl::Status AppendStructJson(const Struct& value, std::string* out,
                              NegativeZero zero) {
  return Writer(out, zero).WriteStruct(value, 0);
}

absl::Status AppendValueJson(const Value& value, std::string* out,
                             NegativeZero zero) {
  return Writer(out, zero).WriteValue(value, 0);
}

}  // namespace tasks
