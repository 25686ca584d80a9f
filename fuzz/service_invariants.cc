#include "fuzz/service_invariants.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "storage/filter/filter.h"
#include "storage/filter/matches.h"
#include "storage/task_changes.h"

namespace tasks::fuzz {
namespace {

using google::protobuf::Message;
using google::protobuf::util::MessageDifferencer;
using Code = grpc::StatusCode;

constexpr size_t kMaxPrinted = 4000;

bool Same(const Message& a, const Message& b) {
  return MessageDifferencer::Equals(a, b);
}

// `value` as JSON sees it: every null the same (NullValue numbers other
// than NULL_VALUE print as null too).
void NormalizeNulls(google::protobuf::Value& value) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kNullValue:
      value.set_null_value(google::protobuf::NULL_VALUE);
      break;
    case google::protobuf::Value::kStructValue:
      for (auto& [key, member] :
           *value.mutable_struct_value()->mutable_fields()) {
        NormalizeNulls(member);
      }
      break;
    case google::protobuf::Value::kListValue:
      for (auto& item : *value.mutable_list_value()->mutable_values()) {
        NormalizeNulls(item);
      }
      break;
    default:
      break;
  }
}

// Whether the JSON a client sent (`sent`) is the JSON it got back: unknown
// fields of a request are dropped, and nulls are nulls.
bool SameJson(const google::protobuf::Value& sent,
              const google::protobuf::Value& returned) {
  google::protobuf::Value a = sent;
  google::protobuf::Value b = returned;
  a.DiscardUnknownFields();
  b.DiscardUnknownFields();
  NormalizeNulls(a);
  NormalizeNulls(b);
  return Same(a, b);
}

bool SameJson(const google::protobuf::Struct& sent,
              const google::protobuf::Struct& returned) {
  google::protobuf::Value a;
  *a.mutable_struct_value() = sent;
  google::protobuf::Value b;
  *b.mutable_struct_value() = returned;
  return SameJson(a, b);
}

std::string Printed(const Message& message) {
  std::string text = message.ShortDebugString();
  if (text.size() > kMaxPrinted) {
    text = absl::StrCat(text.substr(0, kMaxPrinted), "... (",
                        text.size() - kMaxPrinted, " more characters)");
  }
  return text;
}

int ResolvedPageSize(int32_t requested) {
  if (requested == 0) return 50;
  return std::min(requested, 1000);
}

// The sort key of a task in a ListTasks order; ties break on id in the
// order's direction.
bool ListedBefore(const v1::Task& a, const v1::Task& b,
                  absl::string_view order_by) {
  if (order_by == "create_time") {
    return std::make_tuple(a.create_time().seconds(), a.create_time().nanos(),
                           a.id()) < std::make_tuple(b.create_time().seconds(),
                                                     b.create_time().nanos(),
                                                     b.id());
  }
  if (order_by == "create_time desc") {
    return std::make_tuple(a.create_time().seconds(), a.create_time().nanos(),
                           a.id()) > std::make_tuple(b.create_time().seconds(),
                                                     b.create_time().nanos(),
                                                     b.id());
  }
  if (order_by == "priority desc") {
    return std::make_tuple(static_cast<int>(a.priority()), a.id()) >
           std::make_tuple(static_cast<int>(b.priority()), b.id());
  }
  if (order_by == "title") {
    return std::make_tuple(a.title(), a.id()) <
           std::make_tuple(b.title(), b.id());
  }
  return a.id() < b.id();
}

// Every row, read unrestricted; a failed read is a broken invariant too.
struct Rows {
  std::map<int64_t, v1::Project> projects;
  std::map<int64_t, v1::Task> tasks;
};

}  // namespace

Invariants::Invariants(storage::TaskStore& store, const SeedRows& seeds,
                       CallerView caller)
    : store_(store), seeds_(seeds), caller_(caller) {}

void Invariants::Fail(absl::string_view what) const {
  std::fprintf(stderr, "\n*** Broken invariant: %.*s\n",
               static_cast<int>(what.size()), what.data());
  if (request_ != nullptr) {
    std::fprintf(stderr, "request (%s): %s\n",
                 request_->GetDescriptor()->full_name().c_str(),
                 Printed(*request_).c_str());
  }
  if (status_ != nullptr) {
    std::fprintf(stderr, "status: %d \"%s\"\n",
                 static_cast<int>(status_->error_code()),
                 status_->error_message().c_str());
  }
  std::fprintf(
      stderr, "caller: %s\n",
      !caller_.authenticated ? "no valid token"
      : caller_.only_project.has_value()
          ? absl::StrCat("only project ", *caller_.only_project).c_str()
          : "every project");
  std::fflush(stderr);
  std::abort();
}

bool Invariants::CheckCall(const Message& request, const grpc::Status& status,
                           const Message& response) {
  request_ = &request;
  status_ = &status;
  if (!caller_.authenticated) {
    if (status.error_code() != Code::UNAUTHENTICATED) {
      Fail("a call without a valid token was not UNAUTHENTICATED");
    }
  } else {
    switch (status.error_code()) {
      case Code::OK:
      case Code::INVALID_ARGUMENT:
      case Code::NOT_FOUND:
      case Code::ALREADY_EXISTS:
      case Code::FAILED_PRECONDITION:
      case Code::ABORTED:
        break;
      case Code::PERMISSION_DENIED:
        if (!caller_.only_project.has_value()) {
          Fail("PERMISSION_DENIED for a caller with every project");
        }
        break;
      default:
        Fail("a status code the contract does not allow here");
    }
  }
  if (status.ok()) {
    CheckRoundTrip(response);
  } else {
    CheckStatusDetails(status);
    CheckUnchanged();
  }
  if (caller_.only_project.has_value()) CheckRestrictedCallerScope();
  return status.ok();
}

void Invariants::CheckStatusDetails(const grpc::Status& status) {
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) {
    Fail("error details are not a google.rpc.Status");
  }
  if (details.code() != static_cast<int>(status.error_code())) {
    Fail("google.rpc.Status code differs from the call's");
  }
  if (details.message() != status.error_message()) {
    Fail("google.rpc.Status message differs from the call's");
  }
  bool has_info = false;
  bool has_field = false;
  for (const google::protobuf::Any& any : details.details()) {
    google::rpc::ErrorInfo info;
    google::rpc::BadRequest bad_request;
    if (any.UnpackTo(&info)) {
      has_info = !info.reason().empty() && info.domain() == "tasks.v1";
    } else if (any.UnpackTo(&bad_request)) {
      for (const auto& violation : bad_request.field_violations()) {
        has_field |= !violation.field().empty();
      }
    }
  }
  if (!has_info) Fail("error without an ErrorInfo reason in tasks.v1");
  if (status.error_code() == Code::INVALID_ARGUMENT && !has_field) {
    Fail("INVALID_ARGUMENT without a BadRequest naming a field");
  }
}

void Invariants::CheckRoundTrip(const Message& response) {
  std::string bytes;
  if (!response.SerializeToString(&bytes)) Fail("response does not serialize");
  std::unique_ptr<Message> parsed(response.New());
  if (!parsed->ParseFromString(bytes)) {
    Fail("response does not parse back (invalid UTF-8?)");
  }
  if (!Same(*parsed, response)) Fail("response changes when parsed back");
}

namespace {

Rows ReadAll(storage::TaskStore& store, std::string* error) {
  Rows rows;
  // Page after page: a page may stop early at the store's byte budget.
  std::string project_token;
  v1::ListTasksRequest all;
  all.set_page_size(1000);
  do {
    absl::StatusOr<v1::ListProjectsResponse> projects =
        store.ListProjects(1000, project_token);
    if (!projects.ok()) {
      *error = absl::StrCat("reading the projects back failed: ",
                            projects.status().ToString());
      return rows;
    }
    for (const v1::Project& project : projects->projects()) {
      rows.projects[project.id()] = project;
    }
    project_token = projects->next_page_token();
  } while (!project_token.empty());
  do {
    absl::StatusOr<v1::ListTasksResponse> tasks = store.ListTasks(all);
    if (!tasks.ok()) {
      *error = absl::StrCat("reading the tasks back failed: ",
                            tasks.status().ToString());
      return rows;
    }
    for (const v1::Task& task : tasks->tasks()) rows.tasks[task.id()] = task;
    all.set_page_token(tasks->next_page_token());
  } while (!all.page_token().empty());
  return rows;
}

}  // namespace

void Invariants::CheckUnchanged() {
  std::string error;
  Rows rows = ReadAll(store_, &error);
  if (!error.empty()) Fail(error);
  if (rows.projects.size() != seeds_.projects.size() ||
      rows.tasks.size() != seeds_.tasks.size()) {
    Fail("rows were added or removed");
  }
  for (const v1::Project& seed : seeds_.projects) {
    auto it = rows.projects.find(seed.id());
    if (it == rows.projects.end() || !Same(it->second, seed)) {
      Fail(absl::StrCat("project ", seed.id(), " changed"));
    }
  }
  for (const v1::Task& seed : seeds_.tasks) {
    auto it = rows.tasks.find(seed.id());
    if (it == rows.tasks.end() || !Same(it->second, seed)) {
      Fail(absl::StrCat("task ", seed.id(), " changed"));
    }
  }
}

void Invariants::CheckRestrictedCallerScope() {
  std::string error;
  Rows rows = ReadAll(store_, &error);
  if (!error.empty()) Fail(error);
  const int64_t own = *caller_.only_project;
  auto seed_task = [&](int64_t id) -> const v1::Task* {
    for (const v1::Task& task : seeds_.tasks) {
      if (task.id() == id) return &task;
    }
    return nullptr;
  };
  for (const auto& [id, task] : rows.tasks) {
    if (task.has_project_id() && task.project_id() == own) continue;
    const v1::Task* seed = seed_task(id);
    if (seed == nullptr || !Same(*seed, task)) {
      Fail(absl::StrCat("a restricted caller changed task ", id,
                        " outside its project"));
    }
  }
  for (const v1::Task& seed : seeds_.tasks) {
    if (seed.has_project_id() && seed.project_id() == own) continue;
    if (rows.tasks.count(seed.id()) == 0) {
      Fail(absl::StrCat("a restricted caller deleted task ", seed.id(),
                        " outside its project"));
    }
  }
  for (const v1::Project& seed : seeds_.projects) {
    if (seed.id() == own) continue;
    auto it = rows.projects.find(seed.id());
    if (it == rows.projects.end() || !Same(it->second, seed)) {
      Fail(absl::StrCat("a restricted caller changed project ", seed.id()));
    }
  }
  for (const auto& entry : rows.projects) {
    const int64_t id = entry.first;
    if (id != own &&
        std::none_of(seeds_.projects.begin(), seeds_.projects.end(),
                     [&](const v1::Project& p) { return p.id() == id; })) {
      Fail("a restricted caller created a project");
    }
  }
}

void Invariants::CheckVisible(const v1::Task& task) {
  if (!caller_.only_project.has_value()) return;
  if (!task.has_project_id() || task.project_id() != *caller_.only_project) {
    Fail(absl::StrCat("a restricted caller received task ", task.id(),
                      " of another project"));
  }
}

void Invariants::CheckVisible(const v1::Project& project) {
  if (caller_.only_project.has_value() &&
      project.id() != *caller_.only_project) {
    Fail(absl::StrCat("a restricted caller received project ", project.id()));
  }
}

void Invariants::CheckStoredAs(const v1::Task& task) {
  absl::StatusOr<v1::Task> stored =
      store_.GetTask(task.id(), storage::AccessScope::All());
  if (!stored.ok()) {
    Fail(absl::StrCat("task ", task.id(), " returned but not readable: ",
                      stored.status().ToString()));
  }
  if (!Same(*stored, task)) {
    Fail(absl::StrCat("task ", task.id(), " reads back as ", Printed(*stored),
                      ", not as returned: ", Printed(task)));
  }
}

void Invariants::CheckStoredAs(const v1::Project& project) {
  absl::StatusOr<v1::Project> stored = store_.GetProject(project.id());
  if (!stored.ok() || !Same(*stored, project)) {
    Fail(absl::StrCat("project ", project.id(),
                      " does not read back as returned"));
  }
}

void Invariants::CheckWellFormed(const v1::Task& task) {
  if (task.id() <= 0 || task.title().empty() || task.etag().empty() ||
      task.status() == v1::Task::STATUS_UNSPECIFIED ||
      !v1::Task::Status_IsValid(task.status()) ||
      task.priority() == v1::Task::PRIORITY_UNSPECIFIED ||
      !v1::Task::Priority_IsValid(task.priority())) {
    Fail(absl::StrCat("malformed task: ", Printed(task)));
  }
  if (std::make_pair(task.create_time().seconds(), task.create_time().nanos()) >
      std::make_pair(task.update_time().seconds(),
                     task.update_time().nanos())) {
    Fail("task updated before it was created");
  }
}

void Invariants::CheckCreatedFrom(const v1::CreateTaskRequest& request,
                                  const v1::Task& task) {
  CheckWellFormed(task);
  CheckVisible(task);
  CheckStoredAs(task);
  // A retried request id returns the first call's task as it is now (it may
  // have changed since).
  if (!request.request_id().empty()) return;
  const v1::Task& sent = request.task();
  if (task.title() != sent.title() ||
      task.description() != sent.description() ||
      task.has_project_id() != sent.has_project_id() ||
      task.project_id() != sent.project_id() ||
      !SameJson(sent.metadata(), task.metadata())) {
    Fail(absl::StrCat("created task differs from the one sent: ",
                      Printed(task)));
  }
  const auto status = sent.status() == v1::Task::STATUS_UNSPECIFIED
                          ? v1::Task::PENDING
                          : sent.status();
  const auto priority = sent.priority() == v1::Task::PRIORITY_UNSPECIFIED
                            ? v1::Task::MEDIUM
                            : sent.priority();
  if (task.status() != status || task.priority() != priority) {
    Fail("created task's status or priority is not the one sent or default");
  }
}

void Invariants::CheckTaskGone(int64_t id) {
  absl::StatusOr<v1::Task> task =
      store_.GetTask(id, storage::AccessScope::All());
  if (task.status().code() != absl::StatusCode::kNotFound) {
    Fail(absl::StrCat("deleted task ", id, " is still readable"));
  }
}

void Invariants::Check(const v1::CreateProjectRequest& request,
                       const grpc::Status& status,
                       const v1::Project& response) {
  if (!CheckCall(request, status, response)) return;
  if (response.id() <= 0 || response.name() != request.project().name() ||
      response.description() != request.project().description()) {
    Fail("created project differs from the one sent");
  }
  CheckStoredAs(response);
}

void Invariants::Check(const v1::GetProjectRequest& request,
                       const grpc::Status& status,
                       const v1::Project& response) {
  if (!CheckCall(request, status, response)) return;
  if (response.id() != request.id()) Fail("GetProject returned another id");
  CheckVisible(response);
  CheckUnchanged();
}

void Invariants::Check(const v1::ListProjectsRequest& request,
                       const grpc::Status& status,
                       const v1::ListProjectsResponse& response) {
  if (!CheckCall(request, status, response)) return;
  if (response.projects_size() > ResolvedPageSize(request.page_size())) {
    Fail("more projects than the page size");
  }
  for (int i = 0; i < response.projects_size(); ++i) {
    CheckVisible(response.projects(i));
    if (i > 0 && response.projects(i - 1).id() >= response.projects(i).id()) {
      Fail("projects not in id order");
    }
  }
  CheckUnchanged();
}

void Invariants::Check(const v1::UpdateProjectRequest& request,
                       const grpc::Status& status,
                       const v1::Project& response) {
  if (!CheckCall(request, status, response)) return;
  if (response.id() != request.project().id()) {
    Fail("UpdateProject returned another project");
  }
  for (const std::string& path : request.update_mask().paths()) {
    if ((path == "name" && response.name() != request.project().name()) ||
        (path == "description" &&
         response.description() != request.project().description())) {
      Fail(absl::StrCat("masked field ", path, " not updated as sent"));
    }
  }
  CheckVisible(response);
  CheckStoredAs(response);
}

void Invariants::Check(const v1::DeleteProjectRequest& request,
                       const grpc::Status& status,
                       const google::protobuf::Empty& response) {
  if (!CheckCall(request, status, response)) return;
  if (store_.GetProject(request.id()).status().code() !=
      absl::StatusCode::kNotFound) {
    Fail("deleted project is still readable");
  }
  for (const v1::Task& seed : seeds_.tasks) {
    if (seed.has_project_id() && seed.project_id() == request.id()) {
      CheckTaskGone(seed.id());
    }
  }
}

void Invariants::Check(const v1::CreateTaskRequest& request,
                       const grpc::Status& status, const v1::Task& response) {
  if (!CheckCall(request, status, response)) return;
  CheckCreatedFrom(request, response);
}

void Invariants::Check(const v1::BatchCreateTasksRequest& request,
                       const grpc::Status& status,
                       const v1::BatchCreateTasksResponse& response) {
  if (!CheckCall(request, status, response)) return;
  if (response.tasks_size() != request.requests_size()) {
    Fail("BatchCreateTasks returned another number of tasks");
  }
  std::set<int64_t> ids;
  for (int i = 0; i < response.tasks_size(); ++i) {
    CheckCreatedFrom(request.requests(i), response.tasks(i));
    ids.insert(response.tasks(i).id());
  }
  // Requests sharing a request id share a task; others do not.
  std::set<std::string> request_ids;
  int anonymous = 0;
  for (const v1::CreateTaskRequest& create : request.requests()) {
    if (create.request_id().empty()) {
      ++anonymous;
    } else {
      request_ids.insert(create.request_id());
    }
  }
  if (ids.size() > static_cast<size_t>(anonymous) + request_ids.size()) {
    Fail("a request id created more than one task");
  }
}

void Invariants::Check(const v1::GetTaskRequest& request,
                       const grpc::Status& status, const v1::Task& response) {
  if (!CheckCall(request, status, response)) return;
  if (response.id() != request.id()) Fail("GetTask returned another id");
  CheckWellFormed(response);
  CheckVisible(response);
  CheckUnchanged();
}

void Invariants::CheckListedTask(const v1::ListTasksRequest& request,
                                 const v1::Task& task) {
  CheckWellFormed(task);
  CheckVisible(task);
  if (request.has_project_id() &&
      (!task.has_project_id() || task.project_id() != request.project_id())) {
    Fail("listed task outside the project filter");
  }
  if (request.status() != v1::Task::STATUS_UNSPECIFIED &&
      task.status() != request.status()) {
    Fail("listed task outside the status filter");
  }
  if (request.priority() != v1::Task::PRIORITY_UNSPECIFIED &&
      task.priority() != request.priority()) {
    Fail("listed task outside the priority filter");
  }
  if (!request.metadata_key().empty()) {
    auto it = task.metadata().fields().find(request.metadata_key());
    if (it == task.metadata().fields().end()) {
      Fail("listed task without the filter's metadata key");
    }
    const google::protobuf::Value& want = request.metadata_value();
    const google::protobuf::Value& have = it->second;
    if ((want.has_string_value() && !SameJson(want, have)) ||
        (want.has_bool_value() && !SameJson(want, have)) ||
        (want.has_null_value() && !have.has_null_value()) ||
        (want.has_number_value() &&
         (!have.has_number_value() ||
          have.number_value() != want.number_value()))) {
      Fail("listed task whose metadata value differs from the filter's");
    }
  }
  // The service refuses a filter that does not parse.
  absl::StatusOr<storage::filter::Node> filter =
      storage::filter::ParseFilter(request.filter());
  if (!filter.ok()) {
    Fail("listed tasks for a filter that does not parse");
  } else if (!storage::filter::Matches(*filter, task)) {
    Fail("listed task outside the filter");
  }
}

void Invariants::Check(const v1::ListTasksRequest& request,
                       const grpc::Status& status,
                       const v1::ListTasksResponse& response) {
  if (!CheckCall(request, status, response)) return;
  if (response.tasks_size() > ResolvedPageSize(request.page_size())) {
    Fail("more tasks than the page size");
  }
  for (int i = 0; i < response.tasks_size(); ++i) {
    CheckListedTask(request, response.tasks(i));
    if (i > 0 && !ListedBefore(response.tasks(i - 1), response.tasks(i),
                               request.order_by())) {
      Fail(absl::StrCat("tasks not in \"", request.order_by(), "\" order"));
    }
  }
  CheckUnchanged();
}

void Invariants::CheckNextPage(const v1::ListTasksRequest& request,
                               const v1::ListTasksResponse& previous,
                               const v1::ListTasksResponse& next) {
  if (previous.tasks().empty()) Fail("a token after an empty page");
  if (!next.tasks().empty() &&
      !ListedBefore(*previous.tasks().rbegin(), next.tasks(0),
                    request.order_by())) {
    Fail("the next page does not continue the list in order");
  }
}

void Invariants::CheckNextPage(const v1::ListProjectsRequest& request,
                               const v1::ListProjectsResponse& previous,
                               const v1::ListProjectsResponse& next) {
  if (previous.projects().empty()) Fail("a token after an empty page");
  if (!next.projects().empty() &&
      previous.projects().rbegin()->id() >= next.projects(0).id()) {
    Fail("the next page of projects does not continue the list");
  }
}

void Invariants::Check(const v1::UpdateTaskRequest& request,
                       const grpc::Status& status, const v1::Task& response) {
  if (!CheckCall(request, status, response)) return;
  const v1::Task& sent = request.task();
  if (response.id() != sent.id()) Fail("UpdateTask returned another task");
  CheckWellFormed(response);
  CheckVisible(response);
  CheckStoredAs(response);
  for (const v1::Task& seed : seeds_.tasks) {
    if (seed.id() == sent.id() && seed.etag() == response.etag()) {
      Fail("etag unchanged by an update");
    }
  }
  for (const std::string& path : request.update_mask().paths()) {
    const bool differs =
        (path == "title" && response.title() != sent.title()) ||
        (path == "description" &&
         response.description() != sent.description()) ||
        (path == "status" && response.status() != sent.status()) ||
        (path == "priority" && response.priority() != sent.priority()) ||
        (path == "metadata" &&
         !SameJson(sent.metadata(), response.metadata())) ||
        (path == "project_id" &&
         (response.has_project_id() != sent.has_project_id() ||
          response.project_id() != sent.project_id()));
    if (differs) Fail(absl::StrCat("masked field ", path, " not as sent"));
  }
}

void Invariants::Check(const v1::DeleteTaskRequest& request,
                       const grpc::Status& status,
                       const google::protobuf::Empty& response) {
  if (!CheckCall(request, status, response)) return;
  CheckTaskGone(request.id());
}

void Invariants::Check(const v1::WatchTasksRequest& request,
                       const grpc::Status& status,
                       const v1::TaskEvent& response) {
  CheckCall(request, status, response);
}

void Invariants::CheckEvent(const v1::WatchTasksRequest& request,
                            const storage::filter::Node& filter,
                            const v1::TaskEvent& event) {
  request_ = &request;
  status_ = nullptr;
  CheckRoundTrip(event);
  if (event.type() != v1::TaskEvent::CREATED &&
      event.type() != v1::TaskEvent::UPDATED &&
      event.type() != v1::TaskEvent::DELETED) {
    Fail(absl::StrCat("an event of type ", event.type()));
  }
  CheckVisible(event.task());
  if (!storage::filter::Matches(filter, event.task())) {
    Fail(absl::StrCat("an event of task ", event.task().id(),
                      ", which the filter does not match"));
  }
  if (!storage::ChangePosition::Decode(event.resume_token()).ok()) {
    Fail("an event's resume_token does not parse");
  }
}

}  // namespace tasks::fuzz
