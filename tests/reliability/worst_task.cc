#include "tests/reliability/worst_task.h"

#include <string>

#include "api/metadata_limits.h"
#include "api/text_rules.h"

namespace tasks::reliability {

void SetWorstMetadata(google::protobuf::Struct* metadata) {
  google::protobuf::ListValue* list =
      (*metadata->mutable_fields())["a"].mutable_list_value();
  // The key's list counts as a value.
  for (int i = 0; i < api::kMaxMetadataValues - 1; ++i) {
    list->add_values()->mutable_struct_value();
  }
}

void SetWorstDescription(v1::Task* task) {
  std::string description;
  description.reserve(4 * api::kMaxDescriptionLength);
  for (size_t i = 0; i < api::kMaxDescriptionLength; ++i) {
    description += "\xF0\x9F\x98\x80";  // U+1F600
  }
  task->set_description(std::move(description));
}

}  // namespace tasks::reliability
