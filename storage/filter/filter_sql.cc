#include "storage/filter/filter_sql.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tasks::storage::filter {
namespace {

const char* OpSql(Op op) {
  switch (op) {
    case Op::kEq:
      return "=";
    case Op::kNe:
      return "<>";
    case Op::kLt:
      return "<";
    case Op::kLe:
      return "<=";
    case Op::kGt:
      return ">";
    case Op::kGe:
      return ">=";
    case Op::kHas:
      break;
  }
  return "=";
}

class Compiler {
 public:
  explicit Compiler(SqlDialect dialect)
      : postgres_(dialect == SqlDialect::kPostgres) {}

  // `negated`: under an odd number of NOTs, where a NULL would not negate
  // to true (see Comparison).
  std::string Condition(const Node& node, bool negated = false) {
    switch (node.kind) {
      case Node::Kind::kAnd:
      case Node::Kind::kOr: {
        std::vector<std::string> parts;
        for (const Node& child : node.children)
          parts.push_back(Condition(child, negated));
        return absl::StrCat(
            "(",
            absl::StrJoin(parts,
                          node.kind == Node::Kind::kAnd ? " AND " : " OR "),
            ")");
      }
      case Node::Kind::kNot:
        return absl::StrCat("NOT ", Condition(node.children[0], !negated));
      case Node::Kind::kCompare:
        if (node.op == Op::kNe) {
          return absl::StrCat("NOT (", Comparison(node, Op::kEq, !negated),
                              ")");
        }
        return Comparison(node, node.op, negated);
    }
    return "";
  }

  std::vector<SqlParam> TakeParams() { return std::move(params_); }

 private:
  std::string Integer(long long value) {
    SqlParam param;
    param.integer = value;
    return Add(std::move(param));
  }
  std::string Real(double value) {
    SqlParam param;
    param.type = 'r';
    param.real = value;
    return Add(std::move(param));
  }
  std::string Text(std::string value) {
    SqlParam param;
    param.type = 't';
    param.text = std::move(value);
    return Add(std::move(param));
  }
  std::string Add(SqlParam param) {
    std::string name =
        absl::StrCat(":filter_", std::string(1, param.type), params_.size());
    params_.push_back(std::move(param));
    return name;
  }

  std::string Comparison(const Node& node, Op op, bool negated) {
    const FieldSpec& field = *node.field;
    switch (field.kind) {
      case FieldKind::kMetadata:
        return Metadata(node, op);
      case FieldKind::kText:
      case FieldKind::kSearchText:
        if (op == Op::kHas) {
          return absl::StrCat(postgres_ ? "strpos(" : "instr(", field.column,
                              ", ", Text(node.value.text), ") > 0");
        }
        // PostgreSQL's title is COLLATE "C": bytewise, as on SQLite.
        return absl::StrCat(field.column, " ", OpSql(op), " ",
                            Text(node.value.text));
      default:
        break;
    }
    std::string compared = absl::StrCat(field.column, " ", OpSql(op), " ",
                                        Integer(node.value.integer));
    // A task without a value makes the comparison NULL, which a WHERE takes
    // as false, as are AND and OR of it; only a NOT would turn it into NULL
    // rather than true, so only there is it made false (see ToSql). Plain
    // elsewhere, where the planner matches it to an index most readily.
    if (!field.optional || !negated) return compared;
    return absl::StrCat("(", field.column, " IS NOT NULL AND ", compared, ")");
  }

  // The JSON type and the value (as SQL) at the node's metadata path.
  std::string Metadata(const Node& node, Op op) {
    std::string path;
    if (postgres_) {
      // A text[] literal, each key quoted (an unquoted NULL would be NULL).
      std::vector<std::string> keys;
      for (const std::string& key : node.path)
        keys.push_back(absl::StrCat("\"", key, "\""));
      path = absl::StrCat(
          "CAST(", Text(absl::StrCat("{", absl::StrJoin(keys, ","), "}")),
          " AS text[])");
    } else {
      path = Text(absl::StrCat("$.", absl::StrJoin(node.path, ".")));
    }
    const std::string type =
        postgres_ ? absl::StrCat("jsonb_typeof(metadata #> ", path, ")")
                  : absl::StrCat("json_type(metadata, ", path, ")");
    const std::string value =
        postgres_ ? absl::StrCat("(metadata #>> ", path, ")")
                  : absl::StrCat("json_extract(metadata, ", path, ")");
    const Value& literal = node.value;
    // CASE, not AND: PostgreSQL may evaluate AND's operands in any order,
    // and a string cast to a number fails.
    switch (literal.type) {
      case Value::Type::kAny:
        return absl::StrCat(type, " IS NOT NULL");
      case Value::Type::kText:
        return absl::StrCat("CASE WHEN ", type, " = '",
                            postgres_ ? "string" : "text", "' THEN ", value,
                            postgres_ ? " COLLATE \"C\" " : " ", OpSql(op), " ",
                            Text(literal.text), " ELSE FALSE END");
      case Value::Type::kNumber:
        return absl::StrCat("CASE WHEN ", type,
                            postgres_ ? " = 'number' THEN CAST("
                                      : " IN ('integer', 'real') THEN ",
                            value, postgres_ ? " AS double precision) " : " ",
                            OpSql(op), " ", Real(literal.number),
                            " ELSE FALSE END");
      case Value::Type::kBool:
      case Value::Type::kNull: {
        // SQLite's json_type and PostgreSQL's jsonb text of these agree:
        // "true", "false", "null".
        const std::string name = literal.type == Value::Type::kNull ? "null"
                                 : literal.boolean                  ? "true"
                                                                    : "false";
        if (postgres_) {
          return absl::StrCat("COALESCE((metadata #> ", path, ") = CAST(",
                              Text(name), " AS jsonb), FALSE)");
        }
        return absl::StrCat("COALESCE(", type, " = ", Text(name), ", FALSE)");
      }
      case Value::Type::kInteger:
        break;
    }
    return "FALSE";
  }

  const bool postgres_;
  std::vector<SqlParam> params_;
};

}  // namespace

SqlFilter ToSql(const Node& filter, SqlDialect dialect) {
  SqlFilter sql;
  if (filter.kind == Node::Kind::kAnd && filter.children.empty()) return sql;
  Compiler compiler(dialect);
  sql.condition = compiler.Condition(filter);
  sql.params = compiler.TakeParams();
  return sql;
}

}  // namespace tasks::storage::filter
