#include "service/store_monitor.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "service/logging.h"

namespace tasks::service {

StoreMonitor::StoreMonitor(DeferredTaskStore& store, StoreFactory open_store,
                           absl::Duration interval,
                           std::function<void(bool)> on_change)
    : store_(store),
      open_store_(std::move(open_store)),
      interval_(interval),
      on_change_(std::move(on_change)) {}

StoreMonitor::~StoreMonitor() { Stop(); }

absl::Status StoreMonitor::Start() {
  absl::Status status = ProbeOnce();
  if (!store_.has_store() && status.code() != absl::StatusCode::kUnavailable &&
      !status.ok()) {
    return status;
  }
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void StoreMonitor::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void StoreMonitor::Run() {
  absl::MutexLock lock(&mu_);
  while (!mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval_)) {
    mu_.Unlock();
    ProbeOnce().IgnoreError();  // Logged and reported by ProbeOnce.
    mu_.Lock();
  }
}

absl::Status StoreMonitor::ProbeOnce() {
  absl::Status status;
  if (!store_.has_store()) {
    absl::StatusOr<storage::TaskStorePtr> opened = open_store_();
    if (opened.ok()) {
      store_.Set(*std::move(opened));
      Log(LogLevel::kInfo, "database opened");
    } else {
      status = opened.status();
    }
  }
  if (status.ok()) status = store_.CheckHealth();

  const bool serving = status.ok();
  // Log an outage once, and again only when its cause changes.
  if (!serving && status != last_error_) {
    Log(LogLevel::kWarning,
        absl::StrCat("database not usable (", absl::StatusCodeToString(status.code()),
                     "): ", status.message()));
  }
  last_error_ = status;
  if (serving_ != serving) {
    serving_ = serving;
    Log(serving ? LogLevel::kInfo : LogLevel::kWarning,
        serving ? "health: SERVING" : "health: NOT_SERVING");
    on_change_(serving);
  }
  return status;
}

}  // namespace tasks::service
