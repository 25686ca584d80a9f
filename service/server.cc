#include "service/server.h"

#include <grpcpp/ext/channelz_service_plugin.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/impl/codegen/completion_queue_tag.h>
#include <grpcpp/resource_quota.h>
#include <prometheus/exposer.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "service/call_log_interceptor.h"
#include "service/listen_address.h"
#include "service/logging.h"
#include "service/plaintext_credentials.h"
#include "service/token_auth_processor.h"

namespace tasks::service {
namespace {

absl::Status CheckConfig(const ServerConfig& config) {
  if (!config.open_store) {
    return absl::InvalidArgumentError("ServerConfig.open_store is not set");
  }
  if (!config.metrics_listen_address.empty() && config.metrics == nullptr) {
    return absl::InvalidArgumentError(
        "ServerConfig.metrics_listen_address needs ServerConfig.metrics");
  }
  if (config.max_threads < 2) {
    // The sync server keeps a thread polling for calls besides workers.
    return absl::InvalidArgumentError("max_threads must be at least 2");
  }
  if (config.max_concurrent_lists < 1) {
    return absl::InvalidArgumentError(
        "max_concurrent_lists must be at least 1");
  }
  if (config.completion_queues < 1) {
    return absl::InvalidArgumentError("completion_queues must be at least 1");
  }
  if (config.max_receive_message_bytes <= 0 ||
      config.max_send_message_bytes <= 0 || config.max_health_watches <= 0 ||
      config.keepalive_time <= absl::ZeroDuration() ||
      config.keepalive_timeout <= absl::ZeroDuration() ||
      config.min_client_ping_interval <= absl::ZeroDuration() ||
      config.max_ping_strikes < 0 ||
      config.max_connection_idle <= absl::ZeroDuration() ||
      config.max_connection_age <= absl::ZeroDuration() ||
      config.max_connection_age_grace < absl::ZeroDuration() ||
      config.handshake_timeout <= absl::ZeroDuration() ||
      config.max_streams_per_connection <= 0 ||
      config.network_memory_bytes < 0 ||
      config.max_unread_reply_bytes_per_connection <= 0 ||
      config.max_unread_reply_bytes <= 0 ||
      config.health_probe_interval <= absl::ZeroDuration() ||
      config.health_probe_timeout <= absl::ZeroDuration() ||
      config.drain_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "ServerConfig sizes and durations must be positive");
  }
  return absl::OkStatus();
}

// gRPC's int milliseconds, where INT_MAX means no limit.
int Milliseconds(absl::Duration duration) {
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(duration),
                                            std::numeric_limits<int>::max()));
}

void ApplyHardening(const ServerConfig& config, grpc::ServerBuilder& builder) {
  builder.SetMaxReceiveMessageSize(config.max_receive_message_bytes);
  builder.SetMaxSendMessageSize(config.max_send_message_bytes);
  // gRPC 1.51 inflates a compressed message whole before it compares its
  // size with the limit: 1 MB of gzip became 1 GB of memory, even for an
  // unauthenticated health check. Only identity is accepted; a compressed
  // request is UNIMPLEMENTED before its message is read.
  builder.SetCompressionAlgorithmSupportStatus(GRPC_COMPRESS_DEFLATE, false);
  builder.SetCompressionAlgorithmSupportStatus(GRPC_COMPRESS_GZIP, false);
  // Two servers on one port would silently split the clients (and share a
  // SQLite file): binding a port in use must fail instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             Milliseconds(config.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             Milliseconds(config.keepalive_timeout));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      Milliseconds(config.min_client_ping_interval));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES,
                             config.max_ping_strikes);
  // Calls waiting for a completion-queue thread wait inside gRPC: one
  // connection may not pile up more than this many.
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             config.max_streams_per_connection);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             Milliseconds(config.max_connection_idle));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                             Milliseconds(config.max_connection_age));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                             Milliseconds(config.max_connection_age_grace));
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                             Milliseconds(config.handshake_timeout));
  grpc::ResourceQuota quota("task_server");
  quota.SetMaxThreads(config.max_threads);
  if (config.network_memory_bytes > 0) {
    quota.Resize(static_cast<size_t>(config.network_memory_bytes));
  }
  builder.SetResourceQuota(quota);
}

// The listening port's credentials; with tokens, they refuse a TaskService
// call without one as soon as its headers arrive.
std::shared_ptr<grpc::ServerCredentials> PortCredentials(
    const ServerConfig& config) {
  if (config.auth_tokens == nullptr) {
    return config.credentials ? config.credentials
                              : grpc::InsecureServerCredentials();
  }
  std::shared_ptr<grpc::ServerCredentials> credentials =
      config.credentials ? config.credentials : PlaintextServerCredentials();
  credentials->SetAuthMetadataProcessor(std::make_shared<TokenAuthProcessor>(
      config.auth_tokens, config.metrics.get()));
  return credentials;
}

AsyncTaskService::Options FrontOptions(const ServerConfig& config) {
  AsyncTaskService::Options options;
  options.completion_queues = config.completion_queues;
  options.max_workers = config.max_threads;
  options.max_concurrent_lists = config.max_concurrent_lists;
  options.reads_on_queue_threads = config.reads_on_queue_threads;
  options.metrics = config.metrics.get();
  options.watchers.max_watchers = config.max_watchers;
  options.watchers.max_watchers_per_principal =
      config.max_watchers_per_principal;
  options.unread_replies = {
      .per_connection_bytes = config.max_unread_reply_bytes_per_connection,
      .total_bytes = config.max_unread_reply_bytes};
  return options;
}

ChangeFeed::Options FeedOptions(const ServerConfig& config) {
  ChangeFeed::Options options;
  options.poll_interval = config.watch_poll_interval;
  options.retention = config.watch_retention;
  return options;
}

// How long a WatchTasks client that does not read gets, at shutdown, to take
// its last event before its stream is cancelled.
constexpr absl::Duration kWatchShutdownGrace = absl::Seconds(1);
// How often the drain checks whether a call is left.
constexpr absl::Duration kIdlePollInterval = absl::Milliseconds(10);

// The tag of the shutdown notice the drain asks gRPC's core for: a C++ queue
// hands its events to their tags, and this one is dropped, as gRPC's own
// shutdown tag is (the notice is not waited for: Server::Shutdown waits).
class DroppedShutdownTag final : public grpc::internal::CompletionQueueTag {
 public:
  bool FinalizeResult(void** /*tag*/, bool* /*status*/) override {
    return false;
  }
};
// After the drain: the calls whose statements were just cancelled answer in
// this time with their own status (UNAVAILABLE, reason DATABASE_UNAVAILABLE),
// before gRPC cancels what is left with its bare "Cancelling all calls".
constexpr absl::Duration kCancelledCallsGrace = absl::Seconds(1);

// Plaintext is for loopback: anywhere else, say so loudly.
void WarnIfPlaintextOnNetwork(const ServerConfig& config) {
  if (config.credentials != nullptr || config.listen_address.empty() ||
      IsLoopbackAddress(config.listen_address)) {
    return;
  }
  Log(LogLevel::kWarning,
      absl::StrCat(
          "INSECURE: serving plaintext on \"", config.listen_address,
          "\", which is reachable from the network: requests, data",
          config.auth_tokens != nullptr ? " and bearer tokens" : "",
          " travel unencrypted. Set --tls_cert and --tls_key, or listen on "
          "localhost behind a TLS-terminating proxy."));
}

}  // namespace

TaskServer::TaskServer(ServerConfig config)
    : config_(std::move(config)),
      feed_(store_, FeedOptions(config_)),
      service_(
          store_, config_.auth_tokens.get(),
          [this](std::optional<int64_t> project) { feed_.Notify(project); }),
      health_({std::string(v1::TaskService::service_full_name())},
              config_.max_health_watches),
      front_(service_, health_, [this] {
        AsyncTaskService::Options options = FrontOptions(config_);
        options.feed = &feed_;
        return options;
      }()) {}

TaskServer::~TaskServer() { Shutdown(); }

absl::StatusOr<std::unique_ptr<TaskServer>> TaskServer::Start(
    ServerConfig config) {
  if (absl::Status status = CheckConfig(config); !status.ok()) return status;
  static std::once_flag reflection_once;
  std::call_once(reflection_once, [] {
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  });
  if (config.channelz) {
    static std::once_flag channelz_once;
    std::call_once(channelz_once,
                   [] { grpc::channelz::experimental::InitChannelzService(); });
  }
  // HealthService replaces gRPC's own, which runs threads of its own.
  grpc::EnableDefaultHealthCheckService(false);

  std::unique_ptr<TaskServer> server(new TaskServer(std::move(config)));
  const ServerConfig& cfg = server->config_;
  grpc::ServerBuilder builder;
  if (!cfg.listen_address.empty()) {
    builder.AddListeningPort(cfg.listen_address, PortCredentials(cfg),
                             &server->port_);
  }
  server->front_.AddTo(builder);
  ApplyHardening(cfg, builder);
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(
      std::make_unique<CallLogInterceptorFactory>(cfg.auth_tokens.get()));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));

  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on \"", cfg.listen_address,
        "\": the address is in use by another process, or is not a valid "
        "host:port"));
  }
  server->front_.Start();
  WarnIfPlaintextOnNetwork(cfg);
  if (!cfg.metrics_listen_address.empty()) {
    absl::StatusOr<std::unique_ptr<prometheus::Exposer>> http =
        cfg.metrics->Serve(cfg.metrics_listen_address);
    if (!http.ok()) return http.status();
    server->metrics_http_ = *std::move(http);
    Log(LogLevel::kInfo, absl::StrCat("metrics on http://",
                                      cfg.metrics_listen_address, "/metrics"));
  }
  server->monitor_ = std::make_unique<StoreMonitor>(
      server->store_, cfg.open_store, cfg.health_probe_interval,
      cfg.health_probe_timeout,
      [raw = server.get()](bool serving) { raw->SetServing(serving); });
  if (absl::Status status = server->monitor_->Start(); !status.ok()) {
    return status;  // Destroying the server shuts it down.
  }
  if (server->port_ > 0) {
    Log(LogLevel::kInfo,
        absl::StrCat("listening on ", cfg.listen_address, " (port ",
                     server->port_, ", ",
                     cfg.credentials != nullptr ? "TLS" : "plaintext",
                     cfg.auth_tokens != nullptr ? ", bearer tokens required"
                                                : ", no authentication",
                     ")"));
  }
  return server;
}

void TaskServer::SetServing(bool serving) {
  health_.SetServing(serving);
  if (config_.metrics != nullptr) config_.metrics->SetServing(serving);
}

std::shared_ptr<grpc::Channel> TaskServer::InProcessChannel() {
  return server_->InProcessChannel(grpc::ChannelArguments());
}

void TaskServer::CloseConnectionsOnceIdle(
    const std::shared_ptr<const std::atomic<int>>& unmarked,
    absl::Time deadline, absl::Notification& drained) {
  // A call gRPC accepted before its shutdown began is counted once its queue
  // thread takes it up: before the marker queued behind it.
  while (absl::Now() < deadline && !drained.HasBeenNotified()) {
    if (unmarked->load(std::memory_order_acquire) == 0 &&
        front_.live_calls() == 0) {
      grpc_server_cancel_all_calls(server_->c_server());
      return;
    }
    drained.WaitForNotificationWithTimeout(kIdlePollInterval);
  }
}

void TaskServer::Shutdown() {
  absl::MutexLock shutdown_lock(&shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  if (server_ != nullptr) Log(LogLevel::kInfo, "shutting down: draining calls");
  // Every status NOT_SERVING, and frozen: the monitor cannot undo it.
  health_.Shutdown();
  // The metric follows health, which is frozen NOT_SERVING from here on
  // (set again once the monitor, which may still report, has stopped).
  if (config_.metrics != nullptr) config_.metrics->SetServing(false);
  // Streams never end by themselves: they would hold the drain up.
  front_.ShutdownWatchers(std::min(kWatchShutdownGrace, config_.drain_timeout));
  const absl::Time drain_deadline = absl::Now() + config_.drain_timeout;
  // gRPC's shutdown waits for every connection to close as well, and one
  // whose client stopped (or never reads) does not: once no call is left
  // the connections are closed, rather than waited for until the deadline.
  // That takes the shutdown begun, before the canceller may close them.
  grpc::CompletionQueue shutdown_queue;
  DroppedShutdownTag shutdown_tag;
  if (server_ != nullptr) {
    grpc_server_shutdown_and_notify(server_->c_server(), shutdown_queue.cq(),
                                    &shutdown_tag);
  }
  // Here, while the queues still run (front_.Stop() shuts them down).
  std::shared_ptr<const std::atomic<int>> unmarked =
      server_ != nullptr ? front_.MarkQueues() : nullptr;
  // A store call running on a worker (but a list's) would not notice gRPC
  // cancelling its call: its statement is cancelled here at the deadline,
  // and gRPC's own cancelling waits kCancelledCallsGrace longer for the
  // call's answer.
  absl::Notification drained;
  std::thread canceller([this, drain_deadline, &drained, &unmarked] {
    if (unmarked != nullptr) {
      CloseConnectionsOnceIdle(unmarked, drain_deadline, drained);
    }
    if (drained.WaitForNotificationWithDeadline(drain_deadline)) return;
    Log(LogLevel::kWarning,
        "drain timeout: cancelling the database calls still running");
    store_.CancelCalls();
  });
  if (server_ != nullptr) {
    server_->Shutdown(
        absl::ToChronoTime(drain_deadline + kCancelledCallsGrace));
    server_->Wait();
  }
  front_.Stop();
  drained.Notify();
  canceller.join();
  // Its one event, dropped, has come: Server::Shutdown returned.
  shutdown_queue.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (shutdown_queue.Next(&tag, &ok)) {
  }
  // After the calls: a probe under way is bounded by its own deadline.
  if (monitor_ != nullptr) monitor_->Stop();
  if (config_.metrics != nullptr) config_.metrics->SetServing(false);
  store_.Close();
  if (server_ != nullptr) Log(LogLevel::kInfo, "shut down");
}

}  // namespace tasks::service
