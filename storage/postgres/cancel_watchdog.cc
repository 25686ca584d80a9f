#include "storage/postgres/cancel_watchdog.h"

#include <sys/socket.h>

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"

namespace tasks::storage {
namespace {

// How long Disarm waits for a cancel request being sent.
constexpr absl::Duration kSendWait = absl::Milliseconds(100);

}  // namespace

CancelWatchdog::CancelWatchdog(absl::Duration grace)
    : grace_(grace), state_(std::make_shared<State>()) {}

CancelWatchdog::~CancelWatchdog() {
  {
    absl::MutexLock lock(&state_->mu);
    state_->stop = true;
    ++state_->wake;
  }
  if (timer_.joinable()) timer_.join();
  // The sender may be stuck in a request to a hung server: it ends by itself
  // when that returns, and owns what it still uses.
  if (sender_.joinable()) sender_.detach();
}

uint64_t CancelWatchdog::Arm(PGconn* connection, absl::Time deadline) {
  PGcancel* handle = PQgetCancel(connection);
  if (handle == nullptr) return 0;
  std::shared_ptr<PGcancel> cancel(handle, &PQfreeCancel);
  State& state = *state_;
  absl::MutexLock lock(&state.mu);
  if (state.cancel_all) deadline = std::min(deadline, absl::Now());
  const uint64_t id = state.next_id++;
  state.entries.emplace(
      id, Entry{std::move(cancel), PQsocket(connection), deadline});
  if (!timer_.joinable()) {
    timer_ = std::thread([&state, grace = grace_] { RunTimer(state, grace); });
    sender_ = std::thread([state = state_] { RunSender(state); });
  }
  if (deadline < state.next_wake) {
    state.next_wake = deadline;
    ++state.wake;
  }
  return id;
}

bool CancelWatchdog::Disarm(uint64_t id) {
  if (id == 0) return false;
  std::shared_ptr<PGcancel> cancel;  // freed outside the lock
  State& state = *state_;
  absl::MutexLock lock(&state.mu);
  auto it = state.entries.find(id);
  if (it == state.entries.end()) return false;
  // A live server answers a cancel request within milliseconds: wait that
  // long for one being sent rather than drop a working connection. (A
  // queued one is dropped with its entry.)
  if (it->second.stage == Stage::kSending && !it->second.socket_shut_down) {
    auto sent = [&state, id]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state.mu) {
      auto entry = state.entries.find(id);
      return entry->second.stage != Stage::kSending ||
             entry->second.socket_shut_down;
    };
    state.mu.AwaitWithTimeout(absl::Condition(&sent), kSendWait);
    it = state.entries.find(id);
  }
  const bool drop =
      it->second.stage == Stage::kSending || it->second.socket_shut_down;
  cancel = std::move(it->second.cancel);
  state.entries.erase(it);
  return drop;
}

void CancelWatchdog::Expire(uint64_t id) {
  if (id == 0) return;
  absl::MutexLock lock(&state_->mu);
  auto it = state_->entries.find(id);
  if (it == state_->entries.end()) return;
  const absl::Time now = absl::Now();
  it->second.deadline = std::min(it->second.deadline, now);
  state_->next_wake = now;
  ++state_->wake;
}

void CancelWatchdog::CancelAll() {
  absl::MutexLock lock(&state_->mu);
  state_->cancel_all = true;
  const absl::Time now = absl::Now();
  for (auto& [id, entry] : state_->entries) {
    entry.deadline = std::min(entry.deadline, now);
  }
  state_->next_wake = now;
  ++state_->wake;
}

void CancelWatchdog::RunTimer(State& state, absl::Duration grace) {
  absl::MutexLock lock(&state.mu);
  while (!state.stop) {
    const uint64_t seen = state.wake;
    auto woken = [&state, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state.mu) {
      return state.wake != seen;
    };
    state.mu.AwaitWithDeadline(absl::Condition(&woken), state.next_wake);
    if (state.stop) break;
    const absl::Time now = absl::Now();
    state.next_wake = absl::InfiniteFuture();
    for (auto& [id, entry] : state.entries) {
      if (entry.stage == Stage::kArmed && entry.deadline <= now) {
        entry.stage = Stage::kQueued;
        entry.shut_down_at = now + grace;
        state.to_send.push_back(id);
      }
      if (entry.stage != Stage::kArmed && !entry.socket_shut_down &&
          entry.shut_down_at <= now) {
        // Under the lock: Disarm, which precedes closing the connection,
        // waits, so the socket is still this connection's. shutdown() does
        // not block.
        if (entry.socket >= 0) shutdown(entry.socket, SHUT_RDWR);
        entry.socket_shut_down = true;
      }
      const absl::Time next = entry.stage == Stage::kArmed ? entry.deadline
                              : entry.socket_shut_down ? absl::InfiniteFuture()
                                                       : entry.shut_down_at;
      state.next_wake = std::min(state.next_wake, next);
    }
  }
}

void CancelWatchdog::RunSender(std::shared_ptr<State> state) {
  absl::MutexLock lock(&state->mu);
  auto ready = [&state]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state->mu) {
    return state->stop || !state->to_send.empty();
  };
  while (true) {
    state->mu.Await(absl::Condition(&ready));
    if (state->stop) return;
    const uint64_t id = state->to_send.front();
    state->to_send.pop_front();
    auto it = state->entries.find(id);
    if (it == state->entries.end()) continue;  // disarmed meanwhile
    it->second.stage = Stage::kSending;
    std::shared_ptr<PGcancel> cancel = it->second.cancel;
    state->mu.Unlock();
    char error[256];
    PQcancel(cancel.get(), error, sizeof(error));
    cancel.reset();
    state->mu.Lock();
    it = state->entries.find(id);
    if (it != state->entries.end()) it->second.stage = Stage::kCancelled;
  }
}

}  // namespace tasks::storage
