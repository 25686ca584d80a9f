#ifndef TASKS_STORAGE_POSTGRES_POLLED_CONNECT_H_
#define TASKS_STORAGE_POSTGRES_POLLED_CONNECT_H_

#include <libpq-fe.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace tasks::storage {

// Opens a libpq connection step by step (PQconnectStart, PQconnectPoll)
// rather than with PQconnectdb, so that `deadline` and `cancel_fd` (an fd
// that becomes readable to cancel, e.g. an eventfd) end a connect to a server
// that does not answer. Host names are resolved on the calling thread, which
// a slow resolver may hold up. Returns the connection (the caller PQfinishes
// it), or UNAVAILABLE (reason DATABASE_UNAVAILABLE): `what` ("cannot connect
// to postgresql"), with libpq's message as its operator detail
// (WithOperatorDetail) or ": timed out"; or the cancel ("the store is
// shutting down").
absl::StatusOr<PGconn*> ConnectPolled(const std::string& conninfo,
                                      absl::Time deadline, int cancel_fd,
                                      absl::string_view what);

// What waiting on a connection's socket (and a cancel fd) came to.
enum class SocketWait { kReady, kCancelled, kTimeout };

// Waits until `socket` is readable (writable when `write`), `cancel_fd` is
// readable, or `deadline` passes. A failed poll counts as kReady: the next
// libpq call on the socket fails and says why.
SocketWait WaitForSocket(int socket, bool write, int cancel_fd,
                         absl::Time deadline);

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_POSTGRES_POLLED_CONNECT_H_
