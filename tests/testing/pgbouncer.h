#ifndef TASKS_TESTS_TESTING_PGBOUNCER_H_
#define TASKS_TESTS_TESTING_PGBOUNCER_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tasks::testing {

// PgBouncer
//
// A throwaway PgBouncer (Debian's /usr/sbin/pgbouncer) in transaction pooling
// mode, in front of a PostgreSQL server on 127.0.0.1, as deployments put one
// between many replicas and their database: a transaction runs on one server
// connection, the next may run on another. It listens on a free 127.0.0.1
// port, trusts the `postgres` user and serves every database of the server
// under its own name. When running as root it runs as the `postgres` user
// (PgBouncer refuses root). The destructor stops it and removes its
// directory.
//
// Example:
//   absl::StatusOr<std::unique_ptr<PgBouncer>> bouncer =
//       PgBouncer::Start(postgres->port());
//   ASSERT_TRUE(bouncer.ok()) << bouncer.status();
//   absl::StatusOr<std::string> via = PgBouncer::Route(
//       *postgres->CreateFreshDatabase(), (*bouncer)->port());
class PgBouncer {
 public:
  // Starts PgBouncer for the server on 127.0.0.1:`postgres_port` and waits
  // until it answers. An error says why (no binary, the log's last lines).
  static absl::StatusOr<std::unique_ptr<PgBouncer>> Start(int postgres_port);

  PgBouncer(const PgBouncer&) = delete;
  PgBouncer& operator=(const PgBouncer&) = delete;

  // Stops PgBouncer (immediate shutdown) and removes its directory.
  ~PgBouncer();

  int port() const { return port_; }

  // `connection` (a libpq URL or keyword string) as a URL to the same
  // database and user on 127.0.0.1:`port`: through a PgBouncer on its
  // port(), or past it on the server's.
  static absl::StatusOr<std::string> Route(absl::string_view connection,
                                           int port);

 private:
  PgBouncer() = default;

  // Runs pgbouncer on port_ and waits until it answers.
  absl::Status Run();

  // Sends SIGTERM and reaps the process.
  void Kill();

  std::string dir_;  // /tmp/pgbXXXXXX: ini, users, log
  std::string ini_path_;
  std::string log_path_;
  int postgres_port_ = 0;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace tasks::testing

#endif  // TASKS_TESTS_TESTING_PGBOUNCER_H_
