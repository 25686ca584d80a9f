#include "service/store_monitor.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/call_deadline.h"
#include "common/error_reason.h"
#include "service/logging.h"

namespace tasks::service {

StoreMonitor::StoreMonitor(DeferredTaskStore& store, StoreFactory open_store,
                           absl::Duration interval, absl::Duration timeout,
                           std::function<void(bool)> on_change)
    : store_(store),
      open_store_(std::move(open_store)),
      interval_(interval),
      timeout_(timeout),
      on_change_(std::move(on_change)) {}

StoreMonitor::~StoreMonitor() { Stop(); }

absl::Status StoreMonitor::Start() {
  absl::Status status = Probe();
  {
    absl::MutexLock lock(&mu_);
    Report(status);
  }
  if (!store_.has_store() && status.code() != absl::StatusCode::kUnavailable &&
      !status.ok()) {
    return status;
  }
  prober_ = std::thread([this] { RunProbes(); });
  watcher_ = std::thread([this] { WatchProbes(); });
  return absl::OkStatus();
}

void StoreMonitor::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (prober_.joinable()) prober_.join();
  if (watcher_.joinable()) watcher_.join();
}

void StoreMonitor::RunProbes() {
  absl::MutexLock lock(&mu_);
  while (!mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval_)) {
    mu_.Unlock();
    const absl::Status status = Probe();
    mu_.Lock();
    if (!stopping_) Report(status);
  }
}

void StoreMonitor::WatchProbes() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    const uint64_t check = check_;
    const absl::Time overdue_at = overdue_at_;
    auto moved_on = [this, check,
                     overdue_at]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stopping_ || check_ != check || overdue_at_ != overdue_at;
    };
    if (mu_.AwaitWithDeadline(absl::Condition(&moved_on), overdue_at)) {
      continue;
    }
    // The check is still waiting for the database: it has failed already.
    overdue_at_ = absl::InfiniteFuture();
    Report(
        WithReason(absl::DeadlineExceededError(absl::StrCat(
                       "the database did not answer the health probe within ",
                       absl::FormatDuration(timeout_))),
                   reason::kDeadlineExceeded));
  }
}

absl::Status StoreMonitor::Probe() {
  if (!store_.has_store()) {
    absl::StatusOr<storage::TaskStorePtr> opened = open_store_();
    if (!opened.ok()) return opened.status();
    store_.Set(*std::move(opened));
    Log(LogLevel::kInfo, "database opened");
  }
  const absl::Time deadline = absl::Now() + timeout_;
  {
    absl::MutexLock lock(&mu_);
    ++check_;
    overdue_at_ = deadline;
  }
  absl::Status status;
  {
    ScopedCallDeadline call_deadline(deadline);
    status = store_.CheckHealth();
  }
  absl::MutexLock lock(&mu_);
  overdue_at_ = absl::InfiniteFuture();
  return status;
}

void StoreMonitor::Report(const absl::Status& status) {
  const bool serving = status.ok();
  // Log an outage once, and again only when its cause changes.
  if (!serving && status != last_error_) {
    const std::optional<std::string> detail = OperatorDetail(status);
    Log(LogLevel::kWarning,
        absl::StrCat("database not usable (",
                     absl::StatusCodeToString(status.code()),
                     "): ", status.message(),
                     detail.has_value() ? absl::StrCat(": ", *detail) : ""));
  }
  last_error_ = status;
  if (serving_ != serving) {
    serving_ = serving;
    Log(serving ? LogLevel::kInfo : LogLevel::kWarning,
        serving ? "health: SERVING" : "health: NOT_SERVING");
    on_change_(serving);
  }
}

}  // namespace tasks::service
