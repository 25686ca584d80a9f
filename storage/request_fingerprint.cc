#include "storage/request_fingerprint.h"

#include "absl/strings/escaping.h"
#include "common/sha256.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace tasks::storage {
namespace {

// The status and priority an unset field gets: the columns' DEFAULTs
// (migration 0001).
constexpr v1::Task::Status kDefaultStatus = v1::Task::PENDING;
constexpr v1::Task::Priority kDefaultPriority = v1::Task::MEDIUM;

// Whether `draft` spells its row some other way too: a field set to what
// leaving it unset gives, or a due_time finer than the stored microsecond.
bool HasOtherSpellings(const v1::Task& draft) {
  return draft.status() == kDefaultStatus ||
         draft.priority() == kDefaultPriority ||
         (draft.has_metadata() && draft.metadata().fields().empty()) ||
         (draft.has_due_time() && draft.due_time().nanos() % 1000 != 0);
}

// The one spelling of the row `draft` makes: those fields unset, due_time
// cut to the microsecond as it is stored.
v1::Task RowSpelling(v1::Task draft) {
  if (draft.status() == kDefaultStatus) draft.clear_status();
  if (draft.priority() == kDefaultPriority) draft.clear_priority();
  if (draft.has_metadata() && draft.metadata().fields().empty()) {
    draft.clear_metadata();
  }
  if (draft.has_due_time()) {
    google::protobuf::Timestamp& due = *draft.mutable_due_time();
    due.set_nanos(due.nanos() - due.nanos() % 1000);
  }
  return draft;
}

std::string Fingerprint(const v1::Task& task) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream output(&bytes);
    google::protobuf::io::CodedOutputStream coded(&output);
    coded.SetSerializationDeterministic(true);
    task.SerializePartialToCodedStream(&coded);
  }
  const Sha256Bytes digest = Sha256Digest(bytes);
  return absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(digest.data()), digest.size()));
}

}  // namespace

RequestFingerprints FingerprintRequest(const v1::Task& draft) {
  RequestFingerprints fingerprints;
  fingerprints.sent = Fingerprint(draft);
  fingerprints.row = HasOtherSpellings(draft) ? Fingerprint(RowSpelling(draft))
                                              : fingerprints.sent;
  return fingerprints;
}

}  // namespace tasks::storage
