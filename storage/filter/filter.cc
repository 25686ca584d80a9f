#include "storage/filter/filter.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/error_reason.h"

namespace tasks::storage::filter {
namespace {

enum class Tok {
  kEnd,
  kLParen,
  kRParen,
  kDot,
  kColon,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kMinus,
  kStar,
  kString,  // quoted, `text` unescaped
  kWord,    // [A-Za-z_][A-Za-z0-9_]*
  kNumber,  // starts with a digit
};

struct Token {
  Tok kind = Tok::kEnd;
  size_t position = 0;  // 1-based, in characters
  size_t end = 0;       // 1-based position just after it
  std::string text;
};

absl::Status Error(size_t position, absl::string_view what) {
  return InvalidField("filter", absl::StrCat(what, " at position ", position));
}

// Error positions count characters (code points), as a person reading the
// filter does; the lexer works on bytes. Counted forward from the offset
// asked last, so a lexer's run over the text stays linear.
class CharacterPositions {
 public:
  explicit CharacterPositions(absl::string_view text) : text_(text) {}

  // The 1-based position of the character holding byte `offset`; one past
  // the last character for the text's end.
  size_t At(size_t offset) {
    const size_t through = std::min(offset + 1, text_.size());
    if (through < counted_) {
      counted_ = 0;
      starts_ = 0;
    }
    for (; counted_ < through; ++counted_) {
      if ((static_cast<unsigned char>(text_[counted_]) & 0xc0) != 0x80) {
        ++starts_;
      }
    }
    return offset < text_.size() ? starts_ : starts_ + 1;
  }

 private:
  absl::string_view text_;
  size_t counted_ = 0;  // bytes counted
  size_t starts_ = 0;   // characters starting in them
};

bool IsWordStart(char c) { return absl::ascii_isalpha(c) || c == '_'; }
bool IsWordChar(char c) { return absl::ascii_isalnum(c) || c == '_'; }

// Splits the filter into tokens; kEnd last.
class Lexer {
 public:
  explicit Lexer(absl::string_view text) : text_(text), positions_(text) {}

  absl::StatusOr<std::vector<Token>> Run() {
    std::vector<Token> tokens;
    while (true) {
      while (i_ < text_.size() && absl::ascii_isspace(text_[i_])) ++i_;
      Token token;
      token.position = positions_.At(i_);
      if (i_ == text_.size()) {
        token.end = token.position;
        tokens.push_back(std::move(token));
        return tokens;
      }
      const char c = text_[i_];
      if (c == '"' || c == '\'') {
        absl::Status quoted = Quoted(c, &token.text);
        if (!quoted.ok()) return quoted;
        token.kind = Tok::kString;
      } else if (IsWordStart(c)) {
        const size_t start = i_;
        while (i_ < text_.size() && IsWordChar(text_[i_])) ++i_;
        token.kind = Tok::kWord;
        token.text = std::string(text_.substr(start, i_ - start));
      } else if (absl::ascii_isdigit(c)) {
        const size_t start = i_;
        while (i_ < text_.size() &&
               (IsWordChar(text_[i_]) || text_[i_] == '.' ||
                ((text_[i_] == '+' || text_[i_] == '-') &&
                 (text_[i_ - 1] == 'e' || text_[i_ - 1] == 'E')))) {
          ++i_;
        }
        token.kind = Tok::kNumber;
        token.text = std::string(text_.substr(start, i_ - start));
      } else {
        ++i_;
        const char next = i_ < text_.size() ? text_[i_] : '\0';
        switch (c) {
          case '(':
            token.kind = Tok::kLParen;
            break;
          case ')':
            token.kind = Tok::kRParen;
            break;
          case '.':
            token.kind = Tok::kDot;
            break;
          case ':':
            token.kind = Tok::kColon;
            break;
          case '=':
            token.kind = Tok::kEq;
            break;
          case '-':
            token.kind = Tok::kMinus;
            break;
          case '*':
            token.kind = Tok::kStar;
            break;
          case '<':
          case '>':
            token.kind = c == '<' ? Tok::kLt : Tok::kGt;
            if (next == '=') {
              token.kind = c == '<' ? Tok::kLe : Tok::kGe;
              ++i_;
            }
            break;
          case '!':
            if (next != '=') return Error(token.position, "expected \"!=\"");
            token.kind = Tok::kNe;
            ++i_;
            break;
          default:
            return Error(token.position, "unexpected character");
        }
      }
      token.end = positions_.At(i_);
      tokens.push_back(std::move(token));
    }
  }

 private:
  // A string in `quote`s; `\` escapes a quote or itself.
  absl::Status Quoted(char quote, std::string* out) {
    const size_t start = i_;
    for (++i_; i_ < text_.size(); ++i_) {
      char c = text_[i_];
      if (c == quote) {
        ++i_;
        return absl::OkStatus();
      }
      if (c == '\\') {
        if (i_ + 1 == text_.size()) break;
        c = text_[++i_];
        if (c != '\\' && c != '"' && c != '\'') {
          return Error(positions_.At(i_ - 1),
                       "unknown escape; only \\\\, \\\" and \\' are");
        }
      }
      out->push_back(c);
    }
    return Error(positions_.At(start), "unterminated string");
  }

  absl::string_view text_;
  CharacterPositions positions_;
  size_t i_ = 0;
};

bool IsKeyword(const Token& token) {
  return token.kind == Tok::kWord &&
         (token.text == "AND" || token.text == "OR" || token.text == "NOT");
}

// Recursive descent over AIP-160's grammar, where OR binds tighter than AND:
//   filter     = [ expression ]
//   expression = sequence { "AND" sequence }
//   sequence   = term { "OR" term }
//   term       = [ "NOT" | "-" ] ( "(" expression ")" | comparison )
// The recursion is bounded by kMaxFilterDepth.
class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  absl::StatusOr<Node> Run() {
    if (Peek().kind == Tok::kEnd) {
      Node all;
      all.kind = Node::Kind::kAnd;
      return all;
    }
    absl::StatusOr<Node> node = Expression();
    if (!node.ok()) return node;
    if (Peek().kind != Tok::kEnd) {
      return Error(Peek().position,
                   Peek().kind == Tok::kRParen
                       ? "unmatched \")\""
                       : "expected AND, OR or the end of the filter");
    }
    return node;
  }

 private:
  const Token& Peek() const { return tokens_[next_]; }
  // The next token, consumed; kEnd stays.
  const Token& Take() {
    const Token& token = tokens_[next_];
    if (token.kind != Tok::kEnd) ++next_;
    return token;
  }
  bool TakeWord(absl::string_view word) {
    if (Peek().kind != Tok::kWord || Peek().text != word) return false;
    ++next_;
    return true;
  }

  // Joins the nodes `parse` yields while `word` separates them.
  template <typename Parse>
  absl::StatusOr<Node> Joined(absl::string_view word, Node::Kind kind,
                              Parse parse) {
    absl::StatusOr<Node> first = parse();
    if (!first.ok() || !(Peek().kind == Tok::kWord && Peek().text == word)) {
      return first;
    }
    Node joined;
    joined.kind = kind;
    joined.children.push_back(*std::move(first));
    while (TakeWord(word)) {
      absl::StatusOr<Node> next = parse();
      if (!next.ok()) return next;
      joined.children.push_back(*std::move(next));
    }
    return joined;
  }

  absl::StatusOr<Node> Expression() {
    return Joined("AND", Node::Kind::kAnd, [this] { return Sequence(); });
  }

  absl::StatusOr<Node> Sequence() {
    return Joined("OR", Node::Kind::kOr, [this] { return Term(); });
  }

  absl::StatusOr<Node> Term() {
    const Token& first = Peek();
    const bool negated = first.kind == Tok::kMinus ||
                         (first.kind == Tok::kWord && first.text == "NOT");
    const bool nests = negated || first.kind == Tok::kLParen;
    if (nests && ++depth_ > kMaxFilterDepth) {
      return Error(
          first.position,
          absl::StrCat("nested more than ", kMaxFilterDepth, " levels deep"));
    }
    absl::StatusOr<Node> node;
    if (negated) {
      Take();
      absl::StatusOr<Node> operand = Term();
      if (!operand.ok()) return operand;
      node = Node();
      node->kind = Node::Kind::kNot;
      node->children.push_back(*std::move(operand));
    } else if (first.kind == Tok::kLParen) {
      Take();
      node = Expression();
      if (!node.ok()) return node;
      if (Peek().kind != Tok::kRParen) {
        return Error(Peek().position, "expected \")\"");
      }
      Take();
    } else {
      node = Comparison();
    }
    if (nests) --depth_;
    return node;
  }

  absl::StatusOr<Node> Comparison() {
    const Token& name = Take();
    if (name.kind != Tok::kWord || IsKeyword(name)) {
      return Error(name.position, "expected a field name");
    }
    Node node;
    node.field = FindField(name.text);
    if (node.field == nullptr) {
      std::vector<std::string> names;
      for (const FieldSpec& field : Fields()) {
        if (field.kind != FieldKind::kMetadata) names.push_back(field.name);
      }
      return Error(
          name.position,
          absl::StrCat("unknown field \"", name.text, "\"; use ",
                       absl::StrJoin(names, ", "), " or metadata.<key>"));
    }
    if (node.field->kind == FieldKind::kMetadata) {
      if (Peek().kind != Tok::kDot) {
        return Error(Peek().position, "expected \".\" and a metadata key");
      }
      while (Peek().kind == Tok::kDot) {
        Take();
        const Token& key = Take();
        if (key.kind != Tok::kWord) {
          return Error(key.position,
                       "expected a metadata key (a letter or '_', then "
                       "letters, digits or '_')");
        }
        node.path.push_back(key.text);
      }
    }
    if (++terms_ > kMaxFilterTerms) {
      return Error(name.position,
                   absl::StrCat("more than ", kMaxFilterTerms, " comparisons"));
    }
    const Token& op = Take();
    switch (op.kind) {
      case Tok::kEq:
        node.op = Op::kEq;
        break;
      case Tok::kNe:
        node.op = Op::kNe;
        break;
      case Tok::kLt:
        node.op = Op::kLt;
        break;
      case Tok::kLe:
        node.op = Op::kLe;
        break;
      case Tok::kGt:
        node.op = Op::kGt;
        break;
      case Tok::kGe:
        node.op = Op::kGe;
        break;
      case Tok::kColon:
        node.op = Op::kHas;
        break;
      default:
        return Error(op.position,
                     "expected an operator (=, !=, <, <=, >, >= or :)");
    }
    absl::Status value = Literal(op, &node);
    if (!value.ok()) return value;
    return node;
  }

  // The literal after `op`, checked against the field and operator.
  absl::Status Literal(const Token& op, Node* node) {
    const size_t position = Peek().position;
    // A '-' directly before a number is its sign.
    bool negative = false;
    if (Peek().kind == Tok::kMinus && tokens_[next_ + 1].kind == Tok::kNumber &&
        tokens_[next_ + 1].position == Peek().end) {
      negative = true;
      Take();
    }
    const Token& token = Take();
    const bool word = token.kind == Tok::kWord && !IsKeyword(token);
    if (token.kind != Tok::kString && token.kind != Tok::kNumber && !word &&
        token.kind != Tok::kStar) {
      return Error(position, absl::StrCat("expected a value after \"",
                                          OpName(op.kind), "\""));
    }
    Value& value = node->value;
    const FieldSpec& field = *node->field;
    const bool ordering =
        node->op != Op::kEq && node->op != Op::kNe && node->op != Op::kHas;
    if (node->op == Op::kHas) {
      if (field.kind == FieldKind::kMetadata) {
        if (token.kind != Tok::kStar) {
          return Error(position, "metadata.<key> takes only \":*\" (present)");
        }
        value.type = Value::Type::kAny;
        return absl::OkStatus();
      }
      if (field.kind != FieldKind::kText &&
          field.kind != FieldKind::kSearchText) {
        return Error(op.position,
                     "\":\" applies to title, description and metadata");
      }
      if (token.kind == Tok::kStar) return Error(position, "expected a string");
      value.type = Value::Type::kText;
      value.text = negative ? "-" + token.text : token.text;
      return absl::OkStatus();
    }
    if (token.kind == Tok::kStar) {
      return Error(position, "\"*\" only follows \":\"");
    }
    switch (field.kind) {
      case FieldKind::kInteger:
        // Parsed with its sign: -9223372036854775808 has no positive twin.
        if (token.kind != Tok::kNumber ||
            !absl::SimpleAtoi(negative ? "-" + token.text : token.text,
                              &value.integer)) {
          return Error(position, "expected an integer");
        }
        value.type = Value::Type::kInteger;
        return absl::OkStatus();
      case FieldKind::kEnum:
        return EnumLiteral(token, position, field.enum_names, value);
      case FieldKind::kTime:
        return TimeLiteral(token, position, value);
      case FieldKind::kText:
        value.type = Value::Type::kText;
        value.text = negative ? "-" + token.text : token.text;
        return absl::OkStatus();
      case FieldKind::kSearchText:
        return Error(op.position,
                     absl::StrCat(field.name, " takes only \":\""));
      case FieldKind::kMetadata:
        break;
    }
    if (token.kind == Tok::kNumber) {
      if (!absl::SimpleAtod(token.text, &value.number) ||
          !std::isfinite(value.number)) {
        return Error(position, "malformed number");
      }
      // 1e-400 reads as 0, which it is not: refused as 1e400 is.
      const absl::string_view mantissa =
          absl::string_view(token.text)
              .substr(0, token.text.find_first_of("eE"));
      if (value.number == 0 &&
          mantissa.find_first_of("123456789") != absl::string_view::npos) {
        return Error(position, "number too small for a double");
      }
      if (negative) value.number = -value.number;
      value.type = Value::Type::kNumber;
    } else if (word && (token.text == "true" || token.text == "false")) {
      value.type = Value::Type::kBool;
      value.boolean = token.text == "true";
    } else if (word && token.text == "null") {
      value.type = Value::Type::kNull;
    } else {
      value.type = Value::Type::kText;
      value.text = token.text;
    }
    if (ordering && (value.type == Value::Type::kBool ||
                     value.type == Value::Type::kNull)) {
      return Error(op.position, "true, false and null take only = and !=");
    }
    return absl::OkStatus();
  }

  static absl::Status EnumLiteral(const Token& token, size_t position,
                                  const std::vector<EnumName>& names,
                                  Value& value) {
    for (const EnumName& name : names) {
      if (token.kind != Tok::kNumber && token.text == name.name) {
        value.type = Value::Type::kInteger;
        value.integer = name.number;
        return absl::OkStatus();
      }
    }
    std::string choices;
    for (const EnumName& name : names) {
      absl::StrAppend(&choices, choices.empty() ? "" : ", ", name.name);
    }
    return Error(position, absl::StrCat("expected one of ", choices));
  }

  static absl::Status TimeLiteral(const Token& token, size_t position,
                                  Value& value) {
    absl::Time time;
    std::string why;
    if (token.kind != Tok::kString ||
        !absl::ParseTime(absl::RFC3339_full, token.text, &time, &why) ||
        time == absl::InfinitePast() || time == absl::InfiniteFuture()) {
      return Error(position,
                   "expected an RFC 3339 time in quotes, such as "
                   "\"2026-01-01T00:00:00Z\"");
    }
    const absl::Duration since_epoch = time - absl::UnixEpoch();
    const absl::Duration limit = absl::Hours(24 * 365 * 10000);
    if (since_epoch > limit || since_epoch < -limit) {
      return Error(position, "time out of range");
    }
    // Not ToInt64Nanoseconds, which saturates beyond 1677 to 2262.
    if (since_epoch % absl::Microseconds(1) != absl::ZeroDuration()) {
      return Error(position, "times have microsecond precision at most");
    }
    value.type = Value::Type::kInteger;
    value.integer = absl::ToUnixMicros(time);
    return absl::OkStatus();
  }

  static absl::string_view OpName(Tok op) {
    switch (op) {
      case Tok::kEq:
        return "=";
      case Tok::kNe:
        return "!=";
      case Tok::kLt:
        return "<";
      case Tok::kLe:
        return "<=";
      case Tok::kGt:
        return ">";
      case Tok::kGe:
        return ">=";
      default:
        return ":";
    }
  }

  std::vector<Token> tokens_;
  size_t next_ = 0;
  int depth_ = 0;
  int terms_ = 0;
};

}  // namespace

absl::StatusOr<Node> ParseFilter(absl::string_view text) {
  if (text.size() > kMaxFilterLength) {
    return Error(CharacterPositions(text).At(kMaxFilterLength),
                 absl::StrCat("longer than ", kMaxFilterLength, " bytes"));
  }
  if (const size_t nul = text.find('\0'); nul != absl::string_view::npos) {
    return Error(CharacterPositions(text).At(nul), "NUL character");
  }
  absl::StatusOr<std::vector<Token>> tokens = Lexer(text).Run();
  if (!tokens.ok()) return tokens.status();
  return Parser(*std::move(tokens)).Run();
}

}  // namespace tasks::storage::filter
