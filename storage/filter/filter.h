#ifndef TASKS_STORAGE_FILTER_FILTER_H_
#define TASKS_STORAGE_FILTER_FILTER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/filter/fields.h"

namespace tasks::storage::filter {

// Bounds on a filter, so that neither parsing it nor running its query can
// be made expensive: its length in bytes, how deeply parentheses and NOTs
// nest, and how many comparisons it holds.
inline constexpr size_t kMaxFilterLength = 2048;
inline constexpr int kMaxFilterDepth = 16;
inline constexpr int kMaxFilterTerms = 32;

enum class Op { kEq, kNe, kLt, kLe, kGt, kGe, kHas };

// A comparison's literal, resolved to the field's type: enum names to their
// numbers, RFC 3339 times to epoch microseconds.
struct Value {
  enum class Type {
    kInteger,  // an integer, enum or time field's value
    kText,     // title, description, a metadata string
    kNumber,   // a metadata number
    kBool,     // a metadata true or false
    kNull,     // a metadata null
    kAny,      // `*` after `:`: the metadata key is present
  };
  Type type = Type::kInteger;
  int64_t integer = 0;
  double number = 0;
  bool boolean = false;
  std::string text;
};

// A node of a parsed filter. kAnd and kOr have two or more children, kNot
// one; a kCompare node is a leaf.
struct Node {
  enum class Kind { kAnd, kOr, kNot, kCompare };
  Kind kind = Kind::kCompare;
  std::vector<Node> children;
  const FieldSpec* field = nullptr;  // kCompare: the field it reads
  std::vector<std::string> path;     // metadata keys, outermost first
  Op op = Op::kEq;
  Value value;
};

// ParseFilter()
//
// Parses an AIP-160 filter on tasks (the grammar is documented on
// ListTasksRequest.filter in tasks.proto). An empty or blank `text` matches
// every task: a kAnd node without children. `a != b` is exactly
// `NOT a = b`, so it holds for a task without the value (no project, no
// such metadata key); every other comparison needs the value.
//
// INVALID_ARGUMENT (field "filter", reason INVALID_ARGUMENT) for anything
// else it cannot parse or that is over the bounds above; the message gives
// the 1-based position of the error, e.g.
//   `filter: expected a value after "=" at position 10`.
//
// Example:
//   absl::StatusOr<Node> parsed =
//       ParseFilter("status = PENDING AND metadata.owner = \"ana\"");
absl::StatusOr<Node> ParseFilter(absl::string_view text);

}  // namespace tasks::storage::filter

#endif  // TASKS_STORAGE_FILTER_FILTER_H_
