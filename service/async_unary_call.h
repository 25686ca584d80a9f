#ifndef TASKS_SERVICE_ASYNC_UNARY_CALL_H_
#define TASKS_SERVICE_ASYNC_UNARY_CALL_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <string>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/strings/string_view.h"
#include "common/call_cancellation.h"
#include "service/completion_queue_tag.h"
#include "service/logging.h"
#include "service/method_metrics.h"
#include "service/received_requests.h"
#include "service/reply_backlog.h"
#include "service/request_id.h"
#include "service/status_util.h"

namespace tasks::service {

template <typename Request, typename Response>
class AsyncUnaryCall;

// UnaryMethod
//
// One unary method served on completion queues: how to ask gRPC for its
// next call, and what to do with a call once it arrives. Must outlive its
// calls.
template <typename Request, typename Response>
class UnaryMethod {
 public:
  virtual ~UnaryMethod() = default;

  // "/package.Service/Method", as the call log names it.
  virtual absl::string_view full_name() const = 0;

  // Asks gRPC for the next call, with `tag`: its request as received,
  // which the call parses (see ReceivedRequests).
  virtual void RequestCall(grpc::ServerContext* context,
                           grpc::ByteBuffer* request,
                           grpc::ServerAsyncResponseWriter<Response>* writer,
                           grpc::ServerCompletionQueue& queue,
                           void* tag) const = 0;

  // A call arrived; the next one is already asked for. It must end, on any
  // thread, with exactly one call.Finish().
  virtual void OnCall(AsyncUnaryCall<Request, Response>& call) const = 0;

  // Where its calls are counted; null: nowhere.
  virtual MethodMetrics* metrics() const { return nullptr; }

  // What bounds its unread replies; null: nothing.
  virtual ReplyBacklog* reply_backlog() const { return nullptr; }

  // Whether its calls only read: a read's reply, once built, may still be
  // replaced by a refusal (ReplyBacklog::AdmitReply); a write's is always
  // sent, its write being done.
  virtual bool is_read() const { return false; }

  // Where its calls are counted from their arrival until they are freed;
  // null: nowhere.
  virtual std::atomic<int>* live_calls() const { return nullptr; }

  // Whether its calls learn that their client is gone (cancelled, or its
  // connection closed) while they run: their cancellation() is cancelled
  // then. Costs a completion-queue event per call, so only for calls that
  // may run for seconds.
  virtual bool watches_cancellation() const { return false; }
};

// AsyncUnaryCall
//
// One call of a UnaryMethod from its arrival to its answer: waits for it,
// asks for the method's next call as soon as it arrives (so the queue never
// runs dry), parses its request (INVALID_ARGUMENT when it does not decode),
// hands it to the method, and deletes itself once the answer is
// sent (and Finish has returned) or the server has shut down. The answer
// echoes the call's request id (EchoRequestId), and the method's metrics
// count the call. With a ReplyBacklog, a call on a connection over its
// budget of unread replies is refused before the method sees it, a read's
// reply is checked again once built, and an answer counts in the backlog
// until it is sent (a read's may be dropped meanwhile: its call cancelled).
// When the method watches_cancellation(), the call's cancellation() is
// cancelled as soon as gRPC reports its client gone (cancelled before its
// deadline), and the call is deleted once that report, too, has come.
//
// Example:
//   AsyncUnaryCall<GetTaskRequest, Task>::Await(kGetTask, *queue);
template <typename Request, typename Response>
class AsyncUnaryCall final : public CompletionQueueTag {
 public:
  using Method = UnaryMethod<Request, Response>;

  static void Await(const Method& method, grpc::ServerCompletionQueue& queue) {
    auto* call = new AsyncUnaryCall(method, queue);
    // Must precede the request: gRPC arms it as the call starts, and reports
    // it only for a call that started.
    if (method.watches_cancellation()) {
      call->context_.AsyncNotifyWhenDone(&call->done_);
    }
    method.RequestCall(&call->context_, &call->received_, &call->writer_, queue,
                       call);
  }

  grpc::ServerContext& context() { return context_; }
  const Request& request() const { return request_; }
  // Never cancelled unless the method watches_cancellation().
  CallCancellation& cancellation() { return cancellation_; }

  // Sends the answer: `response` when `status` is OK (ignored otherwise).
  void Finish(const grpc::Status& status, const Response& response) {
    if (status.ok() && backlog_ != nullptr && method_.is_read()) {
      if (absl::Status refused = backlog_->AdmitReply(
              [&response] {
                return static_cast<int64_t>(response.ByteSizeLong());
              },
              [this] { return peer(); });
          !refused.ok()) {
        return Finish(ToGrpcStatus(refused), response);
      }
    }
    EchoRequestId(context_);
    const bool held = status.ok() && backlog_ != nullptr;
    if (metrics_ != nullptr) {
      const MethodMetrics::Clock::duration latency =
          metrics_->Answered(started_);
      // A read's reply that may be dropped unread is counted once gRPC is
      // done with it, with what its client saw (see ~AsyncUnaryCall); the
      // others before they are sent. (Its size, computed here only with
      // metrics on, is computed again as gRPC serializes it.)
      if (held && method_.is_read() &&
          static_cast<int64_t>(response.ByteSizeLong()) >=
              ReplyBacklog::kSmallReplyBytes) {
        counted_latency_ = latency;
        counted_when_released_ = true;
      } else {
        metrics_->Count(latency, status.error_code());
      }
    }
    // The answer may be sent, and Proceed run, before writer_.Finish returns:
    // whichever of them (and done_) ends last deletes the call.
    owners_.fetch_add(1, std::memory_order_relaxed);
    if (status.ok()) {
      writer_.Finish(response, status, this);
      if (held) {
        // writer_.Finish serialized it at once, through ByteSizeLong(),
        // which cached the size (gRPC's SerializationTraits for protobuf).
        // A read's reply the client leaves unread may be dropped: the
        // client sees CANCELLED and may ask again. A write's is always sent.
        const int64_t size = response.GetCachedSize();
        absl::AnyInvocable<void() &&> drop;
        if (method_.is_read() && size >= ReplyBacklog::kSmallReplyBytes) {
          drop = [this, size] {
            // Its call line, written as it was sent, says OK. (Under the
            // backlog's lock: nothing asked for when the line is not kept.)
            if (LogEnabled(LogLevel::kInfo)) {
              LogDroppedReply(method_.full_name(), peer(),
                              RequestIdOf(context_), size);
            }
            context_.TryCancel();
          };
        }
        backlog_->Hold(
            size, [this] { return peer(); }, unread_, std::move(drop));
      }
    } else {
      writer_.FinishWithError(status, this);
    }
    Release();
  }

  void Proceed(bool ok) override {
    if (arrived_) {  // The answer is sent (or the call gone).
      answer_sent_ = ok;
      return Release();
    }
    if (!ok) {  // The server shut down before the call arrived.
      delete this;
      return;
    }
    arrived_ = true;
    live_calls_ = method_.live_calls();
    if (live_calls_ != nullptr) {
      live_calls_->fetch_add(1, std::memory_order_relaxed);
    }
    metrics_ = method_.metrics();
    if (metrics_ != nullptr) started_ = metrics_->Started();
    // Once the server shuts down, this request fails at once (not ok).
    Await(method_, queue_);
    backlog_ = method_.reply_backlog();
    if (backlog_ != nullptr) {
      if (absl::Status refused = backlog_->Admit([this] { return peer(); });
          !refused.ok()) {
        return Finish(ToGrpcStatus(refused), Response());
      }
    }
    if (absl::Status undecodable = ParseRequest(received_, request_);
        !undecodable.ok()) {
      return Finish(ToGrpcStatus(undecodable), Response());
    }
    method_.OnCall(*this);
  }

 private:
  // What gRPC hands `done_`: the call is over, answered or not.
  class DoneTag final : public CompletionQueueTag {
   public:
    explicit DoneTag(AsyncUnaryCall& call) : call_(call) {}
    // gRPC also cancels a call at its deadline, which the store watches
    // itself: that one stays DEADLINE_EXCEEDED, and a list waiting for a
    // slot is refused as at a deadline.
    void Proceed(bool /*ok*/) override {
      if (call_.context_.IsCancelled() &&
          call_.context_.deadline() > std::chrono::system_clock::now()) {
        call_.cancellation_.Cancel();
      }
      call_.Release();
    }

   private:
    AsyncUnaryCall& call_;
  };

  AsyncUnaryCall(const Method& method, grpc::ServerCompletionQueue& queue)
      : method_(method),
        queue_(queue),
        writer_(&context_),
        owners_(method.watches_cancellation() ? 2 : 1) {}

  // Once gRPC is done with the answer: a reply dropped before it was sent
  // counts as CANCELLED, what its client saw, not as the OK its handler
  // returned (one dropped on its way out may still have arrived whole).
  ~AsyncUnaryCall() {
    if (live_calls_ != nullptr) {
      live_calls_->fetch_sub(1, std::memory_order_release);
    }
    if (counted_when_released_) {
      const bool dropped = unread_.Close();
      metrics_->Count(counted_latency_, dropped && !answer_sent_
                                            ? grpc::StatusCode::CANCELLED
                                            : grpc::StatusCode::OK);
    }
  }

  void Release() {
    if (owners_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  std::string peer() const { return context_.peer(); }

  const Method& method_;
  grpc::ServerCompletionQueue& queue_;
  grpc::ServerContext context_;
  grpc::ByteBuffer received_;  // the request's bytes, until parsed
  Request request_;
  grpc::ServerAsyncResponseWriter<Response> writer_;
  bool arrived_ = false;
  std::atomic<int>* live_calls_ = nullptr;
  MethodMetrics* metrics_ = nullptr;
  MethodMetrics::Clock::time_point started_;
  ReplyBacklog* backlog_ = nullptr;
  ReplyBacklog::Ticket unread_;  // released with the call, once it is sent
  // Its metrics, when counted as gRPC is done with it.
  bool counted_when_released_ = false;
  MethodMetrics::Clock::duration counted_latency_{};
  bool answer_sent_ = false;
  CallCancellation cancellation_;
  DoneTag done_{*this};
  // Until Finish: the call's handling and done_ (when watched); then also
  // the answer's Proceed.
  std::atomic<int> owners_;
};

}  // namespace tasks::service

#endif  // TASKS_SERVICE_ASYNC_UNARY_CALL_H_
