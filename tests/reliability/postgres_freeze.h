#ifndef TASKS_TESTS_RELIABILITY_POSTGRES_FREEZE_H_
#define TASKS_TESTS_RELIABILITY_POSTGRES_FREEZE_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tasks::reliability {

// PostgresFreeze
//
// A PostgreSQL server hung but alive: SIGSTOP to its postmaster and every
// process the postmaster started (backends, background workers). The
// kernel still accepts and acknowledges TCP for them, so clients see no
// error, only silence. Thaw() (or the destructor) sends SIGCONT, so that the
// server can be used and stopped again: keep the object alive until then.
class PostgresFreeze {
 public:
  // Freezes the server whose data directory is `data_dir` (its
  // postmaster.pid names the postmaster). Fails when there is no running
  // postmaster or it cannot be signalled.
  static absl::StatusOr<std::unique_ptr<PostgresFreeze>> Freeze(
      const std::string& data_dir);

  PostgresFreeze(const PostgresFreeze&) = delete;
  PostgresFreeze& operator=(const PostgresFreeze&) = delete;
  ~PostgresFreeze();  // Thaw()

  // SIGCONT to every frozen process. Idempotent.
  void Thaw();

  // How many processes were frozen.
  int processes() const { return static_cast<int>(frozen_.size()); }

 private:
  PostgresFreeze() = default;

  std::vector<pid_t> frozen_;
  bool thawed_ = false;
};

}  // namespace tasks::reliability

#endif  // TASKS_TESTS_RELIABILITY_POSTGRES_FREEZE_H_
