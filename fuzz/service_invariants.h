#ifndef TASKS_FUZZ_SERVICE_INVARIANTS_H_
#define TASKS_FUZZ_SERVICE_INVARIANTS_H_

#include <grpcpp/support/status.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/empty.pb.h"
#include "google/protobuf/message.h"
#include "storage/filter/filter.h"
#include "storage/task_store.h"
#include "tasks/v1/tasks.pb.h"

namespace tasks::fuzz {

// The rows a fuzzed call starts from, as the store returned them.
struct SeedRows {
  std::vector<v1::Project> projects;
  std::vector<v1::Task> tasks;
};

// Who made the call, as far as the contract cares.
struct CallerView {
  // False: the call carried no valid token to a server with auth on.
  bool authenticated = true;
  // Set: the caller may use only this project.
  std::optional<int64_t> only_project;
};

// Invariants
//
// The API's contract (tasks.proto, API.md), checked on one call made on a
// database holding exactly `seeds`. A broken invariant prints the call and
// what broke to stderr and aborts. Checked on every call:
//   - the status code is one the contract allows for this caller (never
//     INTERNAL, UNKNOWN or UNAVAILABLE on a healthy in-memory database);
//   - an error carries a google.rpc.Status of the same code with an
//     ErrorInfo (domain "tasks.v1", a reason), and INVALID_ARGUMENT a
//     BadRequest naming a field;
//   - a failed call, and any read, leaves the database equal to `seeds`;
//   - a response survives serialization (valid UTF-8 everywhere);
//   - a restricted caller sees and changes only its own project's rows;
// and for successful calls: what was written is what is read back (and what
// was sent, for the fields the request set), lists hold only rows matching
// their filters, at most the page size, in their order, and deleted rows are
// gone.
class Invariants {
 public:
  // `store` is read unrestricted to check the database; it must outlive
  // this object.
  Invariants(storage::TaskStore& store, const SeedRows& seeds,
             CallerView caller);

  void Check(const v1::CreateProjectRequest& request,
             const grpc::Status& status, const v1::Project& response);
  void Check(const v1::GetProjectRequest& request, const grpc::Status& status,
             const v1::Project& response);
  void Check(const v1::ListProjectsRequest& request, const grpc::Status& status,
             const v1::ListProjectsResponse& response);
  void Check(const v1::UpdateProjectRequest& request,
             const grpc::Status& status, const v1::Project& response);
  void Check(const v1::DeleteProjectRequest& request,
             const grpc::Status& status,
             const google::protobuf::Empty& response);
  void Check(const v1::CreateTaskRequest& request, const grpc::Status& status,
             const v1::Task& response);
  void Check(const v1::BatchCreateTasksRequest& request,
             const grpc::Status& status,
             const v1::BatchCreateTasksResponse& response);
  void Check(const v1::GetTaskRequest& request, const grpc::Status& status,
             const v1::Task& response);
  void Check(const v1::ListTasksRequest& request, const grpc::Status& status,
             const v1::ListTasksResponse& response);
  void Check(const v1::UpdateTaskRequest& request, const grpc::Status& status,
             const v1::Task& response);
  void Check(const v1::DeleteTaskRequest& request, const grpc::Status& status,
             const google::protobuf::Empty& response);
  // WatchTasks up to its stream (TaskServiceImpl::PrepareWatch): `response`
  // is empty.
  void Check(const v1::WatchTasksRequest& request, const grpc::Status& status,
             const v1::TaskEvent& response);

  // One event of a WatchTasks stream whose request parsed into `filter`: of
  // a known type, within the caller's reach, matching the filter, with a
  // resume_token that parses.
  void CheckEvent(const v1::WatchTasksRequest& request,
                  const storage::filter::Node& filter,
                  const v1::TaskEvent& event);

  // `next` is the page after `previous`, fetched with the same request and
  // previous's next_page_token: it continues the list without repeating or
  // reordering rows.
  void CheckNextPage(const v1::ListTasksRequest& request,
                     const v1::ListTasksResponse& previous,
                     const v1::ListTasksResponse& next);
  void CheckNextPage(const v1::ListProjectsRequest& request,
                     const v1::ListProjectsResponse& previous,
                     const v1::ListProjectsResponse& next);

 private:
  // Checks common to every call; true when the call succeeded.
  bool CheckCall(const google::protobuf::Message& request,
                 const grpc::Status& status,
                 const google::protobuf::Message& response);
  void CheckStatusDetails(const grpc::Status& status);
  void CheckRoundTrip(const google::protobuf::Message& response);
  void CheckUnchanged();
  void CheckRestrictedCallerScope();
  void CheckVisible(const v1::Task& task);
  void CheckVisible(const v1::Project& project);
  void CheckStoredAs(const v1::Task& task);
  void CheckStoredAs(const v1::Project& project);
  void CheckWellFormed(const v1::Task& task);
  void CheckCreatedFrom(const v1::CreateTaskRequest& request,
                        const v1::Task& task);
  void CheckTaskGone(int64_t id);
  void CheckListedTask(const v1::ListTasksRequest& request,
                       const v1::Task& task);
  [[noreturn]] void Fail(absl::string_view what) const;

  storage::TaskStore& store_;
  const SeedRows& seeds_;
  const CallerView caller_;
  // The call being checked, for Fail().
  const google::protobuf::Message* request_ = nullptr;
  const grpc::Status* status_ = nullptr;
};

}  // namespace tasks::fuzz

#endif  // TASKS_FUZZ_SERVICE_INVARIANTS_H_
