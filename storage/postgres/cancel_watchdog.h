#ifndef TASKS_STORAGE_POSTGRES_CANCEL_WATCHDOG_H_
#define TASKS_STORAGE_POSTGRES_CANCEL_WATCHDOG_H_

#include <libpq-fe.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace tasks::storage {

// CancelWatchdog
//
// Stops PostgreSQL statements that run past their call's deadline. A call
// arms the watchdog with its connection and deadline before it runs its
// statements and disarms it after. When the deadline passes in between:
//   1. a cancel request is sent (PQcancel, from a thread of its own that
//      holds no lock: it opens a new connection to the server, which hangs
//      for as long as a hung server does), and the statement normally fails
//      with SQLSTATE 57014;
//   2. if the statement has not returned `grace` later, the connection's
//      socket is shut down, so that the blocked read fails at once (the
//      kernel of a hung but living server still acknowledges TCP: no
//      keepalive or timeout would end it).
// Disarm never waits long for a cancel request (at most 100 ms, which a live
// server needs); it says when the connection must be dropped instead.
// CancelAll() does the same for every call at once, for shutdown. Arming costs
// no round trip. Thread-safe.
class CancelWatchdog {
 public:
  explicit CancelWatchdog(absl::Duration grace = absl::Milliseconds(500));
  ~CancelWatchdog();

  CancelWatchdog(const CancelWatchdog&) = delete;
  CancelWatchdog& operator=(const CancelWatchdog&) = delete;

  // Cancels what `connection` runs once `deadline` passes (at once after
  // CancelAll), until Disarm with the returned id. 0 (nothing armed) when
  // the cancel handle cannot be had.
  uint64_t Arm(PGconn* connection, absl::Time deadline);

  // Ends the watch of `id`. Returns true when the connection must not be
  // used again: its socket was shut down, or a cancel request for it may
  // still arrive and would cancel a later statement.
  [[nodiscard]] bool Disarm(uint64_t id);

  // Moves the deadline of `id` to now (its call's client cancelled the
  // call); nothing once it is disarmed.
  void Expire(uint64_t id);

  // Cancels every armed statement now, and every one armed later as soon as
  // it is armed.
  void CancelAll();

 private:
  enum class Stage {
    kArmed,      // waiting for the deadline
    kQueued,     // deadline passed; cancel request queued
    kSending,    // cancel request being sent (may hang)
    kCancelled,  // cancel request sent, or given up on
  };
  struct Entry {
    std::shared_ptr<PGcancel> cancel;
    int socket;
    absl::Time deadline;
    absl::Time shut_down_at = absl::InfiniteFuture();
    Stage stage = Stage::kArmed;
    bool socket_shut_down = false;
  };
  // What both threads share; the sender may outlive the watchdog while a
  // cancel request hangs.
  struct State {
    absl::Mutex mu;
    absl::flat_hash_map<uint64_t, Entry> entries ABSL_GUARDED_BY(mu);
    std::deque<uint64_t> to_send ABSL_GUARDED_BY(mu);
    uint64_t next_id ABSL_GUARDED_BY(mu) = 1;
    // When the timer next wakes by itself; bumping `wake` wakes it sooner.
    absl::Time next_wake ABSL_GUARDED_BY(mu) = absl::InfiniteFuture();
    uint64_t wake ABSL_GUARDED_BY(mu) = 0;
    bool cancel_all ABSL_GUARDED_BY(mu) = false;
    bool stop ABSL_GUARDED_BY(mu) = false;
  };

  // Moves entries along their stages as their times come.
  static void RunTimer(State& state, absl::Duration grace);
  // Sends the queued cancel requests, one at a time.
  static void RunSender(std::shared_ptr<State> state);

  const absl::Duration grace_;
  const std::shared_ptr<State> state_;
  std::thread timer_;  // both started by the first Arm
  std::thread sender_;
};

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_POSTGRES_CANCEL_WATCHDOG_H_
