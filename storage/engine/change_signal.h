#ifndef TASKS_STORAGE_ENGINE_CHANGE_SIGNAL_H_
#define TASKS_STORAGE_ENGINE_CHANGE_SIGNAL_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tasks::storage {

// ChangeSignal
//
// A backend's word that another connection may have committed changes to
// the change log (PostgreSQL: the NOTIFY of a SequenceChanges run), for
// TaskStore::WaitForChanges. Thread-safe.
class ChangeSignal {
 public:
  virtual ~ChangeSignal() = default;

  // True as soon as a signal comes (or may have been missed: after
  // reconnecting), false once `timeout` passes without one. UNAVAILABLE when
  // the signal cannot be had now (later calls try again), and at once after
  // Cancel().
  virtual absl::StatusOr<bool> Wait(absl::Duration timeout) = 0;

  // Ends the Wait running now and makes later ones fail. For shutdown.
  virtual void Cancel() = 0;
};

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_ENGINE_CHANGE_SIGNAL_H_
