#include "tests/reliability/task_writer.h"

#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace tasks::reliability {
namespace {

constexpr absl::Duration kCallDeadline = absl::Seconds(30);

void SetDeadline(grpc::ClientContext& context) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
}

}  // namespace

TaskWriter::TaskWriter(std::shared_ptr<grpc::Channel> channel,
                       int64_t project_id)
    : stub_(v1::TaskService::NewStub(std::move(channel))),
      project_id_(project_id) {}

void TaskWriter::Expect(v1::TaskEvent::Type type, const v1::Task& task,
                        absl::Time at, int group) {
  ExpectedEvent event;
  event.type = type;
  event.task_id = task.id();
  if (type != v1::TaskEvent::DELETED) event.etag = task.etag();
  event.replied = at;
  event.group = group;
  expected_.push_back(std::move(event));
}

grpc::Status TaskWriter::Create(const std::string& title, int64_t project_id) {
  grpc::ClientContext context;
  SetDeadline(context);
  v1::CreateTaskRequest request;
  request.mutable_task()->set_project_id(project_id != 0 ? project_id
                                                         : project_id_);
  request.mutable_task()->set_title(title);
  v1::Task created;
  grpc::Status status = stub_->CreateTask(&context, request, &created);
  if (!status.ok()) return status;
  Expect(v1::TaskEvent::CREATED, created, absl::Now());
  live_[created.id()] = created.project_id();
  return status;
}

grpc::Status TaskWriter::BatchCreate(int count, int64_t project_id) {
  grpc::ClientContext context;
  SetDeadline(context);
  v1::BatchCreateTasksRequest request;
  for (int i = 0; i < count; ++i) {
    v1::Task* task = request.add_requests()->mutable_task();
    task->set_project_id(project_id != 0 ? project_id : project_id_);
    task->set_title(absl::StrCat("batch-", ++sequence_));
  }
  v1::BatchCreateTasksResponse response;
  grpc::Status status = stub_->BatchCreateTasks(&context, request, &response);
  if (!status.ok()) return status;
  const absl::Time replied = absl::Now();
  // In request order: the tasks are inserted one after the other.
  for (const v1::Task& task : response.tasks()) {
    Expect(v1::TaskEvent::CREATED, task, replied);
    live_[task.id()] = task.project_id();
  }
  return status;
}

grpc::Status TaskWriter::Update(int64_t id) {
  grpc::ClientContext context;
  SetDeadline(context);
  v1::UpdateTaskRequest request;
  request.mutable_task()->set_id(id);
  request.mutable_task()->set_description(absl::StrCat("update ", ++sequence_));
  request.mutable_update_mask()->add_paths("description");
  v1::Task updated;
  grpc::Status status = stub_->UpdateTask(&context, request, &updated);
  if (status.ok()) Expect(v1::TaskEvent::UPDATED, updated, absl::Now());
  return status;
}

grpc::Status TaskWriter::Delete(int64_t id) {
  grpc::ClientContext context;
  SetDeadline(context);
  v1::DeleteTaskRequest request;
  request.set_id(id);
  google::protobuf::Empty empty;
  grpc::Status status = stub_->DeleteTask(&context, request, &empty);
  if (!status.ok()) return status;
  v1::Task task;
  task.set_id(id);
  Expect(v1::TaskEvent::DELETED, task, absl::Now());
  live_.erase(id);
  return status;
}

grpc::Status TaskWriter::DeleteProjectWithTasks(int64_t project_id) {
  grpc::ClientContext context;
  SetDeadline(context);
  v1::DeleteProjectRequest request;
  request.set_id(project_id);
  request.set_force(true);
  google::protobuf::Empty empty;
  grpc::Status status = stub_->DeleteProject(&context, request, &empty);
  if (!status.ok()) return status;
  const absl::Time replied = absl::Now();
  const int group = ++groups_;
  for (auto it = live_.begin(); it != live_.end();) {
    if (it->second != project_id) {
      ++it;
      continue;
    }
    v1::Task task;
    task.set_id(it->first);
    Expect(v1::TaskEvent::DELETED, task, replied, group);
    it = live_.erase(it);
  }
  return status;
}

grpc::Status TaskWriter::RandomWrite(absl::BitGen& random) {
  // Creates outnumber deletes, so that there is always something to change.
  const int choice = absl::Uniform(random, 0, 10);
  if (live_.empty() || choice < 5) {
    return Create(absl::StrCat("task-", ++sequence_));
  }
  auto it = live_.begin();
  std::advance(it, absl::Uniform<size_t>(random, 0, live_.size()));
  return choice < 8 ? Update(it->first) : Delete(it->first);
}

std::map<int64_t, v1::Task> ApplyEvents(
    const std::vector<v1::Task>& list,
    const std::vector<ReceivedEvent>& events) {
  std::map<int64_t, v1::Task> tasks;
  for (const v1::Task& task : list) tasks[task.id()] = task;
  for (const ReceivedEvent& received : events) {
    const v1::Task& task = received.event.task();
    if (received.event.type() == v1::TaskEvent::DELETED) {
      tasks.erase(task.id());
    } else {
      tasks[task.id()] = task;
    }
  }
  return tasks;
}

}  // namespace tasks::reliability
