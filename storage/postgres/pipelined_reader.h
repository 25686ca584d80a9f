#ifndef TASKS_STORAGE_POSTGRES_PIPELINED_READER_H_
#define TASKS_STORAGE_POSTGRES_PIPELINED_READER_H_

#include <libpq-fe.h>

#include <atomic>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/engine/row_reader.h"

namespace tasks::storage {

// PipelinedReader
//
// A RowReader on a few libpq connections of its own in nonblocking pipeline
// mode, all driven by one thread: the reads that came in while a
// connection's last batch was in flight go out together as its next batch,
// one write and one Sync, and their results come back together. So a read
// costs no thread parked on its round trip and no wake-up of its own, and the
// server's backend reads many statements per wake-up.
//
// - Each batch is one implicit transaction (one Sync), and a connection has
//   one batch in flight at a time: behind a transaction pooler the next
//   batch may run on another server connection, so with named_statements
//   false every statement is sent with its text (unnamed).
// - A read whose connection is lost (or whose batch a failed statement
//   aborted) is sent once more, on a new connection.
// - At a read's deadline its `done` gets DEADLINE_EXCEEDED; a connection
//   whose whole batch is past its deadlines and has waited kStalled is
//   dropped (a frozen database), and another is opened.
// - Connections are opened step by step (PQconnectPoll) on the thread,
//   bounded by connect_timeout, and again after a loss, with backoff.
//
// Example:
//   PipelinedReader reader({.conninfo = "host=/run/postgresql dbname=tasks"});
//   RowRead read;  // sql, params, table, deadline, done
//   if (!reader.TryRead(std::move(read))) ReadTheBlockingWay();
class PipelinedReader final : public RowReader {
 public:
  struct Options {
    std::string conninfo;  // libpq's connection string
    // Named server-side statements, each prepared once per connection (see
    // Dialect::keeps_prepared_statements).
    bool named_statements = true;
    int connections = 2;
    // Reads taken and not yet answered; more are refused.
    int max_reads = 4096;
    absl::Duration connect_timeout = absl::Seconds(5);
  };

  // Starts the thread, which starts connecting.
  explicit PipelinedReader(Options options);
  // Answers the reads left with UNAVAILABLE and closes the connections.
  ~PipelinedReader() override;

  PipelinedReader(const PipelinedReader&) = delete;
  PipelinedReader& operator=(const PipelinedReader&) = delete;

  bool TryRead(RowRead read) override;
  void Cancel() override;

  // How long a batch whose reads have all passed their deadlines may wait
  // for its results before its connection is dropped.
  static constexpr absl::Duration kStalled = absl::Seconds(1);

 private:
  struct Pending;
  struct Slot;
  struct Statement;
  using ReadPtr = std::unique_ptr<Pending>;

  void Run();
  // One pass of the thread's loop: takes new reads, connects, sends,
  // polls, receives. False once the reader is stopping.
  bool Step();
  // The loop's parts, all on its thread.
  void Connect(Slot& slot, absl::Time now);
  void ContinueConnect(Slot& slot, absl::Time now);
  void Send(Slot& slot, absl::Time now);
  void Flush(Slot& slot);
  void Receive(Slot& slot);
  void Received(Slot& slot, const PGresult* result);
  // Drops the slot's connection: its reads are retried, and it connects
  // again after its backoff.
  void Lost(Slot& slot, absl::string_view what);
  // Answers the reads past their deadlines, drops stalled or timed-out
  // connections; returns the earliest deadline left.
  absl::Time Expire(absl::Time now);
  // Queues `read` again, or answers it with `failure` after its last try.
  void Retry(ReadPtr read, const absl::Status& failure);
  // Answers every read not yet answered with `status`.
  void FailAll(const absl::Status& status);
  // Forgets a read that was answered (or whose caller stopped waiting).
  void Release(ReadPtr& read);
  // Wakes the thread from its poll.
  void Wake();
  // The read's SQL in positional form, with its parameters' names.
  const Statement& StatementFor(const std::string* sql);
  bool AnyConnectionUp() const;

  const Options options_;
  // Readable while the thread has reason to wake.
  int wake_fd_ = -1;
  std::atomic<int> ready_connections_{0};
  std::atomic<int> reads_{0};  // taken, not yet released
  std::atomic<bool> cancelled_{false};

  absl::Mutex mu_;
  std::deque<ReadPtr> incoming_ ABSL_GUARDED_BY(mu_);
  bool sleeping_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  // The thread's own.
  std::deque<ReadPtr> waiting_;
  std::vector<std::unique_ptr<Slot>> slots_;
  absl::flat_hash_map<const std::string*, std::unique_ptr<Statement>>
      statements_;
  std::thread thread_;
};

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_POSTGRES_PIPELINED_READER_H_
