#include "fuzz/task_service_fuzz_target.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/test/server_context_test_spouse.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/error_reason.h"
#include "fuzz/service_invariants.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/util/json_util.h"
#include "service/auth.h"
#include "service/logging.h"
#include "service/status_util.h"
#include "service/task_service_impl.h"
#include "service/watch_cursor.h"
#include "storage/soci_task_store.h"

namespace tasks::fuzz {
namespace {

using service::TaskServiceImpl;

// Who makes the call, numbered as in the header.
enum class Caller { kNoAuth, kAdmin, kProjectOne, kAnonymous };

constexpr char kAdminToken[] = "admin-token-0123456789";
constexpr char kProjectOneToken[] = "blue-token-0123456789ab";

const service::TokenTable& Tokens() {
  static const auto* const kTokens = [] {
    absl::StatusOr<service::TokenTable> tokens = service::TokenTable::Parse(
        absl::StrCat(kAdminToken, " admin *\n", kProjectOneToken, " blue 1\n"));
    if (!tokens.ok()) {
      std::fprintf(stderr, "fuzz target tokens: %s\n",
                   tokens.status().ToString().c_str());
      std::abort();
    }
    return new service::TokenTable(*std::move(tokens));
  }();
  return *kTokens;
}

CallerView ViewOf(Caller caller) {
  CallerView view;
  view.authenticated = caller != Caller::kAnonymous;
  if (caller == Caller::kProjectOne) view.only_project = 1;
  return view;
}

// A fresh in-memory database with the seed rows (see the header), and the
// service over it with and without auth.
class World {
 public:
  World() {
    absl::StatusOr<storage::TaskStorePtr> store =
        storage::OpenSociTaskStore(":memory:");
    Require(store.status(), "opening the store");
    store_ = *std::move(store);
    AddProject("Home", "");
    AddProject("Work", "office");
    AddTask(R"({"title": "Write tests", "projectId": "1", "priority": "HIGH",
                "metadata": {"tags": ["a", "b"], "n": 1,
                             "owner": {"name": "ann"}}})",
            "seed-1");
    AddTask(R"({"title": "Ship", "projectId": "2", "status": "IN_PROGRESS"})",
            "");
    AddTask(R"({"title": "Loose"})", "");
    open_ = std::make_unique<TaskServiceImpl>(*store_);
    authenticated_ = std::make_unique<TaskServiceImpl>(*store_, &Tokens());
  }

  storage::TaskStore& store() { return *store_; }
  const SeedRows& seeds() const { return seeds_; }

  // One write of each kind, as a caller with every project would make
  // them: an update of task 1, a create in project 2, the delete of task 3,
  // and project 2's cascade.
  void WriteEachKind() {
    v1::Task renamed = seeds_.tasks[0];
    renamed.set_title("Write more tests");
    google::protobuf::FieldMask mask;
    mask.add_paths("title");
    Require(
        store_->UpdateTask(renamed, mask, storage::AccessScope::All()).status(),
        "updating a task");
    v1::Task added;
    added.set_title("Added");
    added.set_project_id(seeds_.projects[1].id());
    Require(store_->CreateTask(added, "").status(), "creating a task");
    Require(
        store_->DeleteTask(seeds_.tasks[2].id(), storage::AccessScope::All()),
        "deleting a task");
    Require(store_->DeleteProject(seeds_.projects[1].id(), /*cascade=*/true),
            "deleting a project");
  }
  TaskServiceImpl& service(Caller caller) {
    return caller == Caller::kNoAuth ? *open_ : *authenticated_;
  }

 private:
  static void Require(const absl::Status& status, const char* what) {
    if (status.ok()) return;
    std::fprintf(stderr, "fuzz target setup, %s: %s\n", what,
                 status.ToString().c_str());
    std::abort();
  }

  void AddProject(const char* name, const char* description) {
    v1::Project project;
    project.set_name(name);
    project.set_description(description);
    absl::StatusOr<v1::Project> created = store_->CreateProject(project);
    Require(created.status(), "seeding a project");
    seeds_.projects.push_back(*std::move(created));
  }

  void AddTask(const char* json, const char* request_id) {
    v1::Task task;
    if (!google::protobuf::util::JsonStringToMessage(json, &task).ok()) {
      Require(absl::InternalError(json), "parsing a seed task");
    }
    absl::StatusOr<v1::Task> created = store_->CreateTask(task, request_id);
    Require(created.status(), "seeding a task");
    seeds_.tasks.push_back(*std::move(created));
  }

  storage::TaskStorePtr store_;
  SeedRows seeds_;
  std::unique_ptr<TaskServiceImpl> open_;
  std::unique_ptr<TaskServiceImpl> authenticated_;
};

template <typename Request, typename Response>
using Method = grpc::Status (TaskServiceImpl::*)(grpc::ServerContext*,
                                                 const Request*, Response*);

// A server context with the metadata `caller` sends over gRPC (the spouse
// keeps the metadata's bytes: it lives as long as the context).
class CallerContext {
 public:
  explicit CallerContext(Caller caller) {
    if (caller == Caller::kAdmin) {
      spouse_.AddClientMetadata("authorization",
                                absl::StrCat("Bearer ", kAdminToken));
    } else if (caller == Caller::kProjectOne) {
      spouse_.AddClientMetadata("authorization",
                                absl::StrCat("Bearer ", kProjectOneToken));
    }
  }

  grpc::ServerContext* get() { return &context_; }

 private:
  grpc::ServerContext context_;
  grpc::testing::ServerContextTestSpouse spouse_{&context_};
};

// Calls `method` as `caller` would over gRPC.
template <typename Request, typename Response>
grpc::Status Invoke(World& world, Caller caller,
                    Method<Request, Response> method, const Request& request,
                    Response* response) {
  CallerContext context(caller);
  return (world.service(caller).*method)(context.get(), &request, response);
}

// Up to this many further pages of a list are fetched and checked.
constexpr int kMorePages = 2;

template <typename Request, typename Response, Method<Request, Response> kCall>
void Run(Caller caller, absl::string_view bytes) {
  Request request;
  // What gRPC does with the bytes of a request.
  if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return;
  }
  World world;
  Invariants invariants(world.store(), world.seeds(), ViewOf(caller));
  Response response;
  grpc::Status status = Invoke(world, caller, kCall, request, &response);
  invariants.Check(request, status, response);
  if constexpr (std::is_same_v<Request, v1::ListTasksRequest> ||
                std::is_same_v<Request, v1::ListProjectsRequest>) {
    for (int page = 0; status.ok() && !response.next_page_token().empty() &&
                       page < kMorePages;
         ++page) {
      Request next_request = request;
      next_request.set_page_token(response.next_page_token());
      Response next;
      status = Invoke(world, caller, kCall, next_request, &next);
      invariants.Check(next_request, status, next);
      if (status.ok()) invariants.CheckNextPage(request, response, next);
      response = std::move(next);
    }
  }
}

// Most events of one fuzzed WatchTasks stream: then its client "cancels".
constexpr int kWatchEvents = 4;

// WatchTasks, bounded: the stream is prepared as the server prepares it
// (TaskServiceImpl::PrepareWatch), one write of each kind follows, and the
// events the stream would send next (its WatchCursor over the change log)
// are checked, up to kWatchEvents of them.
void RunWatch(Caller caller, absl::string_view bytes) {
  v1::WatchTasksRequest request;
  if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return;
  }
  World world;
  Invariants invariants(world.store(), world.seeds(), ViewOf(caller));
  CallerContext context(caller);
  absl::StatusOr<TaskServiceImpl::WatchPlan> plan =
      world.service(caller).PrepareWatch(context.get(), request);
  invariants.Check(request, service::ToGrpcStatus(plan.status()),
                   v1::TaskEvent());
  if (!plan.ok()) return;
  absl::StatusOr<storage::ChangePosition> start =
      plan->resume.has_value()
          ? absl::StatusOr<storage::ChangePosition>(*plan->resume)
          : world.store().LatestChangePosition();
  if (!start.ok()) {
    std::fprintf(stderr, "fuzz target: the present: %s\n",
                 start.status().ToString().c_str());
    std::abort();
  }
  world.WriteEachKind();
  service::WatchCursor cursor = plan->CursorAt(*std::move(start));
  absl::StatusOr<std::vector<storage::TaskChange>> changes =
      world.store().ReadChanges(cursor.position(), 16);
  if (!changes.ok()) {
    // A resume_token ahead of every change this database gave out (forged,
    // or from another database) is refused at the stream's first read, as
    // the store's contract says. Nothing else may fail: nothing is trimmed
    // here, so every token the stream could get is valid.
    if (plan->resume.has_value() &&
        ErrorReason(changes.status()) == reason::kInvalidResumeToken) {
      return;
    }
    std::fprintf(stderr, "fuzz target: reading changes: %s\n",
                 changes.status().ToString().c_str());
    std::abort();
  }
  int sent = 0;
  for (const storage::TaskChange& change : *changes) {
    std::optional<v1::TaskEvent> event = cursor.Next(change);
    if (!event.has_value()) continue;
    invariants.CheckEvent(request, plan->filter, *event);
    if (++sent == kWatchEvents) return;
  }
}

struct Rpc {
  int id;  // in the input format: see RpcIds()
  const char* name;
  void (*run)(Caller caller, absl::string_view bytes);
};

// Ids 0-10 were these RPCs' positions in tasks.proto when the format began;
// a new RPC takes the next free id: WatchTasks 11, the next 12, and so on.
constexpr Rpc kRpcs[] = {
    {0, "CreateProject",
     Run<v1::CreateProjectRequest, v1::Project,
         &TaskServiceImpl::CreateProject>},
    {1, "GetProject",
     Run<v1::GetProjectRequest, v1::Project, &TaskServiceImpl::GetProject>},
    {2, "ListProjects",
     Run<v1::ListProjectsRequest, v1::ListProjectsResponse,
         &TaskServiceImpl::ListProjects>},
    {3, "UpdateProject",
     Run<v1::UpdateProjectRequest, v1::Project,
         &TaskServiceImpl::UpdateProject>},
    {4, "DeleteProject",
     Run<v1::DeleteProjectRequest, google::protobuf::Empty,
         &TaskServiceImpl::DeleteProject>},
    {5, "CreateTask",
     Run<v1::CreateTaskRequest, v1::Task, &TaskServiceImpl::CreateTask>},
    {6, "BatchCreateTasks",
     Run<v1::BatchCreateTasksRequest, v1::BatchCreateTasksResponse,
         &TaskServiceImpl::BatchCreateTasks>},
    {7, "GetTask",
     Run<v1::GetTaskRequest, v1::Task, &TaskServiceImpl::GetTask>},
    {8, "ListTasks",
     Run<v1::ListTasksRequest, v1::ListTasksResponse,
         &TaskServiceImpl::ListTasks>},
    {9, "UpdateTask",
     Run<v1::UpdateTaskRequest, v1::Task, &TaskServiceImpl::UpdateTask>},
    {10, "DeleteTask",
     Run<v1::DeleteTaskRequest, google::protobuf::Empty,
         &TaskServiceImpl::DeleteTask>},
    {11, "WatchTasks", RunWatch},
};

// kRpcs by id; null where an id has no RPC.
const std::array<const Rpc*, kRpcIdLimit>& RpcsById() {
  static const auto* const kById = [] {
    auto* by_id = new std::array<const Rpc*, kRpcIdLimit>();
    for (const Rpc& rpc : kRpcs) {
      if (rpc.id < 0 || rpc.id >= kRpcIdLimit || (*by_id)[rpc.id] != nullptr) {
        std::fprintf(stderr,
                     "fuzz target: RPC id %d of %s is taken or out of range\n",
                     rpc.id, rpc.name);
        std::abort();
      }
      (*by_id)[rpc.id] = &rpc;
    }
    return by_id;
  }();
  return *kById;
}

// Protobuf's and the service's logs are noise at thousands of calls a
// second; a broken invariant prints its own report.
void QuietLogs() {
  static const bool kQuiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    service::SetLogLevel(service::LogLevel::kError);
    return true;
  }();
  (void)kQuiet;
}

}  // namespace

const std::map<int, std::string>& RpcIds() {
  static const auto* const kIds = [] {
    auto* ids = new std::map<int, std::string>();
    for (const Rpc* rpc : RpcsById()) {
      if (rpc != nullptr) ids->emplace(rpc->id, rpc->name);
    }
    return ids;
  }();
  return *kIds;
}

int RpcIdOf(absl::string_view name) {
  for (const Rpc& rpc : kRpcs) {
    if (rpc.name == name) return rpc.id;
  }
  return -1;
}

std::string EncodeInput(int rpc_id, int caller,
                        const google::protobuf::Message& request) {
  return std::string(1, static_cast<char>(rpc_id + kRpcIdLimit * caller)) +
         request.SerializeAsString();
}

void RunInput(const uint8_t* data, size_t size) {
  if (size == 0) return;
  QuietLogs();
  const Rpc* rpc = RpcsById()[data[0] % kRpcIdLimit];
  if (rpc == nullptr) return;
  const auto caller = static_cast<Caller>(data[0] / kRpcIdLimit);
  rpc->run(caller, absl::string_view(reinterpret_cast<const char*>(data) + 1,
                                     size - 1));
}

}  // namespace tasks::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tasks::fuzz::RunInput(data, size);
  return 0;
}
