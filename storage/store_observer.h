#ifndef TASKS_STORAGE_STORE_OBSERVER_H_
#define TASKS_STORAGE_STORE_OBSERVER_H_

#include "absl/time/time.h"

namespace tasks::storage {

// StoreObserver
//
// What a store reports about its own work, for an operator's metrics: the
// store knows nothing of how (or whether) they are exported. Calls come from
// the store's calling threads, some under the store's internal locks, and
// from its own threads (PostgreSQL's pipeline): an implementation must be
// thread-safe, quick (an atomic update), and must not call back into the
// store.
//
// Example:
//   class MyMetrics final : public StoreObserver { ... };
//   MyMetrics metrics;
//   SociTaskStoreOptions options;
//   options.observer = &metrics;  // must outlive the store
class StoreObserver {
 public:
  virtual ~StoreObserver() = default;

  // The connection pool changed: `open` connections exist (idle, leased or
  // being opened) of at most `size`, `in_use` of them leased to calls.
  virtual void OnPoolChanged(int size, int open, int in_use) = 0;

  // A call waited `wait` for a pooled connection (zero when one was free at
  // once), whether or not it then got one.
  virtual void OnPoolWait(absl::Duration wait) = 0;

  // One transaction committed (or undid) `writes` grouped writes (1 for a
  // write that ran alone). Only stores that group commits report these.
  virtual void OnGroupCommit(int writes) = 0;

  // Of the `connections` a store keeps for pipelined statements (PostgreSQL's
  // GetTask and CreateTask), `ready` are up. While none is, those calls take
  // the pool, slower but answered, so this is where an operator sees it.
  virtual void OnPipelineChanged(int connections, int ready) = 0;
};

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_STORE_OBSERVER_H_
