#ifndef TASKS_STORAGE_POSTGRES_PIPELINED_STATEMENTS_H_
#define TASKS_STORAGE_POSTGRES_PIPELINED_STATEMENTS_H_

#include <libpq-fe.h>

#include <atomic>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/engine/async_statements.h"
#include "storage/postgres/cancel_watchdog.h"
#include "storage/store_observer.h"

namespace tasks::storage {

// PipelinedStatements
//
// AsyncStatements on a few libpq connections of its own in nonblocking
// pipeline mode, all driven by one thread: the statements that came in while
// a connection's last batch was in flight go out together as its next batch,
// one write and one Sync, and their results come back together. So a call
// costs no thread parked on its round trip and no wake-up of its own, the
// server's backend reads many statements per wake-up, and concurrent writes
// share one commit (one WAL flush).
//
// - A batch is one implicit transaction (one Sync), and a connection has
//   one batch in flight at a time: behind a transaction pooler the next
//   batch may run on another server connection, so with named_statements
//   false every statement is sent with its text (unnamed).
// - Writes go to one connection (the first one up) and reads to the others
//   (while only one is up, it takes both): the pipeline's writes never wait
//   on each other's locks, and reads never wait behind a write. A write
//   batch sets lock_timeout (kLockTimeout) for its transaction: a write
//   waiting on a lock held elsewhere (a DeleteProject, another replica's
//   insert of the same title, an operator's LOCK TABLE) is undone and
//   answered RunBlockingInstead (storage/run_blocking.h) rather than
//   holding the batch up.
// - Statements are answered at their batch's end, once it is committed.
//   When one fails, the transaction is undone: it gets its error (a write
//   only when no write came before it: else an undone row may have caused
//   it), its batch's other writes are answered RunBlockingInstead (one
//   transaction each on the blocking way: a client's failing writes cannot
//   keep failing the others' batches), and its reads are sent again.
// - A read whose connection is lost is sent once more, on a new connection;
//   a write is not (it may have committed): UNAVAILABLE.
// - At a statement's deadline its `done` gets DEADLINE_EXCEEDED. A batch of
//   writes still running at the last of their deadlines is cancelled (see
//   Options::watchdog); a connection whose whole batch is past its deadlines
//   and has waited kStalled is dropped (a frozen database).
// - Connections are opened by a thread of their own (a host name's lookup
//   may block), bounded by connect_timeout, and again after a loss, with
//   backoff; meanwhile the others carry on.
//
// Example:
//   PipelinedStatements statements({.conninfo = "host=/run/postgresql"});
//   AsyncStatement get;  // sql, params, table, deadline, done
//   if (!statements.TrySend(std::move(get))) RunItTheBlockingWay();
class PipelinedStatements final : public AsyncStatements {
 public:
  struct Options {
    std::string conninfo;  // libpq's connection string
    // Named server-side statements, each prepared once per connection (see
    // Dialect::keeps_prepared_statements).
    bool named_statements = true;
    int connections = 2;
    // Statements taken and not yet answered; more are refused.
    int max_statements = 4096;
    absl::Duration connect_timeout = absl::Seconds(5);
    // Cancels a batch of writes still running at the last of their
    // deadlines (a frozen server): what the callers gave up on is undone
    // rather than committed later. Null: none. Must outlive this.
    CancelWatchdog* watchdog = nullptr;
    // Told the writes each committed batch held (OnGroupCommit), and how
    // many connections are up (OnPipelineChanged). Null: nobody. Must
    // outlive this.
    StoreObserver* observer = nullptr;
  };

  // Starts the threads, which start connecting.
  explicit PipelinedStatements(Options options);
  // Answers the statements left with UNAVAILABLE and closes the
  // connections.
  ~PipelinedStatements() override;

  PipelinedStatements(const PipelinedStatements&) = delete;
  PipelinedStatements& operator=(const PipelinedStatements&) = delete;

  bool TrySend(AsyncStatement statement) override;
  void Cancel() override;

  // How long a batch whose statements have all passed their deadlines may
  // wait for its results before its connection is dropped.
  static constexpr absl::Duration kStalled = absl::Seconds(1);
  // The longest a write waits for a lock (PostgreSQL's lock_timeout).
  // Short: a lock wait holds up the whole batch, and the blocking way, which
  // the write then takes, waits as long as its deadline allows.
  static constexpr absl::Duration kLockTimeout = absl::Milliseconds(50);

 private:
  struct Pending;
  struct Slot;
  struct Statement;
  using PendingPtr = std::unique_ptr<Pending>;
  // A connect's outcome for the slot of that index.
  using Opened = std::pair<int, absl::StatusOr<PGconn*>>;

  void Run();
  // One pass of the thread's loop: takes new statements and connections,
  // sends, polls, receives. False once it is stopping.
  bool Step();
  // The connecting thread's loop.
  void ConnectLoop();
  bool HasConnectWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // The loop's parts, all on its thread.
  void Connect(Slot& slot);
  void Open(Slot& slot, absl::StatusOr<PGconn*> conn, absl::Time now);
  // Tells the observer how many connections are ready.
  void ReportPipelineState() const;
  // The slot that takes writes: the first one up.
  const Slot* WriteSlot() const;
  void Send(Slot& slot, absl::Time now);
  void Flush(Slot& slot);
  // Arms the watchdog for the batch just sent when it holds writes with a
  // deadline; Disarm returns true when the connection must be dropped.
  void Arm(Slot& slot);
  bool Disarm(Slot& slot);
  void Receive(Slot& slot);
  // Takes the results libpq has read.
  void TakeResults(Slot& slot);
  // The result of the batch's next entry.
  void Received(Slot& slot, const PGresult* result);
  // `pending` failed with `result`: its own error, or once not its own
  // (sent again).
  void Failed(Slot& slot, Pending& pending, const PGresult* result);
  // The batch's Sync came: answers it, or sends again what a failure undid.
  void Ended(Slot& slot);
  // Drops the slot's connection: its reads are sent again, its writes
  // answered UNAVAILABLE (sent again when they cannot have committed), and
  // it connects again after its backoff.
  void Lost(Slot& slot, absl::string_view what);
  // Answers the statements past their deadlines, drops stalled
  // connections; returns the earliest deadline left.
  absl::Time Expire(absl::Time now);
  // A read sent again, or answered with `failure` after its last try; a
  // write answered with `failure`.
  void Retry(PendingPtr pending, const absl::Status& failure);
  // Answers every statement not yet answered with `status`.
  void FailAll(const absl::Status& status);
  // Forgets a statement that was answered (or whose caller stopped waiting).
  void Release(PendingPtr& pending);
  // Wakes the loop from its poll.
  void Wake();
  // A statement's SQL in positional form, with its parameters' names.
  const Statement& StatementFor(const std::string* sql);
  bool AnyConnectionUp() const;

  const Options options_;
  // Readable while the loop has reason to wake.
  int wake_fd_ = -1;
  // Readable once stopping: ends a connect under way.
  int stop_fd_ = -1;
  std::atomic<int> ready_connections_{0};
  std::atomic<int> statements_taken_{0};  // taken, not yet released
  std::atomic<bool> cancelled_{false};

  absl::Mutex mu_;
  std::deque<PendingPtr> incoming_ ABSL_GUARDED_BY(mu_);
  std::deque<int> connect_requests_ ABSL_GUARDED_BY(mu_);  // slot indexes
  std::vector<Opened> opened_ ABSL_GUARDED_BY(mu_);
  bool sleeping_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  // The loop's own.
  std::deque<PendingPtr> waiting_;
  std::vector<std::unique_ptr<Slot>> slots_;
  absl::flat_hash_map<const std::string*, std::unique_ptr<Statement>>
      statements_;
  std::thread thread_;
  std::thread connector_;
};

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_POSTGRES_PIPELINED_STATEMENTS_H_
