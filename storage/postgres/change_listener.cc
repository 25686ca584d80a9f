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
#include "common/status_macros.h"
#include "storage/postgres/polled_connect.h"

namespace tasks::storage {
namespace {

absl::Status Unavailable(absl::string_view message) {
  return WithReason(absl::UnavailableError(message),
                    reason::kDatabaseUnavailable);
}

absl::Status ShuttingDown() {
  return Unavailable("the store is shutting down");
}

}  // namespace

ChangeListener::ChangeListener(std::string conninfo,
                               absl::Duration connect_timeout,
                               std::string own_sender)
    : conninfo_(std::move(conninfo)),
      connect_timeout_(connect_timeout),
      own_sender_(std::move(own_sender)),
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

absl::Status ChangeListener::Connect(absl::Time deadline) {
  ASSIGN_OR_RETURN(
      connection_,
      ConnectPolled(conninfo_, deadline, cancel_fd_,
                    "cannot connect to postgresql to listen for changes"));
  if (PQsetnonblocking(connection_, 1) != 0 ||
      PQsendQuery(connection_,
                  absl::StrCat("LISTEN ", kTaskChangesChannel).c_str()) == 0) {
    return Lost("LISTEN");
  }
  for (int flushed = PQflush(connection_); flushed != 0;
       flushed = PQflush(connection_)) {
    if (flushed < 0) return Lost("LISTEN");
    RETURN_IF_ERROR(Step(Await(/*write=*/true, deadline), "LISTEN"));
  }
  while (PQisBusy(connection_)) {
    RETURN_IF_ERROR(Step(Await(/*write=*/false, deadline), "LISTEN"));
    if (PQconsumeInput(connection_) == 0) return Lost("LISTEN");
  }
  bool listening = false;
  while (PGresult* result = PQgetResult(connection_)) {
    listening = PQresultStatus(result) == PGRES_COMMAND_OK;
    PQclear(result);
  }
  if (!listening) return Lost("LISTEN");
  return absl::OkStatus();
}

SocketWait ChangeListener::Await(bool write, absl::Time deadline) {
  return WaitForSocket(PQsocket(connection_), write, cancel_fd_, deadline);
}

absl::Status ChangeListener::Step(SocketWait ready, const char* what) {
  switch (ready) {
    case SocketWait::kReady:
      return absl::OkStatus();
    case SocketWait::kCancelled:
      (void)Lost(what);
      return ShuttingDown();
    case SocketWait::kTimeout:
      (void)Lost(what);
      return Unavailable(absl::StrCat(what, ": timed out"));
  }
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
    if (own_sender_.empty() || own_sender_ != notify->extra) any = true;
    PQfreemem(notify);
  }
  return any;
}

absl::StatusOr<bool> ChangeListener::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::MutexLock lock(&wait_mu_);
  pollfd cancelled = {cancel_fd_, POLLIN, 0};
  if (cancel_fd_ < 0 || poll(&cancelled, 1, 0) != 0) return ShuttingDown();
  if (connection_ == nullptr) {
    RETURN_IF_ERROR(
        Connect(std::max(deadline, absl::Now() + connect_timeout_)));
    return true;  // Whatever was notified before went unheard.
  }
  for (;;) {
    if (PQconsumeInput(connection_) == 0) return Lost("waiting for changes");
    if (TakeNotifications()) return true;
    switch (Await(/*write=*/false, deadline)) {
      case SocketWait::kReady:
        break;
      case SocketWait::kCancelled:
        return ShuttingDown();
      case SocketWait::kTimeout:
        return false;
    }
  }
}

}  // namespace tasks::storage
