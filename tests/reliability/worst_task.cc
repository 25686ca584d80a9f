#include "tests/reliability/worst_task.h"

#include <string>

namespace tasks::reliability {

void SetWorstMetadata(google::protobuf::Struct* metadata) {
  google::protobuf::ListValue* list =
      (*metadata->mutable_fields())["a"].mutable_list_value();
  for (int i = 0; i < 999; ++i) {
    list->add_values()->mutable_struct_value();
  }
}

void SetWorstDescription(v1::Task* task) {
  std::string description;
  description.reserve(40000);
  for (int i = 0; i < 10000; ++i) description += "\xF0\x9F\x98\x80";  // U+1F600
  task->set_description(std::move(description));
}

}  // namespace tasks::reliability
