#include "storage/postgres/polled_connect.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/error_reason.h"

namespace tasks::storage {
namespace {

absl::Status Unavailable(absl::string_view message) {
  return WithReason(absl::UnavailableError(message),
                    reason::kDatabaseUnavailable);
}

// Closes `conn` and says why `what` failed.
absl::Status Failed(PGconn* conn, absl::string_view what) {
  std::string message =
      conn != nullptr ? PQerrorMessage(conn) : "out of memory";
  while (!message.empty() && message.back() == '\n') message.pop_back();
  if (conn != nullptr) PQfinish(conn);
  // libpq's text names hosts, socket paths and users: for operators.
  return WithOperatorDetail(Unavailable(what), message);
}

}  // namespace

SocketWait WaitForSocket(int socket, bool write, int cancel_fd,
                         absl::Time deadline) {
  pollfd fds[2] = {{cancel_fd, POLLIN, 0},
                   {socket, static_cast<short>(write ? POLLOUT : POLLIN), 0}};
  for (;;) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return SocketWait::kTimeout;
    // Rounded up: a 0 ms poll for the last fraction would spin.
    const int ms = static_cast<int>(std::min<int64_t>(
        absl::ToInt64Milliseconds(left + absl::Microseconds(999)), 1 << 30));
    const int ready = poll(fds, 2, ms);
    if (ready < 0 && errno != EINTR) return SocketWait::kReady;
    if (fds[0].revents != 0) return SocketWait::kCancelled;
    if (fds[1].revents != 0) return SocketWait::kReady;
  }
}

absl::StatusOr<PGconn*> ConnectPolled(const std::string& conninfo,
                                      absl::Time deadline, int cancel_fd,
                                      absl::string_view what) {
  PGconn* conn = PQconnectStart(conninfo.c_str());
  if (conn == nullptr || PQstatus(conn) == CONNECTION_BAD) {
    return Failed(conn, what);
  }
  // Before the first PQconnectPoll, libpq waits to write.
  for (PostgresPollingStatusType step = PGRES_POLLING_WRITING;
       step != PGRES_POLLING_OK; step = PQconnectPoll(conn)) {
    if (step == PGRES_POLLING_FAILED) return Failed(conn, what);
    switch (WaitForSocket(PQsocket(conn), step == PGRES_POLLING_WRITING,
                          cancel_fd, deadline)) {
      case SocketWait::kReady:
        break;
      case SocketWait::kCancelled:
        PQfinish(conn);
        return Unavailable("the store is shutting down");
      case SocketWait::kTimeout:
        PQfinish(conn);
        return Unavailable(absl::StrCat(what, ": timed out"));
    }
  }
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return conn;
}

}  // namespace tasks::storage
