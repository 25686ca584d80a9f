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
#include "storage/postgres/sqlstate.h"
#include "storage/sql/prepared_statement.h"

namespace tasks::storage {
namespace {

using Outcome = absl::StatusOr<std::optional<schema::Row>>;

// Statements per batch; the rest wait for the connection's next one.
constexpr size_t kMaxBatch = 256;
// A statement is sent again at most once: a read after a lost connection,
// any statement whose prepared statement the server forgot or whose batch
// was cancelled.
constexpr int kMaxAttempts = 2;
constexpr absl::Duration kFirstBackoff = absl::Milliseconds(100);
constexpr absl::Duration kMaxBackoff = absl::Seconds(2);
constexpr absl::Duration kMaxPoll = absl::Seconds(1);
// SQLSTATE invalid_sql_statement_name: a prepared statement the server
// forgot (DISCARD ALL by a pooler); prepared again and sent again.
constexpr char kNoSuchStatement[] = "26000";
// SQLSTATE query_canceled: the batch was cancelled for a write past its
// deadline (see Options::watchdog); the others in it are sent again.
constexpr char kQueryCanceled[] = "57014";

absl::Status Unavailable(absl::string_view message) {
  return WithReason(absl::UnavailableError(message),
                    reason::kDatabaseUnavailable);
}

absl::Status ShuttingDown() {
  return Unavailable("the store is shutting down");
}

std::string Trimmed(const char* text) {
  std::string message = text != nullptr ? text : "";
  while (!message.empty() && message.back() == '\n') message.pop_back();
  return message;
}

// A statement name no other statement of the process ever had.
std::string NewStatementName() {
  static std::atomic<uint64_t> last{0};
  return absl::StrCat("async_", last.fetch_add(1) + 1);
}

std::string SqlStateOf(const PGresult* result) {
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  return state != nullptr ? state : "";
}

// The status of a failed statement's `result`.
absl::Status Failure(const PGresult* result, const ErrorContext& context) {
  return DbErrorToStatus(
      ClassifySqlState(SqlStateOf(result),
                       Trimmed(PQresultErrorMessage(result))),
      context);
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
  // Times sent again: after a lost connection (reads only), or for a
  // prepared statement the server forgot.
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
};

struct PipelinedStatements::Statement {
  std::string positional;          // $1, $2, ...
  std::vector<std::string> names;  // of $1, $2, ...
};

struct PipelinedStatements::Slot {
  enum class State { kDown, kConnecting, kReady };
  // What a batch sent, in order: statements, and Prepares.
  struct Sent {
    PendingPtr pending;                    // null for a Prepare
    const std::string* prepare = nullptr;  // the SQL a Prepare prepares
  };

  State state = State::kDown;
  PGconn* conn = nullptr;
  bool connect_writes = true;  // PQconnectPoll waits to write, else read
  // kConnecting: when to give up; kDown: when to connect again.
  absl::Time deadline = absl::InfinitePast();
  absl::Duration backoff = absl::ZeroDuration();
  // The SQL texts prepared on this connection, with their names.
  absl::flat_hash_map<const std::string*, std::string> prepared;
  std::vector<Sent> batch;  // in flight; empty: none
  size_t next = 0;          // the entry whose result comes next
  bool ended = false;       // its result was read; the null after it is next
  bool failed = false;      // an entry of the batch failed: it is undone
  bool flushing = false;    // libpq holds output the socket did not take
  absl::Time sent_at;
  uint64_t armed = 0;  // the batch's CancelWatchdog id; 0: none
};

PipelinedStatements::PipelinedStatements(Options options)
    : options_(std::move(options)),
      wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  for (int i = 0; i < std::max(1, options_.connections); ++i) {
    slots_.push_back(std::make_unique<Slot>());
  }
  thread_ = std::thread([this] { Run(); });
}

PipelinedStatements::~PipelinedStatements() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  Wake();
  thread_.join();
  if (wake_fd_ >= 0) close(wake_fd_);
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

void PipelinedStatements::Run() {
  const absl::Time now = absl::Now();
  for (auto& slot : slots_) Connect(*slot, now);
  while (Step()) {
  }
  FailAll(ShuttingDown());
  for (auto& slot : slots_) {
    for (Slot::Sent& sent : slot->batch) {
      if (sent.pending != nullptr) Release(sent.pending);
    }
    if (slot->conn != nullptr) PQfinish(slot->conn);
  }
}

bool PipelinedStatements::Step() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return false;
    for (PendingPtr& pending : incoming_) waiting_.push_back(std::move(pending));
    incoming_.clear();
  }
  absl::Time now = absl::Now();
  if (cancelled_.load()) FailAll(ShuttingDown());
  for (auto& slot : slots_) {
    if (slot->state == Slot::State::kDown && now >= slot->deadline &&
        !cancelled_.load()) {
      Connect(*slot, now);
    }
  }
  const absl::Time earliest = Expire(now);
  if (!waiting_.empty() && !AnyConnectionUp()) {
    // Statements sent again after a loss, with no connection to take them.
    const absl::Status down = Unavailable("no connection to the database");
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
    switch (slot->state) {
      case Slot::State::kDown:
        wake_at = std::min(wake_at, slot->deadline);
        continue;
      case Slot::State::kConnecting:
        wake_at = std::min(wake_at, slot->deadline);
        fds.push_back({PQsocket(slot->conn),
                       static_cast<short>(slot->connect_writes ? POLLOUT
                                                               : POLLIN),
                       0});
        break;
      case Slot::State::kReady:
        if (!slot->batch.empty()) {
          wake_at = std::min(wake_at, slot->sent_at + kStalled);
        }
        fds.push_back({PQsocket(slot->conn),
                       static_cast<short>(POLLIN |
                                          (slot->flushing ? POLLOUT : 0)),
                       0});
        break;
    }
    polled.push_back(slot.get());
  }
  int timeout = PollMilliseconds(wake_at - now);
  {
    absl::MutexLock lock(&mu_);
    if (!incoming_.empty() || stopping_) {
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
  now = absl::Now();
  for (size_t i = 1; i < fds.size(); ++i) {
    if (fds[i].revents == 0) continue;
    Slot& slot = *polled[i];
    if (slot.state == Slot::State::kConnecting) {
      ContinueConnect(slot, now);
      continue;
    }
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

void PipelinedStatements::Connect(Slot& slot, absl::Time now) {
  // Step by step, so that a server that does not answer holds up nothing
  // but this connection.
  slot.conn = PQconnectStart(options_.conninfo.c_str());
  if (slot.conn == nullptr || PQstatus(slot.conn) == CONNECTION_BAD) {
    Lost(slot, "connecting");
    return;
  }
  slot.state = Slot::State::kConnecting;
  slot.connect_writes = true;
  slot.deadline = now + options_.connect_timeout;
}

void PipelinedStatements::ContinueConnect(Slot& slot, absl::Time now) {
  switch (PQconnectPoll(slot.conn)) {
    case PGRES_POLLING_READING:
      slot.connect_writes = false;
      return;
    case PGRES_POLLING_WRITING:
      slot.connect_writes = true;
      return;
    case PGRES_POLLING_OK:
      break;
    default:
      Lost(slot, "connecting");
      return;
  }
  PQsetNoticeProcessor(
      slot.conn, [](void*, const char*) {}, nullptr);
  if (PQsetnonblocking(slot.conn, 1) != 0 ||
      PQenterPipelineMode(slot.conn) != 1) {
    Lost(slot, "entering pipeline mode");
    return;
  }
  slot.state = Slot::State::kReady;
  slot.backoff = absl::ZeroDuration();
  ready_connections_.fetch_add(1);
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
  const size_t count = std::min(waiting_.size(), kMaxBatch);
  for (size_t i = 0; i < count; ++i) {
    PendingPtr pending = std::move(waiting_.front());
    waiting_.pop_front();
    const std::string* sql = pending->statement.sql;
    const Statement& statement = StatementFor(sql);
    const LibpqParams params(pending->statement.params, statement.names);
    bool sent = false;
    if (options_.named_statements) {
      auto [it, added] = slot.prepared.try_emplace(sql);
      if (added) {
        it->second = NewStatementName();
        if (PQsendPrepare(slot.conn, it->second.c_str(),
                          statement.positional.c_str(), params.size(),
                          nullptr) != 1) {
          waiting_.push_front(std::move(pending));
          Lost(slot, "sending");
          return;
        }
        slot.batch.push_back({nullptr, sql});
      }
      sent = PQsendQueryPrepared(slot.conn, it->second.c_str(), params.size(),
                                 params.values(), nullptr, nullptr, 0) == 1;
    } else {
      sent = PQsendQueryParams(slot.conn, statement.positional.c_str(),
                               params.size(), nullptr, params.values(),
                               nullptr, nullptr, 0) == 1;
    }
    if (!sent) {
      waiting_.push_front(std::move(pending));
      Lost(slot, "sending");
      return;
    }
    slot.batch.push_back({std::move(pending), nullptr});
  }
  if (PQpipelineSync(slot.conn) != 1) {
    Lost(slot, "sending");
    return;
  }
  slot.next = 0;
  slot.ended = false;
  slot.failed = false;
  slot.sent_at = now;
  Arm(slot);
  Flush(slot);
}

void PipelinedStatements::Arm(Slot& slot) {
  if (options_.watchdog == nullptr) return;
  absl::Time first = absl::InfiniteFuture();
  for (const Slot::Sent& sent : slot.batch) {
    if (sent.pending != nullptr && sent.pending->statement.writes) {
      first = std::min(first, sent.pending->statement.deadline);
    }
  }
  if (first == absl::InfiniteFuture()) return;
  slot.armed = options_.watchdog->Arm(
      slot.conn, std::max(first, slot.sent_at + kCancelAfter));
}

bool PipelinedStatements::Disarm(Slot& slot) {
  if (slot.armed == 0) return false;
  const uint64_t armed = slot.armed;
  slot.armed = 0;
  return options_.watchdog->Disarm(armed);
}

void PipelinedStatements::Flush(Slot& slot) {
  const int flushed = PQflush(slot.conn);
  if (flushed < 0) {
    Lost(slot, "sending");
    return;
  }
  slot.flushing = flushed == 1;
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
  if (sent.prepare != nullptr) {
    // The statement right after it, which uses it, fails with its error.
    if (status != PGRES_COMMAND_OK) {
      slot.prepared.erase(sent.prepare);
      slot.failed = true;
      Pending& user = *slot.batch[slot.next + 1].pending;
      user.failed = true;
      user.outcome.emplace(Failure(result, user.statement.context));
    }
    return;
  }
  Pending& pending = *sent.pending;
  switch (status) {
    case PGRES_TUPLES_OK:
    case PGRES_COMMAND_OK:
      if (PQntuples(result) == 0) {
        pending.outcome.emplace(std::nullopt);
      } else if (pending.statement.table == nullptr) {
        pending.outcome.emplace(schema::Row());
      } else {
        pending.outcome.emplace(RowOf(result, *pending.statement.table));
      }
      return;
    case PGRES_PIPELINE_ABORTED:
      return;  // sent again at the batch's end
    default:
      break;
  }
  slot.failed = true;
  const std::string sqlstate = SqlStateOf(result);
  if ((sqlstate == kNoSuchStatement || sqlstate == kQueryCanceled) &&
      ++pending.attempts < kMaxAttempts) {
    slot.prepared.erase(pending.statement.sql);
    return;  // (prepared and) sent again at the batch's end
  }
  // A session ended by the server: the connection's loss decides.
  if (ClassifySqlState(SqlStateOf(result), "").connection_lost) return;
  pending.failed = true;
  pending.outcome.emplace(Failure(result, pending.statement.context));
}

void PipelinedStatements::Ended(Slot& slot) {
  // A cancel request that may still come would hit the next batch.
  const bool drop = Disarm(slot);
  std::vector<Slot::Sent> batch = std::move(slot.batch);
  slot.batch.clear();
  slot.next = 0;
  const bool failed = slot.failed;
  // Sent again in the order they were sent, ahead of newer statements: a
  // failed batch was undone, so nothing in it happened but the failure.
  for (auto sent = batch.rbegin(); sent != batch.rend(); ++sent) {
    if (sent->pending == nullptr) continue;
    Pending& pending = *sent->pending;
    if (pending.outcome.has_value() && (!failed || pending.failed)) {
      pending.Answer(*std::move(pending.outcome));
    }
    if (pending.answered()) {
      Release(sent->pending);
      continue;
    }
    pending.outcome.reset();
    waiting_.push_front(std::move(sent->pending));
  }
  if (drop) Lost(slot, "cancelled past a deadline");
}

void PipelinedStatements::Retry(PendingPtr pending,
                                const absl::Status& failure) {
  if (pending->answered()) {
    Release(pending);
    return;
  }
  pending->outcome.reset();
  pending->failed = false;
  if (!pending->statement.writes && ++pending->attempts < kMaxAttempts &&
      !cancelled_.load()) {
    waiting_.push_front(std::move(pending));
    return;
  }
  pending->Answer(failure);
  Release(pending);
}

void PipelinedStatements::Lost(Slot& slot, absl::string_view what) {
  const std::string reason =
      slot.conn != nullptr ? Trimmed(PQerrorMessage(slot.conn)) : "";
  const bool writes = std::any_of(
      slot.batch.begin(), slot.batch.end(), [](const Slot::Sent& sent) {
        return sent.pending != nullptr && sent.pending->statement.writes;
      });
  const absl::Status failure = Unavailable(absl::StrCat(
      "lost the connection to the database (", what, "): ", reason,
      writes ? "; the write may have been committed" : ""));
  if (slot.state == Slot::State::kReady) ready_connections_.fetch_sub(1);
  (void)Disarm(slot);  // dropped anyway
  std::vector<Slot::Sent> batch = std::move(slot.batch);
  slot.batch.clear();
  // Sent again in the order they were sent.
  for (auto sent = batch.rbegin(); sent != batch.rend(); ++sent) {
    if (sent->pending != nullptr) Retry(std::move(sent->pending), failure);
  }
  slot.next = 0;
  slot.ended = false;
  slot.failed = false;
  slot.flushing = false;
  slot.prepared.clear();
  if (slot.conn != nullptr) PQfinish(slot.conn);
  slot.conn = nullptr;
  slot.state = Slot::State::kDown;
  slot.deadline = absl::Now() + slot.backoff;
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
    if (slot->state == Slot::State::kConnecting && now >= slot->deadline) {
      Lost(*slot, "connecting: timed out");
      continue;
    }
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
      if (sent.pending != nullptr) sent.pending->Answer(status);
    }
  }
}

}  // namespace tasks::storage
