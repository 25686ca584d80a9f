#include "service/task_watchers.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/error_reason.h"
#include "service/completion_queue_tag.h"
#include "service/request_id.h"
#include "service/status_util.h"

namespace tasks::service {
namespace watch_internal {

class WatchCall;

struct WatchState {
  WatchState(ReceivedRequests<v1::TaskService>& service, TaskServiceImpl& impl,
             ChangeFeed& feed, WorkerPool& workers,
             TaskWatchers::Options options, ServerMetrics* metrics)
      : service(service),
        method_index(service.MethodIndex("WatchTasks")),
        impl(impl),
        feed(feed),
        workers(workers),
        options(options),
        server_metrics(metrics),
        metrics(metrics == nullptr
                    ? nullptr
                    : &metrics->ForMethod(v1::TaskService::service_full_name(),
                                          "WatchTasks")) {}

  ReceivedRequests<v1::TaskService>& service;
  const int method_index;  // WatchTasks'
  TaskServiceImpl& impl;
  ChangeFeed& feed;
  WorkerPool& workers;
  const TaskWatchers::Options options;
  ServerMetrics* const server_metrics;
  MethodMetrics* const metrics;

  // One lock for every stream, as in the health service: a stream's work
  // under it is a ring lookup, a filter match and a Write's start.
  mutable absl::Mutex mu;
  bool shut_down ABSL_GUARDED_BY(mu) = false;
  // The streams watching (counted by the caps), and per principal.
  absl::flat_hash_set<WatchCall*> open ABSL_GUARDED_BY(mu);
  absl::flat_hash_map<std::string, int> per_principal ABSL_GUARDED_BY(mu);
  // Streams without a resume_token waiting for the store's present, and
  // whether a worker is looking it up: one lookup serves every stream that
  // was waiting when it began, so a burst of streams (clients reconnecting)
  // takes one worker, not one each.
  std::vector<WatchCall*> present_waiters ABSL_GUARDED_BY(mu);
  bool looking_up_present ABSL_GUARDED_BY(mu) = false;
  int64_t events_sent ABSL_GUARDED_BY(mu) = 0;
  int max_writes_in_flight ABSL_GUARDED_BY(mu) = 0;
  int max_backlog ABSL_GUARDED_BY(mu) = 0;
};

namespace {

grpc::Status Unavailable() {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                      "the server is shutting down; resume from the last "
                      "resume_token on another server");
}

grpc::Status TooManyWatchers(absl::string_view whose, int cap) {
  return ToGrpcStatus(
      WithReason(absl::ResourceExhaustedError(absl::StrCat(
                     whose, " already has ", cap,
                     " WatchTasks streams open; end one, or retry later")),
                 reason::kTooManyWatchers));
}

grpc::Status NoWorker() {
  return ToGrpcStatus(WithReason(
      absl::ResourceExhaustedError("the server is busy: every worker thread "
                                   "is in use; resume with backoff"),
      reason::kResourceExhausted));
}

}  // namespace

// One WatchTasks stream. Its events arrive as Proceed: the call itself, then
// the completion of each Write and of the Finish. gRPC reports the end of
// the call (the client cancelled or went away, or the Finish was sent) to
// `done_`; the stream leaves `state_.open` then, and the object is freed once
// that has happened and neither a Write nor a store read is under way.
class WatchCall final : public CompletionQueueTag {
 public:
  static void Await(WatchState& state, grpc::ServerCompletionQueue& queue) {
    auto* call = new WatchCall(state, queue);
    // Must precede the request: gRPC arms it as the call starts.
    call->context_.AsyncNotifyWhenDone(&call->done_);
    state.service.RequestServerStreaming(state.method_index, &call->context_,
                                         &call->received_, &call->writer_,
                                         &queue, call);
  }

  void Proceed(bool ok) override {
    bool started = false;
    {
      absl::MutexLock lock(&state_.mu);
      started = started_;
    }
    if (!started) return Arrive(ok);
    bool free = false;
    {
      absl::MutexLock lock(&state_.mu);
      writing_ = false;
      if (in_flight_ == Op::kWrite) --writes_in_flight_;
      in_flight_ = Op::kNone;
      // A failed write means the call is over; its end is on the way.
      if (!ok) ended_ = true;
      PumpLocked();
      free = FreeLocked();
    }
    if (free) delete this;
  }

  // Sends what the stream has to send next, or starts what gets it: a Write
  // of the next event, a store read, or the end of the stream after
  // shutdown. Nothing while a Write or store read is under way or once the
  // call is over; waits for Wake when the ring has nothing new.
  void PumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu) {
    while (!writing_ && !finished_ && !ended_ && !busy_ && cursor_) {
      if (state_.shut_down) return FinishLocked(Unavailable());
      if (!headers_sent_) {  // Positioned: tell the client (see header).
        headers_sent_ = true;
        writing_ = true;
        in_flight_ = Op::kHeaders;
        return writer_.SendInitialMetadata(this);
      }
      std::optional<v1::TaskEvent> event;
      if (!backlog_.empty()) {
        event = cursor_->Next(backlog_.front());
        backlog_.pop_front();
      } else {
        const ChangeFeed::Lookup next = state_.feed.After(
            std::max(cursor_->position().seq(), verified_seq_));
        switch (next.kind) {
          case ChangeFeed::Lookup::Kind::kUpToDate:
            return;
          case ChangeFeed::Lookup::Kind::kBehind:
            return ReadBehindLocked(next.read_through);
          case ChangeFeed::Lookup::Kind::kChange:
            event = cursor_->Next(*next.change);
            break;
        }
      }
      if (event.has_value()) WriteLocked(*std::move(event));
    }
  }

  // The feed added `batch` to its ring. A stream waiting at its start that
  // can see none of its changes moves past it whole; any other looks.
  void WakeLocked(const ChangeFeed::Batch& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu) {
    const bool waiting = cursor_ && headers_sent_ && !writing_ && !finished_ &&
                         !ended_ && !busy_ && backlog_.empty() &&
                         !state_.shut_down;
    if (waiting && !batch.restarted &&
        std::max(cursor_->position().seq(), verified_seq_) >= batch.after_seq &&
        cursor_->SkipUnseen(batch.through_seq, batch.projects)) {
      return;
    }
    PumpLocked();
  }

  // Shutdown's last resort for a client that does not take its event.
  void CancelLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu) {
    context_.TryCancel();
  }

 private:
  // What gRPC hands `done_`: the call is over.
  class DoneTag final : public CompletionQueueTag {
   public:
    explicit DoneTag(WatchCall& call) : call_(call) {}
    void Proceed(bool /*ok*/) override { call_.OnDone(); }

   private:
    WatchCall& call_;
  };

  WatchCall(WatchState& state, grpc::ServerCompletionQueue& queue)
      : state_(state), queue_(queue), writer_(&context_), done_(*this) {}

  // The call arrived (ok), or the server shut down before one came.
  void Arrive(bool ok) {
    if (!ok) {  // No end of call will be reported for it.
      delete this;
      return;
    }
    Await(state_, queue_);
    {
      absl::MutexLock lock(&state_.mu);
      started_ = true;
      if (state_.metrics != nullptr) started_at_ = state_.metrics->Started();
      counted_ = state_.metrics != nullptr;
    }
    // Outside the lock: parsing the request, and authenticating, which
    // hashes the token. Nothing else reaches this stream before it is
    // registered below.
    absl::Status undecodable = ParseRequest(received_, request_);
    absl::StatusOr<TaskServiceImpl::WatchPlan> plan =
        undecodable.ok() ? state_.impl.PrepareWatch(&context_, request_)
                         : undecodable;
    v1::WatchTasksRequest().Swap(&request_);  // A filter may be 2 KiB.
    EchoRequestId(context_);
    bool free = false;
    {
      absl::MutexLock lock(&state_.mu);
      StartLocked(std::move(plan));
      free = FreeLocked();
    }
    if (free) delete this;
  }

  void StartLocked(absl::StatusOr<TaskServiceImpl::WatchPlan> plan)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu) {
    if (ended_) {  // Over already: OnDone came first.
      return CountLocked(grpc::StatusCode::CANCELLED);
    }
    if (!plan.ok()) return FinishLocked(ToGrpcStatus(plan.status()));
    if (state_.shut_down) return FinishLocked(Unavailable());
    const TaskWatchers::Options& caps = state_.options;
    if (static_cast<int>(state_.open.size()) >= caps.max_watchers) {
      return FinishLocked(TooManyWatchers("the server", caps.max_watchers));
    }
    if (plan->principal.has_value() && state_.per_principal[*plan->principal] >=
                                           caps.max_watchers_per_principal) {
      return FinishLocked(
          TooManyWatchers(absl::StrCat("principal ", *plan->principal),
                          caps.max_watchers_per_principal));
    }
    principal_ = plan->principal;
    if (principal_.has_value()) ++state_.per_principal[*principal_];
    state_.open.insert(this);
    registered_ = true;
    interest_ = WatchCursor::VisibleProjects(plan->filter, plan->scope);
    state_.feed.AddWatcher(interest_);
    ReportOpenLocked();
    // A resume point the feed has read through was given out by this
    // database. One beyond it may be too (another replica's, or changes the
    // feed has not read yet), or be ahead of the whole change log: it is
    // checked against the store's present first, since the ring would
    // otherwise only wait for changes past it.
    if (plan->resume.has_value() &&
        plan->resume->seq() <= state_.feed.read_through()) {
      cursor_.emplace(plan->CursorAt(*plan->resume));
      return PumpLocked();
    }
    // The present is the store's: found on a worker (LookUpPresent).
    plan_ = *std::move(plan);
    busy_ = true;
    state_.present_waiters.push_back(this);
    if (state_.looking_up_present) return;
    state_.looking_up_present = true;
    WatchState* state = &state_;
    if (!state_.workers.TrySubmit([state] { LookUpPresent(*state); })) {
      // No lookup was running, so this stream is the only one waiting.
      state_.looking_up_present = false;
      state_.present_waiters.clear();
      busy_ = false;
      FinishLocked(NoWorker());
    }
  }

  // Looks up the present for the streams waiting for it, round after round
  // (each round for the streams that were waiting when it began, so that
  // their positions are no older than their arrival), until none waits.
  static void LookUpPresent(WatchState& state) {
    for (;;) {
      std::vector<WatchCall*> waiters;
      {
        absl::MutexLock lock(&state.mu);
        waiters.swap(state.present_waiters);
        if (waiters.empty()) {
          state.looking_up_present = false;
          return;
        }
      }
      const absl::StatusOr<storage::ChangePosition> present =
          state.feed.Latest();
      std::vector<WatchCall*> to_free;
      {
        absl::MutexLock lock(&state.mu);
        for (WatchCall* waiter : waiters) {
          if (waiter->StartAtLocked(present)) to_free.push_back(waiter);
        }
      }
      for (WatchCall* waiter : to_free) delete waiter;
    }
  }

  // The present was looked up for this stream: it starts there, or at its
  // resume point when that is not ahead of it. True when it is to be freed.
  bool StartAtLocked(const absl::StatusOr<storage::ChangePosition>& present)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu) {
    busy_ = false;
    absl::Status refused = present.status();
    if (refused.ok() && plan_->resume.has_value()) {
      refused = plan_->resume->CheckNotAhead(present->seq());
    }
    if (!refused.ok()) {
      if (!ended_) FinishLocked(ToGrpcStatus(refused));
    } else {
      cursor_.emplace(plan_->CursorAt(plan_->resume.value_or(*present)));
      plan_.reset();
      PumpLocked();
    }
    return FreeLocked();
  }

  // The changes after the cursor are no longer in the ring: the next ones
  // come from the store, on a worker.
  void ReadBehindLocked(int64_t read_through)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu) {
    busy_ = true;
    if (!state_.workers.TrySubmit(
            [this, from = cursor_->position(), read_through] {
              ReadBehind(from, read_through);
            })) {
      busy_ = false;
      FinishLocked(NoWorker());
    }
  }

  void ReadBehind(const storage::ChangePosition& from, int64_t read_through) {
    absl::StatusOr<std::vector<storage::TaskChange>> page =
        state_.feed.ReadStored(from, TaskWatchers::kStoreReadLimit);
    bool free = false;
    {
      absl::MutexLock lock(&state_.mu);
      busy_ = false;
      if (!page.ok()) {
        if (!ended_) FinishLocked(ToGrpcStatus(page.status()));
      } else {
        // A short page is all the store had when it was read, and the read
        // began after the feed had read through `read_through`: nothing is
        // missing up to there, even where seqs have gaps.
        if (static_cast<int>(page->size()) < TaskWatchers::kStoreReadLimit) {
          verified_seq_ = std::max(verified_seq_, read_through);
        }
        for (storage::TaskChange& change : *page) {
          backlog_.push_back(std::move(change));
        }
        state_.max_backlog =
            std::max(state_.max_backlog, static_cast<int>(backlog_.size()));
        PumpLocked();
      }
      free = FreeLocked();
    }
    if (free) delete this;
  }

  void WriteLocked(v1::TaskEvent event)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu) {
    event_ = std::move(event);
    writing_ = true;
    in_flight_ = Op::kWrite;
    ++writes_in_flight_;
    ++state_.events_sent;
    state_.max_writes_in_flight =
        std::max(state_.max_writes_in_flight, writes_in_flight_);
    writer_.Write(event_, this);
  }

  void FinishLocked(const grpc::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu) {
    finished_ = true;
    writing_ = true;
    in_flight_ = Op::kFinish;
    backlog_.clear();
    CountLocked(status.error_code());
    writer_.Finish(status, this);
  }

  // The call's outcome, once, in the method's metrics.
  void CountLocked(grpc::StatusCode code)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu) {
    if (!counted_) return;
    counted_ = false;
    state_.metrics->Finished(started_at_, code);
  }

  void ReportOpenLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu) {
    if (state_.server_metrics != nullptr) {
      state_.server_metrics->SetOpenWatchers(
          static_cast<int>(state_.open.size()));
    }
  }

  void OnDone() {
    bool free = false;
    {
      absl::MutexLock lock(&state_.mu);
      call_done_ = true;
      ended_ = true;
      // Before the call's arrival was handled: Arrive frees it then.
      if (!started_) return;
      // Ended without a status sent: the client cancelled or went away.
      CountLocked(grpc::StatusCode::CANCELLED);
      if (registered_) {
        registered_ = false;
        state_.open.erase(this);
        state_.feed.RemoveWatcher(interest_);
        if (principal_.has_value() &&
            --state_.per_principal[*principal_] == 0) {
          state_.per_principal.erase(*principal_);
        }
        ReportOpenLocked();
      }
      backlog_.clear();
      free = FreeLocked();
    }
    if (free) delete this;
  }

  bool FreeLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu) {
    return call_done_ && !writing_ && !busy_;
  }

  WatchState& state_;
  grpc::ServerCompletionQueue& queue_;
  grpc::ServerContext context_;
  grpc::ByteBuffer received_;  // the request's bytes, until parsed
  v1::WatchTasksRequest request_;
  grpc::ServerAsyncWriter<v1::TaskEvent> writer_;
  DoneTag done_;

  // What `writing_` waits for.
  enum class Op { kNone, kHeaders, kWrite, kFinish };

  bool started_ ABSL_GUARDED_BY(state_.mu) = false;
  Op in_flight_ ABSL_GUARDED_BY(state_.mu) = Op::kNone;
  bool headers_sent_ ABSL_GUARDED_BY(state_.mu) = false;
  bool registered_ ABSL_GUARDED_BY(state_.mu) = false;  // in state_.open
  bool writing_ ABSL_GUARDED_BY(state_.mu) = false;     // a Write or the Finish
  int writes_in_flight_ ABSL_GUARDED_BY(state_.mu) = 0;
  bool busy_ ABSL_GUARDED_BY(state_.mu) = false;  // a worker reads the store
  bool finished_ ABSL_GUARDED_BY(state_.mu) = false;   // the Finish started
  bool ended_ ABSL_GUARDED_BY(state_.mu) = false;      // nothing more to send
  bool call_done_ ABSL_GUARDED_BY(state_.mu) = false;  // `done_` delivered
  bool counted_ ABSL_GUARDED_BY(state_.mu) = false;    // metrics to finish
  MethodMetrics::Clock::time_point started_at_;
  std::optional<std::string> principal_ ABSL_GUARDED_BY(state_.mu);
  // Until the present is known (a stream without a resume_token).
  std::optional<TaskServiceImpl::WatchPlan> plan_ ABSL_GUARDED_BY(state_.mu);
  // What it told the feed it can see (ChangeFeed::AddWatcher).
  ChangeFeed::Interest interest_ ABSL_GUARDED_BY(state_.mu);
  std::optional<WatchCursor> cursor_ ABSL_GUARDED_BY(state_.mu);
  // Changes read from the store and not yet passed to the cursor.
  std::deque<storage::TaskChange> backlog_ ABSL_GUARDED_BY(state_.mu);
  // No change is missing from the store's history up to this seq (see
  // ReadBehind), beyond the cursor's own position.
  int64_t verified_seq_ ABSL_GUARDED_BY(state_.mu) = 0;
  v1::TaskEvent event_;  // the one Write in flight
};

}  // namespace watch_internal

using watch_internal::WatchCall;
using watch_internal::WatchState;

TaskWatchers::TaskWatchers(ReceivedRequests<v1::TaskService>& service,
                           TaskServiceImpl& impl, ChangeFeed& feed,
                           WorkerPool& workers, Options options,
                           ServerMetrics* metrics)
    : state_(std::make_unique<WatchState>(service, impl, feed, workers, options,
                                          metrics)) {}

TaskWatchers::~TaskWatchers() = default;

void TaskWatchers::AwaitCalls(grpc::ServerCompletionQueue& queue) {
  WatchCall::Await(*state_, queue);
}

void TaskWatchers::Wake(const ChangeFeed::Batch& batch) {
  absl::MutexLock lock(&state_->mu);
  for (WatchCall* call : state_->open) call->WakeLocked(batch);
}

void TaskWatchers::Shutdown(absl::Duration grace) {
  absl::MutexLock lock(&state_->mu);
  state_->shut_down = true;
  for (WatchCall* call : state_->open) call->PumpLocked();
  state_->mu.AwaitWithTimeout(
      absl::Condition(
          +[](WatchState* state)
               ABSL_NO_THREAD_SAFETY_ANALYSIS { return state->open.empty(); },
          state_.get()),
      grace);
  for (WatchCall* call : state_->open) call->CancelLocked();
}

TaskWatchers::Stats TaskWatchers::stats() const {
  absl::MutexLock lock(&state_->mu);
  Stats stats;
  stats.open = static_cast<int>(state_->open.size());
  stats.events_sent = state_->events_sent;
  stats.max_writes_in_flight = state_->max_writes_in_flight;
  stats.max_backlog = state_->max_backlog;
  return stats;
}

}  // namespace tasks::service
