#include "storage/filter/matches.h"

#include <cstdint>
#include <optional>

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace tasks::storage::filter {
namespace {

template <typename T>
bool Compare(Op op, const T& a, const T& b) {
  switch (op) {
    case Op::kEq:
      return a == b;
    case Op::kNe:
      return !(a == b);
    case Op::kLt:
      return a < b;
    case Op::kLe:
      return a <= b;
    case Op::kGt:
      return a > b;
    case Op::kGe:
      return a >= b;
    case Op::kHas:
      return false;
  }
  return false;
}

// The metadata value at `path`, or null when a key is missing or a value on
// the way is not an object.
const google::protobuf::Value* Lookup(const google::protobuf::Struct& root,
                                      const std::vector<std::string>& path) {
  const google::protobuf::Struct* object = &root;
  const google::protobuf::Value* value = nullptr;
  for (const std::string& key : path) {
    if (object == nullptr) return nullptr;
    auto it = object->fields().find(key);
    if (it == object->fields().end()) return nullptr;
    value = &it->second;
    object = value->has_struct_value() ? &value->struct_value() : nullptr;
  }
  return value;
}

// A comparison other than != (which is NOT =).
bool MetadataHolds(const Node& node, const google::protobuf::Value* found) {
  if (found == nullptr) return false;
  const Value& literal = node.value;
  switch (literal.type) {
    case Value::Type::kAny:
      return true;
    case Value::Type::kText:
      return found->kind_case() == google::protobuf::Value::kStringValue &&
             Compare(node.op, found->string_value(), literal.text);
    case Value::Type::kNumber:
      return found->kind_case() == google::protobuf::Value::kNumberValue &&
             Compare(node.op, found->number_value(), literal.number);
    case Value::Type::kBool:
      return found->kind_case() == google::protobuf::Value::kBoolValue &&
             found->bool_value() == literal.boolean;
    case Value::Type::kNull:
      return found->kind_case() == google::protobuf::Value::kNullValue;
    case Value::Type::kInteger:
      return false;
  }
  return false;
}

bool CompareHolds(const Node& node, const v1::Task& task) {
  const Value& literal = node.value;
  const FieldSpec& field = *node.field;
  switch (field.kind) {
    case FieldKind::kInteger:
    case FieldKind::kEnum:
    case FieldKind::kTime: {
      const schema::ColumnValue value = FieldValue(field, task);
      return !value.null && Compare(node.op, static_cast<int64_t>(value.number),
                                    literal.integer);
    }
    case FieldKind::kText:
    case FieldKind::kSearchText: {
      const std::string text = FieldValue(field, task).text;
      if (node.op == Op::kHas) {
        return text.find(literal.text) != std::string::npos;
      }
      return Compare(node.op, text, literal.text);
    }
    case FieldKind::kMetadata:
      return MetadataHolds(node, Lookup(task.metadata(), node.path));
  }
  return false;
}

}  // namespace

bool Matches(const Node& filter, const v1::Task& task) {
  switch (filter.kind) {
    case Node::Kind::kAnd:
      for (const Node& child : filter.children) {
        if (!Matches(child, task)) return false;
      }
      return true;
    case Node::Kind::kOr:
      for (const Node& child : filter.children) {
        if (Matches(child, task)) return true;
      }
      return false;
    case Node::Kind::kNot:
      return !Matches(filter.children[0], task);
    case Node::Kind::kCompare:
      if (filter.op == Op::kNe) {
        Node equal = filter;
        equal.op = Op::kEq;
        return !CompareHolds(equal, task);
      }
      return CompareHolds(filter, task);
  }
  return false;
}

std::optional<absl::flat_hash_set<int64_t>> MatchableProjects(
    const Node& filter) {
  using Projects = absl::flat_hash_set<int64_t>;
  switch (filter.kind) {
    case Node::Kind::kCompare:
      if (filter.field != nullptr && filter.field->name == "project_id" &&
          filter.op == Op::kEq && filter.value.type == Value::Type::kInteger) {
        return Projects{filter.value.integer};
      }
      return std::nullopt;
    case Node::Kind::kAnd: {
      // Each constrained child narrows the set; the others leave it.
      std::optional<Projects> narrowed;
      for (const Node& child : filter.children) {
        std::optional<Projects> projects = MatchableProjects(child);
        if (!projects.has_value()) continue;
        if (!narrowed.has_value()) {
          narrowed = std::move(projects);
          continue;
        }
        absl::erase_if(*narrowed, [&](int64_t project) {
          return !projects->contains(project);
        });
      }
      return narrowed;
    }
    case Node::Kind::kOr: {
      Projects any;
      for (const Node& child : filter.children) {
        std::optional<Projects> projects = MatchableProjects(child);
        if (!projects.has_value()) return std::nullopt;
        any.insert(projects->begin(), projects->end());
      }
      return any;
    }
    case Node::Kind::kNot:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace tasks::storage::filter
