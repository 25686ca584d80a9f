#ifndef TASKS_STORAGE_SCHEMA_COLUMN_H_
#define TASKS_STORAGE_SCHEMA_COLUMN_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/error_reason.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"

namespace tasks::storage::schema {

// Columns
//
// A table is described once, as an array of Column: its SQL name, the kind
// of value it holds, how the API reaches it and how its value moves between
// a row and the table's message (v1::Task, v1::Project). Everything that
// must agree with the column order (SQL column lists, row buffers, libpq
// column numbers, statement parameters, update-mask paths) is derived from
// that array (see queries.h, prepared_statement.h, postgres_pipeline.h,
// task_table.h). This header knows no database library.
//
// Example (a nullable timestamp, settable on create and by update mask):
//
//   {"due_time", "due_time", ValueKind::kMicros, kNullable, kWritable,
//    TimestampField<&v1::Task::has_due_time, &v1::Task::due_time,
//                   &v1::Task::mutable_due_time>()},

// What a column holds, and so which ColumnValue member carries it. The
// integer kinds are all bound and read as 64-bit integers; kInt says the
// message's field is 32 bits wide (an enum).
enum class ValueKind {
  kInt64,   // BIGINT: `number`
  kInt,     // a 32-bit integer (an enum's number): `number`
  kText,    // `text`
  kMicros,  // a timestamp as BIGINT epoch microseconds, UTC: `number`
};

// Flags of a column.
enum ColumnFlags : unsigned {
  // The column may be NULL: rows read it with a NULL indicator and an unset
  // field is written as NULL.
  kNullable = 1,
  // An unset field is left out of an INSERT, so the column's DEFAULT applies
  // (an enum's UNSPECIFIED).
  kDefaultWhenUnset = 2,
  // An empty text is written as NULL, so that a NOT NULL column refuses it
  // (a required title).
  kEmptyIsNull = 4,
  // Stored as JSON (jsonb on PostgreSQL): read as text.
  kJson = 8,
};

// How the API reaches a column.
enum Use : unsigned {
  kOutputOnly = 0,  // set by the store; an update mask may not name it
  kSetOnCreate = 1,
  kUpdatable = 2,  // through an update mask
  kWritable = kSetOnCreate | kUpdatable,
};

// One column's value in a row or a statement parameter. NULL is `null`
// (the value members are then unspecified).
struct ColumnValue {
  long long number = 0;  // kInt64, kInt, kMicros
  std::string text;      // kText
  bool null = false;
};

// The most columns a table may have.
inline constexpr int kMaxColumns = 16;

// A row of a table, or the column parameters of a statement, indexed by the
// table's column order. Fixed size: buffers bound to a statement stay put.
using Row = std::array<ColumnValue, kMaxColumns>;

// How a column's value is taken from and put into the table's message.
// `message` is always the table's message type.
struct FieldAccess {
  // The field is populated: what an absent update mask means.
  bool (*is_set)(const google::protobuf::Message& message);
  // Sets the field from `row[column]`. Fails only for stored values the
  // field cannot take (INTERNAL).
  absl::Status (*read)(const Row& row, int column,
                       google::protobuf::Message& message);
  // The value to store for the field; `field` names it in errors
  // (INVALID_ARGUMENT). Used for the columns the API may set.
  absl::Status (*write)(const google::protobuf::Message& message,
                        absl::string_view field, ColumnValue& value);
};

// One column of a table, as a table description lists it.
struct Column {
  const char* name;  // in SQL, and the name of its statement parameter
  const char* path;  // the message's field, as an update mask names it
  ValueKind kind;
  unsigned flags;  // ColumnFlags
  Use use;
  FieldAccess field;

  constexpr bool settable_on_create() const { return use & kSetOnCreate; }
  constexpr bool updatable() const { return use & kUpdatable; }
  constexpr bool has(ColumnFlags flag) const { return (flags & flag) != 0; }
};

// A table: its SQL name and its columns, in the order rows hold them.
struct Table {
  const char* name;
  const Column* columns;
  int size;

  constexpr const Column& operator[](int i) const { return columns[i]; }
  constexpr const Column* begin() const { return columns; }
  constexpr const Column* end() const { return columns + size; }
};

// A set of a table's columns, by index.
class ColumnSet {
 public:
  constexpr ColumnSet() = default;
  constexpr explicit ColumnSet(uint32_t bits) : bits_(bits) {}

  constexpr bool Has(int column) const { return (bits_ >> column) & 1; }
  constexpr void Add(int column) { bits_ |= uint32_t{1} << column; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr uint32_t bits() const { return bits_; }

  friend constexpr bool operator==(ColumnSet a, ColumnSet b) {
    return a.bits_ == b.bits_;
  }

 private:
  uint32_t bits_ = 0;
};
static_assert(kMaxColumns <= 32, "ColumnSet holds 32 columns");

// The index of the column named `name` in `columns`; -1 when none is.
// constexpr, so that code naming a column gets its index from the table:
//   constexpr int kTaskTitle = ColumnIndex(kTaskColumns, "title");
template <size_t N>
constexpr int ColumnIndex(const Column (&columns)[N], const char* name) {
  for (size_t i = 0; i < N; ++i) {
    const char* a = columns[i].name;
    const char* b = name;
    while (*a != '\0' && *a == *b) {
      ++a;
      ++b;
    }
    if (*a == *b) return static_cast<int>(i);
  }
  return -1;
}

// The same, at run time.
int ColumnIndex(const Table& table, absl::string_view name);

// The index of the column whose field is `path`; -1 when none is.
int PathIndex(const Table& table, absl::string_view path);

// "a, b, c": the table's columns in order, as rows are read.
std::string ColumnList(const Table& table);

// ColumnList with each kJson column read as text ("CAST(m AS text) AS m").
std::string TextColumnList(const Table& table);

// "octet_length(a) + octet_length(b)": the stored bytes of the text columns
// of a row, in SQL (see StoredBytes).
std::string StoredBytesSql(const Table& table);

// The bytes of a row's text columns as read, before any parsing: what the
// list page budget counts.
size_t StoredBytes(const Table& table, const Row& row);

// The fields of the updatable columns: the paths an update mask may name.
std::vector<absl::string_view> UpdatablePaths(const Table& table);

// The fields of the output-only columns.
std::vector<absl::string_view> OutputOnlyPaths(const Table& table);

// The fields of the updatable columns populated in `message` (see
// FieldAccess::is_set), in table order.
std::vector<absl::string_view> PopulatedPaths(
    const Table& table, const google::protobuf::Message& message);

// The columns an INSERT of `message` sets: those settable on create, less
// the kDefaultWhenUnset ones whose field is unset.
ColumnSet InsertColumns(const Table& table,
                        const google::protobuf::Message& message);

// Sets `message`'s fields from `row`, in table order.
absl::Status ReadRow(const Table& table, const Row& row,
                     google::protobuf::Message& message);

// Writes column `column` of `message` into `value` (see FieldAccess::write
// and kEmptyIsNull); `field` names it in errors.
absl::Status WriteColumn(const Table& table, int column,
                         const google::protobuf::Message& message,
                         absl::string_view field, ColumnValue& value);

// Epoch microseconds of `timestamp` (nanoseconds truncated), and back.
long long TimestampToMicros(const google::protobuf::Timestamp& timestamp);
void SetTimestampFromMicros(long long micros,
                            google::protobuf::Timestamp* timestamp);

// Field accessors by kind, made from the message's generated accessors.
// Each yields the FieldAccess of one field:
//   Int64Field<&M::id, &M::set_id>()
//   OptionalInt64Field<&M::has_x, &M::x, &M::set_x>()   (kNullable)
//   TextField<&M::title, &M::mutable_title>()
//   EnumField<&M::status, &M::set_status>()             (kInt)
//   TimestampField<&M::has_t, &M::t, &M::mutable_t>()   (kMicros)
namespace internal {

template <typename T>
struct ClassOf;
template <typename C, typename R, typename... A>
struct ClassOf<R (C::*)(A...)> {
  using type = C;
};
template <typename C, typename R, typename... A>
struct ClassOf<R (C::*)(A...) const> {
  using type = C;
};
template <auto member>
using MessageOf = typename ClassOf<decltype(member)>::type;

template <auto member>
const MessageOf<member>& As(const google::protobuf::Message& message) {
  return static_cast<const MessageOf<member>&>(message);
}
template <auto member>
MessageOf<member>& As(google::protobuf::Message& message) {
  return static_cast<MessageOf<member>&>(message);
}

template <auto get>
bool IsNonZero(const google::protobuf::Message& message) {
  return (As<get>(message).*get)() != 0;
}
template <auto get>
bool IsNonEmpty(const google::protobuf::Message& message) {
  return !(As<get>(message).*get)().empty();
}
template <auto has>
bool Has(const google::protobuf::Message& message) {
  return (As<has>(message).*has)();
}

template <auto get>
absl::Status WriteNumber(const google::protobuf::Message& message,
                         absl::string_view, ColumnValue& value) {
  value.number = (As<get>(message).*get)();
  value.null = false;
  return absl::OkStatus();
}
template <auto has, auto get>
absl::Status WriteOptionalNumber(const google::protobuf::Message& message,
                                 absl::string_view, ColumnValue& value) {
  value.null = !(As<has>(message).*has)();
  value.number = (As<get>(message).*get)();
  return absl::OkStatus();
}
template <auto get>
absl::Status WriteText(const google::protobuf::Message& message,
                       absl::string_view, ColumnValue& value) {
  value.text = (As<get>(message).*get)();
  value.null = false;
  return absl::OkStatus();
}
// INVALID_ARGUMENT naming `field` for a time outside years 1 to 9999 or
// nanos outside 0 to 999,999,999: what google.protobuf.Timestamp allows, and
// what epoch microseconds hold without overflow.
inline absl::Status CheckTimestamp(const google::protobuf::Timestamp& timestamp,
                                   absl::string_view field) {
  using ::google::protobuf::util::TimeUtil;
  if (timestamp.seconds() < TimeUtil::kTimestampMinSeconds ||
      timestamp.seconds() > TimeUtil::kTimestampMaxSeconds ||
      timestamp.nanos() < 0 || timestamp.nanos() > 999999999) {
    return InvalidField(field,
                        "must be a time in years 1 to 9999, nanos 0 to "
                        "999,999,999");
  }
  return absl::OkStatus();
}
template <auto has, auto get>
absl::Status WriteTimestamp(const google::protobuf::Message& message,
                            absl::string_view field, ColumnValue& value) {
  const auto& typed = As<has>(message);
  value.null = !(typed.*has)();
  if (value.null) return absl::OkStatus();
  const google::protobuf::Timestamp& timestamp = (typed.*get)();
  if (absl::Status valid = CheckTimestamp(timestamp, field); !valid.ok()) {
    return valid;
  }
  value.number = TimestampToMicros(timestamp);
  return absl::OkStatus();
}

template <auto set>
absl::Status ReadInt64(const Row& row, int column,
                       google::protobuf::Message& message) {
  (As<set>(message).*set)(row[column].number);
  return absl::OkStatus();
}
template <auto set>
absl::Status ReadOptionalInt64(const Row& row, int column,
                               google::protobuf::Message& message) {
  if (!row[column].null) (As<set>(message).*set)(row[column].number);
  return absl::OkStatus();
}
template <typename E, auto set>
absl::Status ReadEnum(const Row& row, int column,
                      google::protobuf::Message& message) {
  (As<set>(message).*set)(static_cast<E>(row[column].number));
  return absl::OkStatus();
}
template <auto mutable_text>
absl::Status ReadText(const Row& row, int column,
                      google::protobuf::Message& message) {
  *(As<mutable_text>(message).*mutable_text)() = row[column].text;
  return absl::OkStatus();
}
template <auto mutable_timestamp>
absl::Status ReadTimestamp(const Row& row, int column,
                           google::protobuf::Message& message) {
  if (!row[column].null) {
    SetTimestampFromMicros(row[column].number, (As<mutable_timestamp>(message).*
                                                mutable_timestamp)());
  }
  return absl::OkStatus();
}

}  // namespace internal

template <auto get, auto set>
constexpr FieldAccess Int64Field() {
  return {&internal::IsNonZero<get>, &internal::ReadInt64<set>,
          &internal::WriteNumber<get>};
}

template <auto has, auto get, auto set>
constexpr FieldAccess OptionalInt64Field() {
  return {&internal::Has<has>, &internal::ReadOptionalInt64<set>,
          &internal::WriteOptionalNumber<has, get>};
}

template <auto get, auto mutable_text>
constexpr FieldAccess TextField() {
  return {&internal::IsNonEmpty<get>, &internal::ReadText<mutable_text>,
          &internal::WriteText<get>};
}

template <auto get, auto set>
constexpr FieldAccess EnumField() {
  using Enum = decltype((std::declval<internal::MessageOf<get>>().*get)());
  return {&internal::IsNonZero<get>, &internal::ReadEnum<Enum, set>,
          &internal::WriteNumber<get>};
}

template <auto has, auto get, auto mutable_timestamp>
constexpr FieldAccess TimestampField() {
  return {&internal::Has<has>, &internal::ReadTimestamp<mutable_timestamp>,
          &internal::WriteTimestamp<has, get>};
}

}  // namespace tasks::storage::schema

#endif  // TASKS_STORAGE_SCHEMA_COLUMN_H_
