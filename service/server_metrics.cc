#include "service/server_metrics.h"

#include <google/protobuf/stubs/common.h>
#include <grpcpp/grpcpp.h>
#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <exception>
#include <map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "service/logging.h"
#include "service/version.h"

namespace tasks::service {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

// Calls take from tens of microseconds (a read on SQLite) to the 30 s
// --max_request_deadline.
const Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* buckets = new Histogram::BucketBoundaries{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
      0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30};
  return *buckets;
}

// Waits for a pooled connection: none at all (0) is the common case.
const Histogram::BucketBoundaries& PoolWaitBuckets() {
  static const auto* buckets = new Histogram::BucketBoundaries{
      0, 0.0001, 0.001, 0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30};
  return *buckets;
}

// Writes per transaction: the group committer takes up to 128, a pipelined
// batch up to 256.
const Histogram::BucketBoundaries& GroupBuckets() {
  static const auto* buckets =
      new Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128, 256};
  return *buckets;
}

std::string CodeName(int code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

}  // namespace

// Every metric family, built once.
class ServerMetrics::Families {
 public:
  explicit Families(prometheus::Registry& registry)
      : handled(prometheus::BuildCounter()
                    .Name("grpc_server_handled_total")
                    .Help("RPCs answered, by method and status code.")
                    .Register(registry)),
        handling_seconds(
            prometheus::BuildHistogram()
                .Name("grpc_server_handling_seconds")
                .Help("Time from an RPC's arrival to its answer, by method "
                      "and status code.")
                .Register(registry)),
        in_flight(prometheus::BuildGauge()
                      .Name("grpc_server_calls_in_flight")
                      .Help("RPCs arrived and not yet answered, by method.")
                      .Register(registry)),
        worker_threads(Single(registry, "tasks_worker_threads",
                              "Worker threads started (they are kept).")),
        worker_busy(Single(registry, "tasks_worker_threads_busy",
                           "Worker threads running a call.")),
        worker_queue(Single(registry, "tasks_worker_queue_length",
                            "Calls handed to an idle worker thread that has "
                            "not started them yet.")),
        worker_rejected(
            prometheus::BuildCounter()
                .Name("tasks_worker_rejected_calls_total")
                .Help("Calls refused with RESOURCE_EXHAUSTED because every "
                      "worker thread was busy.")
                .Register(registry)
                .Add({})),
        worker_share_refused(
            prometheus::BuildCounter()
                .Name("tasks_worker_share_refused_calls_total")
                .Help("Calls refused with RESOURCE_EXHAUSTED because their "
                      "principal held its share of the worker threads (half "
                      "as many as were still free) while half of them were "
                      "in use.")
                .Register(registry)
                .Add({})),
        slots_in_use(prometheus::BuildGauge()
                         .Name("tasks_slots_in_use")
                         .Help("List or batch calls running in the store, by "
                               "slot (--max_concurrent_lists of each).")
                         .Register(registry)),
        slot_waiters(prometheus::BuildGauge()
                         .Name("tasks_slot_waiters")
                         .Help("List or batch calls waiting for a slot.")
                         .Register(registry)),
        slot_refused(prometheus::BuildCounter()
                         .Name("tasks_slot_refused_calls_total")
                         .Help("List or batch calls refused with "
                               "RESOURCE_EXHAUSTED, by slot and reason: busy "
                               "(every place to wait taken, or no slot by "
                               "their deadline), share (their principal's "
                               "share of the places taken).")
                         .Register(registry)),
        unread_reply_bytes(Single(
            registry, "tasks_unread_reply_bytes",
            "Bytes of replies sent to gRPC that their clients have not read "
            "yet (the server holds them until they do).")),
        unread_reply_refused(
            prometheus::BuildCounter()
                .Name("tasks_unread_reply_refused_calls_total")
                .Help("Calls refused with RESOURCE_EXHAUSTED (UNREAD_REPLIES) "
                      "because their connection, or the server, held too "
                      "many unread replies.")
                .Register(registry)
                .Add({})),
        unread_reply_dropped(
            prometheus::BuildCounter()
                .Name("tasks_unread_reply_dropped_calls_total")
                .Help("Read calls cancelled after their reply was built, "
                      "because the server held its total of unread replies "
                      "and theirs had waited longest.")
                .Register(registry)
                .Add({})),
        pool_max(Single(registry, "tasks_db_pool_max_connections",
                        "Most database connections the pool opens.")),
        pool_open(Single(registry, "tasks_db_pool_open_connections",
                         "Database connections open (idle or in use).")),
        pool_in_use(Single(registry, "tasks_db_pool_in_use_connections",
                           "Database connections leased to a call.")),
        pipeline_max(
            Single(registry, "tasks_db_pipeline_max_connections",
                   "Connections kept for pipelined statements (PostgreSQL's "
                   "GetTask and CreateTask); 0 on SQLite.")),
        pipeline_ready(
            Single(registry, "tasks_db_pipeline_ready_connections",
                   "Pipelined connections up; with none, their calls take the "
                   "pool.")),
        pool_wait(SingleHistogram(registry, "tasks_db_pool_wait_seconds",
                                  "How long each call waited for a pooled "
                                  "database connection (0: one was free).",
                                  PoolWaitBuckets())),
        group_writes(SingleHistogram(
            registry, "tasks_db_group_commit_writes",
            "Writes per committed transaction: SQLite's group commits, "
            "PostgreSQL's pipelined batches of creates (1: the write ran "
            "alone).",
            GroupBuckets())),
        serving(Single(registry, "tasks_health_serving",
                       "1 while the health service reports SERVING, else "
                       "0.")),
        watchers_open(Single(registry, "tasks_watchers_open",
                             "WatchTasks streams open.")),
        unauthenticated_refused(
            prometheus::BuildCounter()
                .Name("tasks_unauthenticated_refused_calls_total")
                .Help("TaskService calls refused with UNAUTHENTICATED as "
                      "their headers arrived (no bearer token, or an unknown "
                      "one), before their message was read; no handler ran, "
                      "so they are not in grpc_server_handled_total.")
                .Register(registry)
                .Add({})),
        log_lines_dropped(
            prometheus::BuildCounter()
                .Name("tasks_log_lines_dropped_total")
                .Help("Log lines dropped because stderr was too slow (a "
                      "stuck log collector) or failed.")
                .Register(registry)
                .Add({})) {
    prometheus::BuildGauge()
        .Name("tasks_build_info")
        .Help(
            "Always 1; the labels name the server's version, its API and "
            "the library versions.")
        .Register(registry)
        .Add({{"version", kVersion},
              {"api", "tasks.v1"},
              {"grpc_version", grpc::Version()},
              {"protobuf_version", google::protobuf::internal::VersionString(
                                       GOOGLE_PROTOBUF_VERSION)}})
        .Set(1);
  }

  Family<Counter>& handled;
  Family<Histogram>& handling_seconds;
  Family<Gauge>& in_flight;
  Gauge& worker_threads;
  Gauge& worker_busy;
  Gauge& worker_queue;
  Counter& worker_rejected;
  Counter& worker_share_refused;
  Family<Gauge>& slots_in_use;
  Family<Gauge>& slot_waiters;
  Family<Counter>& slot_refused;
  Gauge& unread_reply_bytes;
  Counter& unread_reply_refused;
  Counter& unread_reply_dropped;
  Gauge& pool_max;
  Gauge& pool_open;
  Gauge& pool_in_use;
  Gauge& pipeline_max;
  Gauge& pipeline_ready;
  Histogram& pool_wait;
  Histogram& group_writes;
  Gauge& serving;
  Gauge& watchers_open;
  Counter& unauthenticated_refused;
  Counter& log_lines_dropped;

 private:
  static Gauge& Single(prometheus::Registry& registry, const char* name,
                       const char* help) {
    return prometheus::BuildGauge()
        .Name(name)
        .Help(help)
        .Register(registry)
        .Add({});
  }

  static Histogram& SingleHistogram(
      prometheus::Registry& registry, const char* name, const char* help,
      const Histogram::BucketBoundaries& buckets) {
    return prometheus::BuildHistogram()
        .Name(name)
        .Help(help)
        .Register(registry)
        .Add({}, buckets);
  }
};

class ServerMetrics::StoreAdapter final : public storage::StoreObserver {
 public:
  explicit StoreAdapter(Families& families) : families_(families) {}

  void OnPoolChanged(int size, int open, int in_use) override {
    families_.pool_max.Set(size);
    families_.pool_open.Set(open);
    families_.pool_in_use.Set(in_use);
  }
  void OnPoolWait(absl::Duration wait) override {
    families_.pool_wait.Observe(absl::ToDoubleSeconds(wait));
  }
  void OnGroupCommit(int writes) override {
    families_.group_writes.Observe(writes);
  }
  void OnPipelineChanged(int connections, int ready) override {
    families_.pipeline_max.Set(connections);
    families_.pipeline_ready.Set(ready);
  }

 private:
  Families& families_;
};

// The registry as scraped: figures kept elsewhere are read in first.
class ServerMetrics::ScrapeHooks final : public prometheus::Collectable {
 public:
  explicit ScrapeHooks(std::shared_ptr<prometheus::Registry> registry)
      : registry_(std::move(registry)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    absl::MutexLock lock(&mu_);
    for (auto& [id, hook] : hooks_) hook();
    return registry_->Collect();
  }

  // Runs `hook` before every Collect() until the handle goes.
  std::shared_ptr<void> Add(std::function<void()> hook) {
    absl::MutexLock lock(&mu_);
    const int id = next_id_++;
    hooks_.emplace(id, std::move(hook));
    return std::shared_ptr<void>(nullptr, [this, id](void*) {
      absl::MutexLock lock(&mu_);
      hooks_.erase(id);
    });
  }

 private:
  const std::shared_ptr<prometheus::Registry> registry_;
  mutable absl::Mutex mu_;  // Also keeps hooks from running concurrently.
  std::map<int, std::function<void()>> hooks_ ABSL_GUARDED_BY(mu_);
  int next_id_ ABSL_GUARDED_BY(mu_) = 0;
};

ServerMetrics::ServerMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      families_(std::make_unique<Families>(*registry_)),
      store_adapter_(std::make_unique<StoreAdapter>(*families_)),
      scraped_(std::make_shared<ScrapeHooks>(registry_)),
      log_watched_(scraped_->Add([this, reported = int64_t{0}]() mutable {
        const int64_t dropped = LogLinesDropped();
        families_->log_lines_dropped.Increment(
            static_cast<double>(dropped - reported));
        reported = dropped;
      })) {}

ServerMetrics::~ServerMetrics() = default;

MethodMetrics& ServerMetrics::ForMethod(absl::string_view service,
                                        absl::string_view method) {
  const std::map<std::string, std::string> labels = {
      {"grpc_service", std::string(service)},
      {"grpc_method", std::string(method)}};
  // Every code's counter exists from the start, at 0, so that rates and
  // alerts on a code work before its first occurrence.
  std::array<Counter*, MethodMetrics::kCodes> handled;
  for (int code = 0; code < MethodMetrics::kCodes; ++code) {
    auto with_code = labels;
    with_code.emplace("grpc_code", CodeName(code));
    handled[code] = &families_->handled.Add(with_code);
  }
  absl::MutexLock lock(&mu_);
  methods_.push_back(std::unique_ptr<MethodMetrics>(new MethodMetrics(
      std::string(service), std::string(method),
      families_->in_flight.Add(labels), handled, families_->handling_seconds)));
  return *methods_.back();
}

storage::StoreObserver& ServerMetrics::store_observer() {
  return *store_adapter_;
}

std::shared_ptr<void> ServerMetrics::WatchWorkerPool(const WorkerPool& pool) {
  return scraped_->Add([this, &pool, reported = WorkerPool::Stats()]() mutable {
    const WorkerPool::Stats stats = pool.stats();
    families_->worker_threads.Set(stats.threads);
    families_->worker_busy.Set(stats.busy);
    families_->worker_queue.Set(stats.queued);
    families_->worker_rejected.Increment(
        static_cast<double>(stats.rejected - reported.rejected));
    families_->worker_share_refused.Increment(
        static_cast<double>(stats.over_share - reported.over_share));
    reported = stats;
  });
}

std::shared_ptr<void> ServerMetrics::WatchReplyBacklog(
    const ReplyBacklog& backlog) {
  return scraped_->Add([this, &backlog,
                        reported = ReplyBacklog::Stats()]() mutable {
    const ReplyBacklog::Stats stats = backlog.stats();
    families_->unread_reply_bytes.Set(static_cast<double>(stats.unread_bytes));
    families_->unread_reply_refused.Increment(
        static_cast<double>(stats.refused - reported.refused));
    families_->unread_reply_dropped.Increment(
        static_cast<double>(stats.dropped - reported.dropped));
    reported = stats;
  });
}

std::shared_ptr<void> ServerMetrics::WatchSlots(std::string slot,
                                                const ConcurrencyLimit& limit) {
  return scraped_->Add(
      [&limit, in_use = &families_->slots_in_use.Add({{"slot", slot}}),
       waiters = &families_->slot_waiters.Add({{"slot", slot}}),
       busy =
           &families_->slot_refused.Add({{"slot", slot}, {"reason", "busy"}}),
       share =
           &families_->slot_refused.Add({{"slot", slot}, {"reason", "share"}}),
       reported = ConcurrencyLimit::Stats()]() mutable {
        const ConcurrencyLimit::Stats stats = limit.stats();
        in_use->Set(stats.in_use);
        waiters->Set(stats.waiting);
        busy->Increment(static_cast<double>(stats.refused - reported.refused));
        share->Increment(
            static_cast<double>(stats.over_share - reported.over_share));
        reported = stats;
      });
}

void ServerMetrics::SetServing(bool serving) {
  families_->serving.Set(serving ? 1 : 0);
}

void ServerMetrics::SetOpenWatchers(int open) {
  families_->watchers_open.Set(open);
}

void ServerMetrics::CountUnauthenticatedRefusal() {
  families_->unauthenticated_refused.Increment();
}

std::string ServerMetrics::Scrape() {
  return prometheus::TextSerializer().Serialize(scraped_->Collect());
}

absl::StatusOr<std::unique_ptr<prometheus::Exposer>> ServerMetrics::Serve(
    const std::string& address) {
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>(address, 1);
  } catch (const std::exception& error) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on \"", address,
                     "\": the address is in use or is not a valid host:port (",
                     error.what(), ")"));
  }
  exposer->RegisterCollectable(scraped_);
  return exposer;
}

MethodMetrics::MethodMetrics(std::string service, std::string method,
                             Gauge& in_flight,
                             const std::array<Counter*, kCodes>& handled,
                             Family<Histogram>& latency)
    : service_(std::move(service)),
      method_(std::move(method)),
      in_flight_(in_flight),
      handled_(handled),
      latency_family_(latency) {}

MethodMetrics::Clock::time_point MethodMetrics::Started() {
  in_flight_.Increment();
  return Clock::now();
}

MethodMetrics::Clock::duration MethodMetrics::Answered(
    Clock::time_point started) {
  in_flight_.Decrement();
  return Clock::now() - started;
}

void MethodMetrics::Count(Clock::duration latency, grpc::StatusCode code) {
  int index = static_cast<int>(code);
  if (index < 0 || index >= kCodes) index = grpc::StatusCode::UNKNOWN;
  handled_[index]->Increment();
  Latency(index).Observe(std::chrono::duration<double>(latency).count());
}

Histogram& MethodMetrics::Latency(int code) {
  Histogram* histogram = latency_[code].load(std::memory_order_acquire);
  if (histogram == nullptr) {
    // Threads racing here get the same histogram: Family::Add returns the
    // existing one (tests/ops/server_metrics_test.cc checks it).
    histogram = &latency_family_.Add({{"grpc_service", service_},
                                      {"grpc_method", method_},
                                      {"grpc_code", CodeName(code)}},
                                     LatencyBuckets());
    latency_[code].store(histogram, std::memory_order_release);
  }
  return *histogram;
}

}  // namespace tasks::service
