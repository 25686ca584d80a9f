#include "storage/postgres/pipelined_statements.h"

#include <openssl/ssl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/call_deadline.h"
#include "common/error_reason.h"
#include "storage/engine/db_error.h"
#include "storage/postgres/libpq_values.h"
#include "storage/postgres/polled_connect.h"
#include "storage/postgres/sqlstate.h"
#include "storage/run_blocking.h"
#include "storage/sql/prepared_statement.h"

namespace tasks::storage {
namespace {

using Outcome = absl::StatusOr<std::optional<schema::Row>>;

// Statements per batch; the rest wait for the connection's next one.
constexpr size_t kMaxBatch = 256;
// A statement is sent again at most once for a failure not its own: a read
// after a lost connection, any statement whose prepared statement the
// server forgot, or whose batch was cancelled or could not be set up.
constexpr int kMaxAttempts = 2;
constexpr absl::Duration kFirstBackoff = absl::Milliseconds(100);
constexpr absl::Duration kMaxBackoff = absl::Seconds(2);
constexpr absl::Duration kMaxPoll = absl::Seconds(1);
// SQLSTATE invalid_sql_statement_name: a prepared statement the server
// forgot (DISCARD ALL by a pooler).
constexpr char kNoSuchStatement[] = "26000";
// SQLSTATE query_canceled: the batch was cancelled at a write's deadline.
constexpr char kQueryCanceled[] = "57014";
// SQLSTATE lock_not_available: a write waited kLockTimeout for a lock.
constexpr char kLockNotAvailable[] = "55P03";

// First in a batch with writes: lock_timeout for its transaction only.
const std::string& LockTimeoutSql() {
  static const auto* sql = new std::string(
      absl::StrCat("SELECT set_config('lock_timeout', '",
                   absl::ToInt64Milliseconds(PipelinedStatements::kLockTimeout),
                   "ms', true)"));
  return *sql;
}

absl::Status Unavailable(absl::string_view message) {
  return WithReason(absl::UnavailableError(message),
                    reason::kDatabaseUnavailable);
}

absl::Status ShuttingDown() {
  return Unavailable("the store is shutting down");
}

// `failure` for a write that was sent and may have been committed.
absl::Status MayHaveCommitted(const absl::Status& failure) {
  return Unavailable(
      absl::StrCat(failure.message(), "; the write may have been committed"));
}

std::string Trimmed(const char* text) {
  std::string message = text != nullptr ? text : "";
  while (!message.empty() && message.back() == '\n') message.pop_back();
  return message;
}

std::string SqlStateOf(const PGresult* result) {
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  return state != nullptr ? state : "";
}

// A statement name no other statement of the process ever had.
std::string NewStatementName() {
  static std::atomic<uint64_t> last{0};
  return absl::StrCat("async_", last.fetch_add(1) + 1);
}

// Bytes OpenSSL has read from the socket and not yet handed to libpq, which
// poll() cannot see (libpq's own waits check for them too).
bool TlsPending(PGconn* conn) {
  auto* ssl = static_cast<SSL*>(PQsslStruct(conn, "OpenSSL"));
  return ssl != nullptr && SSL_pending(ssl) > 0;
}

int PollMilliseconds(absl::Duration left) {
  if (left <= absl::ZeroDuration()) return 0;
  // Rounded up: a 0 ms poll for the last fraction would spin.
  return static_cast<int>(
      absl::ToInt64Milliseconds(left + absl::Microseconds(999)));
}

}  // namespace

struct PipelinedStatements::Pending {
  AsyncStatement statement;
  // Times sent again for a failure not its own (see kMaxAttempts).
  int attempts = 0;
  // Its result in the batch in flight, until the batch ends.
  std::optional<Outcome> outcome;
  // It failed on its own (not aborted by another's failure).
  bool failed = false;

  // Calls `done` unless it was called already.
  void Answer(Outcome result) {
    if (!statement.done) return;
    auto done = std::move(statement.done);
    statement.done = nullptr;
    std::move(done)(std::move(result));
  }
  bool answered() const { return !statement.done; }
  bool writes() const { return statement.writes; }
};

struct PipelinedStatements::Statement {
  std::string positional;          // $1, $2, ...
  std::vector<std::string> names;  // of $1, $2, ...
};

struct PipelinedStatements::Slot {
  enum class State { kDown, kConnecting, kReady };
  // What a batch sent, in order: statements, Prepares, and a write batch's
  // lock_timeout first.
  struct Sent {
    PendingPtr pending;                    // null for a Prepare or the setup
    const std::string* prepare = nullptr;  // the SQL a Prepare prepares
  };

  explicit Slot(int index) : index(index) {}

  const int index;
  State state = State::kDown;
  PGconn* conn = nullptr;
  absl::Time retry_at = absl::InfinitePast();  // kDown: when to connect
  absl::Duration backoff = absl::ZeroDuration();
  // The SQL texts prepared on this connection, with their names.
  absl::flat_hash_map<const std::string*, std::string> prepared;
  std::vector<Sent> batch;    // in flight; empty: none
  size_t next = 0;            // the entry whose result comes next
  bool ended = false;         // its result was read; the null after it next
  bool failed = false;        // an entry failed: the batch is undone
  bool setup_failed = false;  // its lock_timeout could not be set
  bool synced = false;        // its Sync is queued: its writes may commit
  bool flushing = false;      // libpq holds output the socket did not take
  absl::Time sent_at;
  uint64_t armed = 0;  // the batch's CancelWatchdog id; 0: none
};

PipelinedStatements::PipelinedStatements(Options options)
    : options_(std::move(options)),
      wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      stop_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  for (int i = 0; i < std::max(1, options_.connections); ++i) {
    slots_.push_back(std::make_unique<Slot>(i));
  }
  thread_ = std::thread([this] { Run(); });
  connector_ = std::thread([this] { ConnectLoop(); });
}

PipelinedStatements::~PipelinedStatements() {
  cancelled_.store(true);
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  Wake();
  const uint64_t one = 1;
  if (stop_fd_ >= 0) (void)!write(stop_fd_, &one, sizeof(one));
  connector_.join();
  thread_.join();
  absl::MutexLock lock(&mu_);
  for (Opened& opened : opened_) {
    if (opened.second.ok()) PQfinish(*opened.second);
  }
  if (wake_fd_ >= 0) close(wake_fd_);
  if (stop_fd_ >= 0) close(stop_fd_);
}

bool PipelinedStatements::TrySend(AsyncStatement statement) {
  if (cancelled_.load(std::memory_order_relaxed) ||
      ready_connections_.load(std::memory_order_relaxed) == 0) {
    return false;
  }
  if (statements_taken_.fetch_add(1, std::memory_order_relaxed) >=
      options_.max_statements) {
    statements_taken_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  auto pending = std::make_unique<Pending>();
  pending->statement = std::move(statement);
  bool wake = false;
  {
    absl::MutexLock lock(&mu_);
    incoming_.push_back(std::move(pending));
    wake = sleeping_;
    sleeping_ = false;
  }
  if (wake) Wake();
  return true;
}

void PipelinedStatements::Cancel() {
  cancelled_.store(true);
  Wake();
}

void PipelinedStatements::Wake() {
  const uint64_t one = 1;
  if (wake_fd_ >= 0) (void)!write(wake_fd_, &one, sizeof(one));
}

void PipelinedStatements::Release(PendingPtr& pending) {
  pending.reset();
  statements_taken_.fetch_sub(1, std::memory_order_relaxed);
}

bool PipelinedStatements::HasConnectWork() const {
  return stopping_ || !connect_requests_.empty();
}

void PipelinedStatements::ConnectLoop() {
  for (;;) {
    int index = 0;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &PipelinedStatements::HasConnectWork));
      if (stopping_) return;
      index = connect_requests_.front();
      connect_requests_.pop_front();
    }
    absl::StatusOr<PGconn*> conn =
        cancelled_.load()
            ? absl::StatusOr<PGconn*>(ShuttingDown())
            : ConnectPolled(options_.conninfo,
                            absl::Now() + options_.connect_timeout, stop_fd_,
                            "cannot connect to postgresql");
    {
      absl::MutexLock lock(&mu_);
      opened_.emplace_back(index, std::move(conn));
    }
    Wake();
  }
}

void PipelinedStatements::Run() {
  ReportPipelineState();
  for (auto& slot : slots_) Connect(*slot);
  while (Step()) {
  }
  FailAll(ShuttingDown());
  for (auto& slot : slots_) {
    (void)Disarm(*slot);
    for (Slot::Sent& sent : slot->batch) {
      if (sent.pending != nullptr) Release(sent.pending);
    }
    if (slot->conn != nullptr) PQfinish(slot->conn);
  }
  ready_connections_.store(0);
  ReportPipelineState();
}

bool PipelinedStatements::Step() {
  std::vector<Opened> opened;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return false;
    for (PendingPtr& pending : incoming_)
      waiting_.push_back(std::move(pending));
    incoming_.clear();
    opened.swap(opened_);
  }
  absl::Time now = absl::Now();
  for (Opened& one : opened) {
    Open(*slots_[one.first], std::move(one.second), now);
  }
  const bool cancelled = cancelled_.load();
  if (cancelled) FailAll(ShuttingDown());
  for (auto& slot : slots_) {
    if (slot->state == Slot::State::kDown && now >= slot->retry_at &&
        !cancelled) {
      Connect(*slot);
    }
  }
  const absl::Time earliest = Expire(now);
  if (!waiting_.empty() && !AnyConnectionUp()) {
    // Waiting (never sent, or sent again after a loss) with no connection
    // to take them: the blocking way, which opens its own, takes them.
    const absl::Status down =
        RunBlockingInstead("no pipelined connection to the database");
    for (PendingPtr& pending : waiting_) {
      pending->Answer(down);
      Release(pending);
    }
    waiting_.clear();
  }
  for (auto& slot : slots_) {
    if (waiting_.empty()) break;
    if (slot->state == Slot::State::kReady && slot->batch.empty()) {
      Send(*slot, now);
    }
  }

  std::vector<pollfd> fds = {{wake_fd_, POLLIN, 0}};
  std::vector<Slot*> polled = {nullptr};
  absl::Time wake_at = std::min(earliest, now + kMaxPoll);
  for (auto& slot : slots_) {
    if (slot->state == Slot::State::kDown && !cancelled) {
      wake_at = std::min(wake_at, slot->retry_at);
    }
    if (slot->state != Slot::State::kReady) continue;
    // Once past, only a deadline passing can make the batch stalled.
    if (!slot->batch.empty() && slot->sent_at + kStalled > now) {
      wake_at = std::min(wake_at, slot->sent_at + kStalled);
    }
    fds.push_back({PQsocket(slot->conn),
                   static_cast<short>(POLLIN | (slot->flushing ? POLLOUT : 0)),
                   0});
    polled.push_back(slot.get());
  }
  int timeout = PollMilliseconds(wake_at - now);
  {
    absl::MutexLock lock(&mu_);
    if (!incoming_.empty() || !opened_.empty() || stopping_) {
      timeout = 0;
    } else if (timeout > 0) {
      sleeping_ = true;
    }
  }
  const int ready = poll(fds.data(), fds.size(), timeout);
  {
    absl::MutexLock lock(&mu_);
    sleeping_ = false;
  }
  if (ready < 0 && errno != EINTR) return true;
  if (fds[0].revents != 0) {
    uint64_t count;
    (void)!read(wake_fd_, &count, sizeof(count));
  }
  for (size_t i = 1; i < fds.size(); ++i) {
    if (fds[i].revents == 0) continue;
    Slot& slot = *polled[i];
    if ((fds[i].revents & POLLOUT) != 0 && slot.flushing) Flush(slot);
    if (slot.state == Slot::State::kReady &&
        (fds[i].revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
      Receive(slot);
    }
  }
  return true;
}

bool PipelinedStatements::AnyConnectionUp() const {
  for (const auto& slot : slots_) {
    if (slot->state != Slot::State::kDown) return true;
  }
  return false;
}

void PipelinedStatements::Connect(Slot& slot) {
  slot.state = Slot::State::kConnecting;
  absl::MutexLock lock(&mu_);
  connect_requests_.push_back(slot.index);
}

void PipelinedStatements::Open(Slot& slot, absl::StatusOr<PGconn*> conn,
                               absl::Time now) {
  if (conn.ok() && !cancelled_.load() &&
      (PQsetnonblocking(*conn, 1) != 0 || PQenterPipelineMode(*conn) != 1)) {
    PQfinish(*conn);
    conn = Unavailable("cannot enter pipeline mode");
  }
  if (!conn.ok() || cancelled_.load()) {
    if (conn.ok()) PQfinish(*conn);
    slot.state = Slot::State::kDown;
    slot.retry_at = now + slot.backoff;
    slot.backoff = slot.backoff == absl::ZeroDuration()
                       ? kFirstBackoff
                       : std::min(2 * slot.backoff, kMaxBackoff);
    return;
  }
  slot.conn = *conn;
  slot.state = Slot::State::kReady;
  slot.backoff = absl::ZeroDuration();
  ready_connections_.fetch_add(1);
  ReportPipelineState();
}

void PipelinedStatements::ReportPipelineState() const {
  if (options_.observer == nullptr) return;
  options_.observer->OnPipelineChanged(static_cast<int>(slots_.size()),
                                       ready_connections_.load());
}

const PipelinedStatements::Slot* PipelinedStatements::WriteSlot() const {
  for (const auto& slot : slots_) {
    if (slot->state == Slot::State::kReady) return slot.get();
  }
  return nullptr;
}

const PipelinedStatements::Statement& PipelinedStatements::StatementFor(
    const std::string* sql) {
  std::unique_ptr<Statement>& statement = statements_[sql];
  if (statement == nullptr) {
    statement = std::make_unique<Statement>();
    statement->positional = PositionalSql(*sql, &statement->names);
  }
  return *statement;
}

void PipelinedStatements::Send(Slot& slot, absl::Time now) {
  const bool takes_writes = WriteSlot() == &slot;
  const bool takes_reads = !takes_writes || ready_connections_.load() == 1;
  std::vector<PendingPtr> picked;
  std::deque<PendingPtr> rest;
  for (PendingPtr& pending : waiting_) {
    const bool fits = pending->writes() ? takes_writes : takes_reads;
    if (fits && picked.size() < kMaxBatch) {
      picked.push_back(std::move(pending));
    } else {
      rest.push_back(std::move(pending));
    }
  }
  waiting_ = std::move(rest);
  if (picked.empty()) return;
  // On a failure to send, what was not sent waits for another connection.
  auto unsent = [&](size_t from) {
    for (size_t i = picked.size(); i > from; --i) {
      waiting_.push_front(std::move(picked[i - 1]));
    }
  };
  const bool writes =
      std::any_of(picked.begin(), picked.end(),
                  [](const PendingPtr& pending) { return pending->writes(); });
  if (writes) {
    if (PQsendQueryParams(slot.conn, LockTimeoutSql().c_str(), 0, nullptr,
                          nullptr, nullptr, nullptr, 0) != 1) {
      unsent(0);
      Lost(slot, "sending");
      return;
    }
    slot.batch.push_back({nullptr, nullptr});
  }
  for (size_t i = 0; i < picked.size(); ++i) {
    const std::string* sql = picked[i]->statement.sql;
    const Statement& statement = StatementFor(sql);
    const LibpqParams params(picked[i]->statement.params, statement.names);
    bool sent = false;
    if (options_.named_statements) {
      auto [it, added] = slot.prepared.try_emplace(sql);
      if (added) {
        it->second = NewStatementName();
        if (PQsendPrepare(slot.conn, it->second.c_str(),
                          statement.positional.c_str(), params.size(),
                          nullptr) != 1) {
          unsent(i);
          Lost(slot, "sending");
          return;
        }
        slot.batch.push_back({nullptr, sql});
      }
      sent = PQsendQueryPrepared(slot.conn, it->second.c_str(), params.size(),
                                 params.values(), nullptr, nullptr, 0) == 1;
    } else {
      sent = PQsendQueryParams(slot.conn, statement.positional.c_str(),
                               params.size(), nullptr, params.values(), nullptr,
                               nullptr, 0) == 1;
    }
    if (!sent) {
      unsent(i);
      Lost(slot, "sending");
      return;
    }
    slot.batch.push_back({std::move(picked[i]), nullptr});
  }
  if (PQpipelineSync(slot.conn) != 1) {
    Lost(slot, "sending");
    return;
  }
  slot.synced = true;
  slot.next = 0;
  slot.ended = false;
  slot.failed = false;
  slot.setup_failed = false;
  slot.sent_at = now;
  Arm(slot);
  Flush(slot);
}

void PipelinedStatements::Flush(Slot& slot) {
  const int flushed = PQflush(slot.conn);
  if (flushed < 0) {
    Lost(slot, "sending");
    return;
  }
  slot.flushing = flushed == 1;
}

void PipelinedStatements::Arm(Slot& slot) {
  if (options_.watchdog == nullptr) return;
  // The last deadline: a caller's short one does not cancel the others'.
  absl::Time last = absl::InfinitePast();
  for (const Slot::Sent& sent : slot.batch) {
    if (sent.pending != nullptr && sent.pending->writes()) {
      last = std::max(last, sent.pending->statement.deadline);
    }
  }
  if (last == absl::InfinitePast() || last == absl::InfiniteFuture()) return;
  slot.armed = options_.watchdog->Arm(slot.conn, last);
}

bool PipelinedStatements::Disarm(Slot& slot) {
  if (slot.armed == 0) return false;
  const uint64_t armed = slot.armed;
  slot.armed = 0;
  return options_.watchdog->Disarm(armed);
}

void PipelinedStatements::Receive(Slot& slot) {
  for (;;) {
    if (PQconsumeInput(slot.conn) != 1) {
      Lost(slot, "receiving");
      return;
    }
    TakeResults(slot);
    if (slot.conn == nullptr) return;  // lost
    if (PQstatus(slot.conn) == CONNECTION_BAD) {
      Lost(slot, "receiving");
      return;
    }
    if (slot.batch.empty() || !TlsPending(slot.conn)) return;
  }
}

void PipelinedStatements::TakeResults(Slot& slot) {
  // Each statement's result is followed by a null; the batch ends with the
  // Sync's result.
  while (!slot.batch.empty() && PQisBusy(slot.conn) == 0) {
    PGresult* result = PQgetResult(slot.conn);
    if (slot.ended) {
      if (result != nullptr) {
        PQclear(result);
        continue;
      }
      slot.ended = false;
      ++slot.next;
      continue;
    }
    if (slot.next < slot.batch.size()) {
      if (result == nullptr) {
        Lost(slot, "receiving a result");
        return;
      }
      Received(slot, result);
      PQclear(result);
      slot.ended = true;
      continue;
    }
    const bool synced =
        result != nullptr && PQresultStatus(result) == PGRES_PIPELINE_SYNC;
    PQclear(result);
    if (!synced) {
      Lost(slot, "receiving the end of a batch");
      return;
    }
    Ended(slot);
  }
}

void PipelinedStatements::Received(Slot& slot, const PGresult* result) {
  Slot::Sent& sent = slot.batch[slot.next];
  const ExecStatusType status = PQresultStatus(result);
  const bool succeeded =
      status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK;
  // Aborted by an earlier failure: sent again at the batch's end (a Prepare
  // too: the server never made it).
  if (status == PGRES_PIPELINE_ABORTED) {
    if (sent.prepare != nullptr) slot.prepared.erase(sent.prepare);
    return;
  }
  if (sent.pending == nullptr) {  // a Prepare, or the batch's setup
    if (succeeded) return;
    slot.failed = true;
    if (sent.prepare == nullptr) {
      slot.setup_failed = true;
      return;
    }
    slot.prepared.erase(sent.prepare);
    // The statement right after it uses it.
    Failed(slot, *slot.batch[slot.next + 1].pending, result);
    return;
  }
  Pending& pending = *sent.pending;
  if (!succeeded) {
    Failed(slot, pending, result);
    return;
  }
  if (PQntuples(result) == 0) {
    pending.outcome.emplace(std::nullopt);
  } else if (pending.statement.table == nullptr) {
    pending.outcome.emplace(schema::Row());
  } else {
    pending.outcome.emplace(RowOf(result, *pending.statement.table));
  }
}

void PipelinedStatements::Failed(Slot& slot, Pending& pending,
                                 const PGresult* result) {
  slot.failed = true;
  const std::string sqlstate = SqlStateOf(result);
  const DbError error =
      ClassifySqlState(sqlstate, Trimmed(PQresultErrorMessage(result)));
  // Not its own doing: the server forgot the statement, the batch was
  // cancelled, or the session is ending (its loss then decides).
  const bool not_its_own = sqlstate == kNoSuchStatement ||
                           sqlstate == kQueryCanceled || error.connection_lost;
  if (not_its_own && ++pending.attempts < kMaxAttempts) {
    slot.prepared.erase(pending.statement.sql);
    return;
  }
  pending.failed = true;
  if (sqlstate == kLockNotAvailable) {
    // Undone with its batch; the blocking way waits out the lock.
    pending.outcome.emplace(RunBlockingInstead(error.message));
    return;
  }
  pending.outcome.emplace(DbErrorToStatus(error, pending.statement.context));
}

void PipelinedStatements::Ended(Slot& slot) {
  // A cancel request that may still come would hit the next batch.
  const bool drop = Disarm(slot) || slot.setup_failed;
  const bool setup_failed = slot.setup_failed;
  const bool failed = slot.failed;
  std::vector<Slot::Sent> batch = std::move(slot.batch);
  slot.batch.clear();
  slot.next = 0;
  slot.synced = false;
  slot.setup_failed = false;
  if (!failed && options_.observer != nullptr) {
    const int writes = static_cast<int>(
        std::count_if(batch.begin(), batch.end(), [](const Slot::Sent& sent) {
          return sent.pending != nullptr && sent.pending->writes();
        }));
    if (writes > 0) options_.observer->OnGroupCommit(writes);
  }
  // A failed batch was undone: nothing in it happened. A write's own
  // failure is its answer only when no write came before it in the batch
  // (else an undone row may have caused it: a title taken by the batch
  // itself); every other write of the batch takes the blocking way, one
  // transaction each, so that a client's failing writes cannot keep others'
  // batches failing. Reads are sent again.
  std::vector<bool> after_write(batch.size(), false);
  for (size_t i = 0, writes = 0; i < batch.size(); ++i) {
    after_write[i] = writes > 0;
    if (batch[i].pending != nullptr && batch[i].pending->writes()) ++writes;
  }
  // Sent again in the order they were sent, ahead of newer statements.
  for (size_t i = batch.size(); i-- > 0;) {
    Slot::Sent* sent = &batch[i];
    if (sent->pending == nullptr) continue;
    Pending& pending = *sent->pending;
    if (!failed || (pending.failed && !(pending.writes() && after_write[i]))) {
      if (pending.outcome.has_value()) {
        pending.Answer(*std::move(pending.outcome));
      }
    } else if (pending.writes() && !setup_failed) {
      pending.Answer(RunBlockingInstead(
          "undone with its batch, which another statement failed"));
    }
    if (!pending.answered() && setup_failed &&
        ++pending.attempts >= kMaxAttempts) {
      pending.Answer(Unavailable("cannot set the transaction's lock_timeout"));
    }
    if (pending.answered()) {
      Release(sent->pending);
      continue;
    }
    pending.outcome.reset();
    pending.failed = false;
    waiting_.push_front(std::move(sent->pending));
  }
  if (drop) Lost(slot, "its batch was cancelled or could not be set up");
}

void PipelinedStatements::Retry(PendingPtr pending,
                                const absl::Status& failure) {
  if (pending->answered()) {
    Release(pending);
    return;
  }
  pending->outcome.reset();
  pending->failed = false;
  if (!pending->writes() && ++pending->attempts < kMaxAttempts &&
      !cancelled_.load()) {
    waiting_.push_front(std::move(pending));
    return;
  }
  pending->Answer(pending->writes() ? MayHaveCommitted(failure) : failure);
  Release(pending);
}

void PipelinedStatements::Lost(Slot& slot, absl::string_view what) {
  // libpq's text may name the server's functions or address: operators'.
  const absl::Status failure = WithOperatorDetail(
      Unavailable(
          absl::StrCat("lost the connection to the database (", what, ")")),
      slot.conn != nullptr ? Trimmed(PQerrorMessage(slot.conn)) : "");
  if (slot.state == Slot::State::kReady) {
    ready_connections_.fetch_sub(1);
    ReportPipelineState();
  }
  (void)Disarm(slot);  // dropped anyway
  const bool synced = slot.synced;
  std::vector<Slot::Sent> batch = std::move(slot.batch);
  slot.batch.clear();
  // Sent again in the order they were sent.
  for (auto sent = batch.rbegin(); sent != batch.rend(); ++sent) {
    if (sent->pending == nullptr) continue;
    Pending& pending = *sent->pending;
    // Without its Sync, nothing of the batch can have committed.
    if (!synced && !pending.answered() && ++pending.attempts < kMaxAttempts &&
        !cancelled_.load()) {
      waiting_.push_front(std::move(sent->pending));
      continue;
    }
    Retry(std::move(sent->pending), failure);
  }
  slot.next = 0;
  slot.ended = false;
  slot.failed = false;
  slot.setup_failed = false;
  slot.synced = false;
  slot.flushing = false;
  slot.prepared.clear();
  if (slot.conn != nullptr) PQfinish(slot.conn);
  slot.conn = nullptr;
  slot.state = Slot::State::kDown;
  slot.retry_at = absl::Now() + slot.backoff;
  slot.backoff = slot.backoff == absl::ZeroDuration()
                     ? kFirstBackoff
                     : std::min(2 * slot.backoff, kMaxBackoff);
}

absl::Time PipelinedStatements::Expire(absl::Time now) {
  absl::Time earliest = absl::InfiniteFuture();
  const absl::Status late = CallDeadlineExceeded("waiting for the database");
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    Pending& pending = **it;
    if (pending.statement.deadline > now) {
      earliest = std::min(earliest, pending.statement.deadline);
      ++it;
      continue;
    }
    pending.Answer(late);
    Release(*it);
    it = waiting_.erase(it);
  }
  for (auto& slot : slots_) {
    bool awaited = false;  // some caller still waits for this batch
    for (Slot::Sent& sent : slot->batch) {
      if (sent.pending == nullptr || sent.pending->answered()) continue;
      if (sent.pending->statement.deadline <= now) {
        sent.pending->Answer(late);
        continue;
      }
      awaited = true;
      earliest = std::min(earliest, sent.pending->statement.deadline);
    }
    // A frozen database: nobody waits for the batch, and it is late.
    if (!slot->batch.empty() && !awaited && now - slot->sent_at >= kStalled) {
      Lost(*slot, "no answer to statements past their deadlines");
    }
  }
  return earliest;
}

void PipelinedStatements::FailAll(const absl::Status& status) {
  {
    absl::MutexLock lock(&mu_);
    for (PendingPtr& pending : incoming_) {
      waiting_.push_back(std::move(pending));
    }
    incoming_.clear();
  }
  for (PendingPtr& pending : waiting_) {
    pending->Answer(status);
    Release(pending);
  }
  waiting_.clear();
  for (auto& slot : slots_) {
    for (Slot::Sent& sent : slot->batch) {
      if (sent.pending == nullptr) continue;
      sent.pending->Answer(sent.pending->writes() && slot->synced
                               ? MayHaveCommitted(status)
                               : status);
    }
  }
}

}  // namespace tasks::storage
