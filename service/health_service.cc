#include "service/health_service.h"

#include <algorithm>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/error_reason.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "service/async_unary_call.h"
#include "service/completion_queue_tag.h"
#include "service/received_requests.h"
#include "service/status_util.h"

namespace tasks::service {
namespace health_internal {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using ServingStatus = HealthCheckResponse::ServingStatus;

class WatchCall;
struct HealthState;

// Check: answered on arrival, on the queue thread.
class CheckMethod final
    : public UnaryMethod<HealthCheckRequest, HealthCheckResponse> {
 public:
  explicit CheckMethod(HealthState& state) : state_(state) {}

  absl::string_view full_name() const override {
    return "/grpc.health.v1.Health/Check";
  }

  void RequestCall(grpc::ServerContext* context, grpc::ByteBuffer* request,
                   grpc::ServerAsyncResponseWriter<HealthCheckResponse>* writer,
                   grpc::ServerCompletionQueue& queue,
                   void* tag) const override;
  void OnCall(AsyncUnaryCall<HealthCheckRequest, HealthCheckResponse>& call)
      const override;

 private:
  HealthState& state_;
};

struct HealthState {
  HealthState(std::vector<std::string> names, int max_watches)
      : services(std::move(names)), max_watches(max_watches) {
    services.push_back("");  // The server as a whole.
  }

  bool Known(const std::string& service) const {
    return std::find(services.begin(), services.end(), service) !=
           services.end();
  }

  ServingStatus StatusOf(const std::string& service) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return StatusOf(Known(service));
  }

  ServingStatus StatusOf(bool known) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (!known) return HealthCheckResponse::SERVICE_UNKNOWN;
    return serving && !shut_down ? HealthCheckResponse::SERVING
                                 : HealthCheckResponse::NOT_SERVING;
  }

  std::vector<std::string> services;
  const int max_watches;
  ReceivedRequests<grpc::health::v1::Health> async_service;
  const int check_index = async_service.MethodIndex("Check");
  const int watch_index = async_service.MethodIndex("Watch");
  const CheckMethod check{*this};
  absl::Mutex mu;
  bool serving ABSL_GUARDED_BY(mu) = false;
  bool shut_down ABSL_GUARDED_BY(mu) = false;
  // The Watch streams open (started, and not over yet).
  absl::flat_hash_set<WatchCall*> watches ABSL_GUARDED_BY(mu);
};

void CheckMethod::RequestCall(
    grpc::ServerContext* context, grpc::ByteBuffer* request,
    grpc::ServerAsyncResponseWriter<HealthCheckResponse>* writer,
    grpc::ServerCompletionQueue& queue, void* tag) const {
  state_.async_service.RequestUnary(state_.check_index, context, request,
                                    writer, &queue, tag);
}

void CheckMethod::OnCall(
    AsyncUnaryCall<HealthCheckRequest, HealthCheckResponse>& call) const {
  const std::string& service = call.request().service();
  HealthCheckResponse response;
  {
    absl::MutexLock lock(&state_.mu);
    response.set_status(state_.StatusOf(service));
  }
  if (response.status() == HealthCheckResponse::SERVICE_UNKNOWN) {
    call.Finish(grpc::Status(grpc::StatusCode::NOT_FOUND,
                             "unknown service \"" + service + "\""),
                response);
    return;
  }
  call.Finish(grpc::Status::OK, response);
}

// One Watch stream. At most one write (or the final Finish) is in flight;
// a status that changes meanwhile is sent when it completes. gRPC reports
// the end of the call (the client cancelled or went away, or the Finish was
// sent) to `done_`, which it delivers once for every call that started: the
// stream leaves `state_.watches` then, and the object is freed as soon as
// that has happened and no write is in flight, whichever comes last.
class WatchCall final : public CompletionQueueTag {
 public:
  static void Await(HealthState& state, grpc::ServerCompletionQueue& queue) {
    auto* call = new WatchCall(state, queue);
    // Must precede the request: gRPC arms it as the call starts.
    call->context_.AsyncNotifyWhenDone(&call->done_);
    state.async_service.RequestServerStreaming(
        state.watch_index, &call->context_, &call->received_, &call->writer_,
        &queue, call);
  }

  // A call arrived, or a write or the Finish completed.
  void Proceed(bool ok) override {
    // The call's arrival is its first event (writes follow Start): its
    // request is parsed then, outside the lock every stream shares.
    if (ok && !parsed_) {
      parsed_ = true;
      undecodable_ = ParseRequest(received_, request_);
    }
    bool free = false;
    {
      absl::MutexLock lock(&state_.mu);
      if (!started_) {
        // Not ok: the server shut down before a call came, and no end of
        // call will be reported for it. Ok, with `done_` already delivered
        // (gRPC does not order the two): the call is over, nothing to send.
        if (ok) Start();
        free = !ok || call_done_;
      } else {
        writing_ = false;
        // A failed write means the call is over; its end is on the way.
        if (!ok) ended_ = true;
        free = call_done_;
        SendLocked();
      }
    }
    if (free) delete this;
  }

  // Sends what the client has not seen yet: the current status, or, after
  // shutdown, the end of the stream. Does nothing while a write is in flight
  // or once the call is over.
  void SendLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu) {
    if (writing_ || finished_ || ended_) return;
    const ServingStatus status = state_.StatusOf(known_);
    if (status != sent_) {
      sent_ = status;
      response_.set_status(status);
      writing_ = true;
      writer_.Write(response_, this);
    } else if (state_.shut_down) {
      FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                "the server is shutting down"));
    }
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

  WatchCall(HealthState& state, grpc::ServerCompletionQueue& queue)
      : state_(state), queue_(queue), writer_(&context_), done_(*this) {}

  void Start() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu) {
    started_ = true;
    Await(state_, queue_);
    if (call_done_) return;  // Over already: Proceed frees it.
    if (!undecodable_.ok()) return FinishLocked(ToGrpcStatus(undecodable_));
    // Only whether the name is known is kept: a name may be up to the
    // largest request (1 MiB), which an open stream must not pin.
    known_ = state_.Known(request_.service());
    HealthCheckRequest().Swap(&request_);
    if (static_cast<int>(state_.watches.size()) >= state_.max_watches) {
      FinishLocked(ToGrpcStatus(WithReason(
          absl::ResourceExhaustedError(absl::StrCat(
              "the server already serves ", state_.max_watches,
              " health Watch streams; poll with Check, or retry later")),
          reason::kResourceExhausted)));
      return;
    }
    state_.watches.insert(this);
    SendLocked();
  }

  void FinishLocked(const grpc::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_.mu) {
    finished_ = true;
    writing_ = true;
    writer_.Finish(status, this);
  }

  void OnDone() {
    bool free = false;
    {
      absl::MutexLock lock(&state_.mu);
      call_done_ = true;
      ended_ = true;
      // Before the call's arrival was handled: Proceed frees it then.
      if (!started_) return;
      state_.watches.erase(this);
      free = !writing_;
    }
    if (free) delete this;
  }

  HealthState& state_;
  grpc::ServerCompletionQueue& queue_;
  grpc::ServerContext context_;
  grpc::ByteBuffer received_;  // the request's bytes, until parsed
  HealthCheckRequest request_;
  bool parsed_ = false;  // Proceed's own, before Start
  absl::Status undecodable_;
  HealthCheckResponse response_;
  grpc::ServerAsyncWriter<HealthCheckResponse> writer_;
  DoneTag done_;
  bool started_ = false;
  bool known_ = false;      // the service asked for is known
  bool writing_ = false;    // a Write or the Finish is in flight
  bool finished_ = false;   // the Finish was started
  bool ended_ = false;      // the call is over: nothing more may be sent
  bool call_done_ = false;  // `done_` was delivered
  // Nothing sent yet: no status equals it.
  ServingStatus sent_ = static_cast<ServingStatus>(-1);
};

}  // namespace health_internal

using health_internal::HealthState;
using health_internal::WatchCall;

HealthService::HealthService(std::vector<std::string> services, int max_watches)
    : state_(std::make_unique<HealthState>(std::move(services), max_watches)) {}

HealthService::~HealthService() = default;

grpc::Service& HealthService::async_service() { return state_->async_service; }

void HealthService::AwaitCalls(grpc::ServerCompletionQueue& queue) {
  // Load balancers and orchestrators may check often and together.
  constexpr int kChecksAwaited = 4;
  for (int i = 0; i < kChecksAwaited; ++i) {
    AsyncUnaryCall<health_internal::HealthCheckRequest,
                   health_internal::HealthCheckResponse>::Await(state_->check,
                                                                queue);
  }
  WatchCall::Await(*state_, queue);
}

int HealthService::watch_count() const {
  absl::MutexLock lock(&state_->mu);
  return static_cast<int>(state_->watches.size());
}

void HealthService::SetServing(bool serving) {
  absl::MutexLock lock(&state_->mu);
  if (state_->shut_down || state_->serving == serving) return;
  state_->serving = serving;
  for (WatchCall* watch : state_->watches) watch->SendLocked();
}

void HealthService::Shutdown() {
  absl::MutexLock lock(&state_->mu);
  state_->shut_down = true;
  for (WatchCall* watch : state_->watches) watch->SendLocked();
}

}  // namespace tasks::service
