#include "storage/request_fingerprint.h"

#include "absl/strings/escaping.h"
#include "common/sha256.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace tasks::storage {
namespace {

// The status and priority an unset field gets: the columns' DEFAULTs
// (migration 0001; TaskStoreTest.CreateTaskAppliesSchemaDefaults pins them).
constexpr v1::Task::Status kDefaultStatus = v1::Task::PENDING;
constexpr v1::Task::Priority kDefaultPriority = v1::Task::MEDIUM;

// Metadata's numbers -0 made 0, as the store writes them (StructToJson).
void PlainZeros(google::protobuf::Value& value) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kNumberValue:
      if (value.number_value() == 0) value.set_number_value(0);
      break;
    case google::protobuf::Value::kListValue:
      for (google::protobuf::Value& item :
           *value.mutable_list_value()->mutable_values()) {
        PlainZeros(item);
      }
      break;
    case google::protobuf::Value::kStructValue:
      for (auto& [key, field] :
           *value.mutable_struct_value()->mutable_fields()) {
        PlainZeros(field);
      }
      break;
    default:
      break;
  }
}

// The one spelling of the row `draft` makes: a status, priority or metadata
// set to what leaving it unset gives is unset, due_time is cut to the
// microsecond it is stored with, metadata's -0 is 0, and fields this build
// does not know (from a newer client's proto) are dropped, as the store
// drops them.
v1::Task RowSpelling(v1::Task draft) {
  if (draft.status() == kDefaultStatus) draft.clear_status();
  if (draft.priority() == kDefaultPriority) draft.clear_priority();
  if (draft.has_metadata() && draft.metadata().fields().empty()) {
    draft.clear_metadata();
  }
  if (draft.has_metadata()) {
    for (auto& [key, field] : *draft.mutable_metadata()->mutable_fields()) {
      PlainZeros(field);
    }
  }
  if (draft.has_due_time()) {
    google::protobuf::Timestamp& due = *draft.mutable_due_time();
    due.set_nanos(due.nanos() - due.nanos() % 1000);
  }
  draft.DiscardUnknownFields();
  return draft;
}

// Deterministic: map entries (metadata's keys) sorted.
std::string Serialized(const v1::Task& task) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream output(&bytes);
    google::protobuf::io::CodedOutputStream coded(&output);
    coded.SetSerializationDeterministic(true);
    task.SerializePartialToCodedStream(&coded);
  }
  return bytes;
}

std::string Fingerprint(absl::string_view bytes) {
  const Sha256Bytes digest = Sha256Digest(bytes);
  return absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(digest.data()), digest.size()));
}

}  // namespace

RequestFingerprints FingerprintRequest(const v1::Task& draft) {
  const std::string sent = Serialized(draft);
  const std::string row = Serialized(RowSpelling(draft));
  RequestFingerprints fingerprints;
  fingerprints.row = Fingerprint(row);
  fingerprints.sent = row == sent ? fingerprints.row : Fingerprint(sent);
  return fingerprints;
}

}  // namespace tasks::storage
