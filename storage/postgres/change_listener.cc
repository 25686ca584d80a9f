#include "storage/postgres/change_listener.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <string>
#include <utility>

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

}  // namespace

ChangeListener::ChangeListener(std::string conninfo)
    : conninfo_(std::move(conninfo)),
      cancel_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

ChangeListener::~ChangeListener() {
  absl::MutexLock lock(&wait_mu_);
  if (connection_ != nullptr) PQfinish(connection_);
  if (cancel_fd_ >= 0) close(cancel_fd_);
}

void ChangeListener::Cancel() {
  const uint64_t one = 1;
  // The counter stays readable: every later poll returns at once.
  if (cancel_fd_ >= 0) (void)!write(cancel_fd_, &one, sizeof(one));
}

absl::Status ChangeListener::Connect() {
  connection_ = PQconnectdb(conninfo_.c_str());
  if (connection_ == nullptr || PQstatus(connection_) != CONNECTION_OK) {
    return Lost("connecting to listen for changes");
  }
  PQsetNoticeProcessor(
      connection_, [](void*, const char*) {}, nullptr);
  PGresult* result =
      PQexec(connection_, absl::StrCat("LISTEN ", kTaskChangesChannel).c_str());
  const bool listening = PQresultStatus(result) == PGRES_COMMAND_OK;
  PQclear(result);
  if (!listening) return Lost("LISTEN");
  if (PQsetnonblocking(connection_, 1) != 0) return Lost("PQsetnonblocking");
  return absl::OkStatus();
}

absl::Status ChangeListener::Lost(const char* what) {
  std::string message =
      connection_ != nullptr ? PQerrorMessage(connection_) : "out of memory";
  while (!message.empty() && message.back() == '\n') message.pop_back();
  if (connection_ != nullptr) PQfinish(connection_);
  connection_ = nullptr;
  return Unavailable(absl::StrCat(what, ": ", message));
}

bool ChangeListener::TakeNotifications() {
  bool any = false;
  while (PGnotify* notify = PQnotifies(connection_)) {
    any = true;
    PQfreemem(notify);
  }
  return any;
}

absl::StatusOr<bool> ChangeListener::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::MutexLock lock(&wait_mu_);
  pollfd fds[2] = {{cancel_fd_, POLLIN, 0}, {-1, POLLIN, 0}};
  if (cancel_fd_ < 0 || poll(fds, 1, 0) != 0) {
    return Unavailable("the store is shutting down");
  }
  if (connection_ == nullptr) {
    absl::Status connected = Connect();
    if (!connected.ok()) return connected;
    return true;  // Whatever was notified before went unheard.
  }
  for (;;) {
    if (PQconsumeInput(connection_) == 0) {
      return Lost("waiting for changes");
    }
    if (TakeNotifications()) return true;
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    fds[0].revents = 0;
    fds[1] = {PQsocket(connection_), POLLIN, 0};
    // Rounded up: a 0 ms poll for the last fraction would spin.
    const int ms = static_cast<int>(std::min<int64_t>(
        absl::ToInt64Milliseconds(left + absl::Microseconds(999)), 1 << 30));
    const int ready = poll(fds, 2, ms);
    if (ready < 0 && errno != EINTR) return Lost("poll");
    if (fds[0].revents != 0) {
      return Unavailable("the store is shutting down");
    }
  }
}

}  // namespace tasks::storage
