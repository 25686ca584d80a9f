#ifndef TASKS_BENCH_POSTGRES_INSTANCE_H_
#define TASKS_BENCH_POSTGRES_INSTANCE_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tasks::bench {

// PostgresInstance
//
// A throwaway PostgreSQL 15 server for benchmarks: initdb and pg_ctl from
// /usr/lib/postgresql/15/bin in a fresh directory under /tmp, reached over a
// Unix socket in that directory, run as the `postgres` user when this
// process is root (initdb refuses root). Unlike a test server it keeps
// PostgreSQL's durable defaults (fsync, synchronous_commit, full page
// writes): every commit is on disk before it is acknowledged, as a SQLite
// file with synchronous=FULL. The destructor stops it and removes the
// directory.
class PostgresInstance {
 public:
  static absl::StatusOr<std::unique_ptr<PostgresInstance>> Start(
      int max_connections);

  PostgresInstance(const PostgresInstance&) = delete;
  PostgresInstance& operator=(const PostgresInstance&) = delete;
  ~PostgresInstance();

  // Creates an empty database; returns its libpq keyword connection string.
  absl::StatusOr<std::string> CreateDatabase(absl::string_view name);

  // The cluster's directory (data/, server.log, the socket).
  const std::string& directory() const { return directory_; }

 private:
  explicit PostgresInstance(std::string directory)
      : directory_(std::move(directory)) {}

  // Runs a PostgreSQL program as the cluster's owner.
  absl::Status RunTool(const std::string& tool,
                       const std::vector<std::string>& args) const;

  std::string ConnectionFor(absl::string_view database) const;

  std::string directory_;
  bool started_ = false;
};

}  // namespace tasks::bench

#endif  // TASKS_BENCH_POSTGRES_INSTANCE_H_
