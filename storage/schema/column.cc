#include "storage/schema/column.h"

#include "absl/strings/str_cat.h"

namespace tasks::storage::schema {

int ColumnIndex(const Table& table, absl::string_view name) {
  for (int i = 0; i < table.size; ++i) {
    if (name == table[i].name) return i;
  }
  return -1;
}

int PathIndex(const Table& table, absl::string_view path) {
  for (int i = 0; i < table.size; ++i) {
    if (path == table[i].path) return i;
  }
  return -1;
}

std::string ColumnList(const Table& table) {
  std::string list;
  for (const Column& column : table) {
    absl::StrAppend(&list, list.empty() ? "" : ", ", column.name);
  }
  return list;
}

std::string TextColumnList(const Table& table) {
  std::string list;
  for (const Column& column : table) {
    absl::StrAppend(&list, list.empty() ? "" : ", ");
    if (column.has(kJson)) {
      absl::StrAppend(&list, "CAST(", column.name, " AS text) AS ",
                      column.name);
    } else {
      absl::StrAppend(&list, column.name);
    }
  }
  return list;
}

std::string StoredBytesSql(const Table& table) {
  std::string sum;
  for (const Column& column : table) {
    if (column.kind != ValueKind::kText) continue;
    absl::StrAppend(&sum, sum.empty() ? "" : " + ", "octet_length(",
                    column.name, ")");
  }
  return sum;
}

size_t StoredBytes(const Table& table, const Row& row) {
  size_t bytes = 0;
  for (int i = 0; i < table.size; ++i) {
    if (table[i].kind == ValueKind::kText) bytes += row[i].text.size();
  }
  return bytes;
}

namespace {

std::vector<absl::string_view> Paths(const Table& table, bool updatable) {
  std::vector<absl::string_view> paths;
  for (const Column& column : table) {
    if (updatable ? column.updatable() : column.use == kOutputOnly) {
      paths.push_back(column.path);
    }
  }
  return paths;
}

}  // namespace

std::vector<absl::string_view> UpdatablePaths(const Table& table) {
  return Paths(table, /*updatable=*/true);
}

std::vector<absl::string_view> OutputOnlyPaths(const Table& table) {
  return Paths(table, /*updatable=*/false);
}

std::vector<absl::string_view> PopulatedPaths(
    const Table& table, const google::protobuf::Message& message) {
  std::vector<absl::string_view> paths;
  for (const Column& column : table) {
    if (column.updatable() && column.field.is_set(message)) {
      paths.push_back(column.path);
    }
  }
  return paths;
}

ColumnSet InsertColumns(const Table& table,
                        const google::protobuf::Message& message) {
  ColumnSet columns;
  for (int i = 0; i < table.size; ++i) {
    const Column& column = table[i];
    if (!column.settable_on_create()) continue;
    if (column.has(kDefaultWhenUnset) && !column.field.is_set(message)) {
      continue;
    }
    columns.Add(i);
  }
  return columns;
}

absl::Status ReadRow(const Table& table, const Row& row,
                     google::protobuf::Message& message) {
  for (int i = 0; i < table.size; ++i) {
    absl::Status read = table[i].field.read(row, i, message);
    if (!read.ok()) return read;
  }
  return absl::OkStatus();
}

absl::Status WriteColumn(const Table& table, int column,
                         const google::protobuf::Message& message,
                         absl::string_view field, ColumnValue& value) {
  const Column& described = table[column];
  absl::Status written = described.field.write(message, field, value);
  if (written.ok() && described.has(kEmptyIsNull) && value.text.empty()) {
    value.null = true;
  }
  return written;
}

long long TimestampToMicros(const google::protobuf::Timestamp& timestamp) {
  return timestamp.seconds() * 1000000 + timestamp.nanos() / 1000;
}

void SetTimestampFromMicros(long long micros,
                            google::protobuf::Timestamp* timestamp) {
  long long seconds = micros / 1000000;
  long long rest = micros % 1000000;
  if (rest < 0) {
    rest += 1000000;
    --seconds;
  }
  timestamp->set_seconds(seconds);
  timestamp->set_nanos(static_cast<int32_t>(rest * 1000));
}

}  // namespace tasks::storage::schema
