#include "bench/store_schema.h"

#include "storage/soci_task_store.h"

namespace tasks::bench {

absl::Status CreateStoreSchema(const std::string& db) {
  storage::SociTaskStoreOptions options;
  options.pool_size = 1;
  return storage::OpenSociTaskStore(db, options).status();
}

}  // namespace tasks::bench
