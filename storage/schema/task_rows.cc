#include "storage/schema/task_rows.h"

#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/error_reason.h"
#include "common/struct_json.h"

namespace tasks::storage {
namespace {

absl::StatusOr<std::string> CheckedJson(const absl::Status& written,
                                        std::string json,
                                        absl::string_view field) {
  if (!written.ok()) {
    return InvalidField(
        field, absl::StrCat("cannot be written as JSON: ", written.message()));
  }
  return json;
}

}  // namespace

std::string FormatEtag(long long revision) {
  return absl::StrCat("\"", revision, "\"");
}

std::optional<long long> ParseEtag(absl::string_view etag) {
  if (etag.size() < 3 || etag.front() != '"' || etag.back() != '"') {
    return std::nullopt;
  }
  absl::string_view digits = etag.substr(1, etag.size() - 2);
  for (char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return std::nullopt;
    }
  }
  int64_t revision = 0;
  if (!absl::SimpleAtoi(digits, &revision)) return std::nullopt;
  // Opaque to clients: only the spelling FormatEtag gives matches ("01" is
  // not "1").
  if (FormatEtag(revision) != etag) return std::nullopt;
  return revision;
}

absl::StatusOr<std::string> StructToJson(
    const google::protobuf::Struct& metadata, absl::string_view field) {
  std::string json;
  absl::Status written =
      AppendStructJson(metadata, &json, NegativeZero::kPlain);
  return CheckedJson(written, std::move(json), field);
}

absl::StatusOr<std::string> ValueToJson(const google::protobuf::Value& value,
                                        absl::string_view field) {
  std::string json;
  absl::Status written = AppendValueJson(value, &json, NegativeZero::kPlain);
  return CheckedJson(written, std::move(json), field);
}

long long NowMicros() { return absl::ToUnixMicros(absl::Now()); }

}  // namespace tasks::storage
