#include "storage/request_fingerprint.h"

#include "absl/strings/escaping.h"
#include "common/sha256.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace tasks::storage {

std::string RequestFingerprint(const v1::Task& draft) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream output(&bytes);
    google::protobuf::io::CodedOutputStream coded(&output);
    coded.SetSerializationDeterministic(true);
    draft.SerializePartialToCodedStream(&coded);
  }
  const Sha256Bytes digest = Sha256Digest(bytes);
  return absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(digest.data()), digest.size()));
}

}  // namespace tasks::storage
