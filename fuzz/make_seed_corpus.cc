// Writes the fuzz target's seed corpus: valid requests of every RPC (and a
// few that each error path answers), as the seed rows of
// task_service_fuzz_target.h make them meaningful, from several callers.
//
// Usage: bazel run //fuzz:make_seed_corpus -- "$PWD/fuzz/corpus/task_service"
// Each file is named <RPC>-<caller>-<n>; existing files of those names are
// overwritten.

#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fuzz/task_service_fuzz_target.h"
#include "google/protobuf/text_format.h"
#include "tasks/v1/tasks.pb.h"

namespace {

// Callers, as numbered in task_service_fuzz_target.h.
constexpr int kNoAuth = 0;
constexpr int kAdmin = 1;
constexpr int kProjectOne = 2;
constexpr int kAnonymous = 3;

struct Seed {
  const char* rpc;
  int caller;
  const char* request;  // text format
};

constexpr Seed kSeeds[] = {
    {"CreateProject", kNoAuth, R"(project { name: "Garden" })"},
    {"CreateProject", kNoAuth,
     R"(project { name: "Garden" description: "outdoor" id: 7 })"},
    {"CreateProject", kNoAuth, R"(project { name: "  " })"},
    {"CreateProject", kProjectOne, R"(project { name: "Mine" })"},
    {"GetProject", kNoAuth, "id: 1"},
    {"GetProject", kNoAuth, "id: 99"},
    {"GetProject", kProjectOne, "id: 2"},
    {"GetProject", kAnonymous, "id: 1"},
    {"ListProjects", kNoAuth, ""},
    {"ListProjects", kNoAuth, "page_size: 1"},
    {"ListProjects", kNoAuth, R"(page_token: "AQ")"},
    {"ListProjects", kProjectOne, "page_size: 1"},
    {"UpdateProject", kNoAuth,
     R"(project { id: 1 name: "Home 2" } update_mask { paths: "name" })"},
    {"UpdateProject", kNoAuth, R"(project { id: 2 description: "remote" })"},
    {"UpdateProject", kNoAuth,
     R"(project { id: 1 name: "a" description: "b" }
        update_mask { paths: "*" })"},
    {"UpdateProject", kNoAuth,
     R"(project { id: 1 name: "a" } update_mask { paths: "id" })"},
    {"UpdateProject", kProjectOne, R"(project { id: 2 name: "Taken" })"},
    {"DeleteProject", kNoAuth, "id: 1"},
    {"DeleteProject", kNoAuth, "id: 1 force: true"},
    {"DeleteProject", kNoAuth, "id: 5"},
    {"DeleteProject", kProjectOne, "id: 1 force: true"},
    {"DeleteProject", kProjectOne, "id: 2 force: true"},
    {"CreateTask", kNoAuth, R"(task { title: "New" })"},
    {"CreateTask", kNoAuth,
     R"(task {
          title: "Full" project_id: 2 description: "all fields"
          status: IN_PROGRESS priority: LOW
          metadata {
            fields { key: "k" value { string_value: "v" } }
            fields { key: "list" value { list_value {
              values { number_value: 1.5 } values { bool_value: true }
              values { null_value: NULL_VALUE } } } }
            fields { key: "obj" value { struct_value {
              fields { key: "x" value { number_value: -2 } } } } }
          }
        }
        request_id: "req-full")"},
    {"CreateTask", kNoAuth, R"(task { title: "Write tests" project_id: 1 })"},
    {"CreateTask", kNoAuth, R"(task { title: "Orphan" project_id: 9 })"},
    {"CreateTask", kNoAuth, R"(task { title: "Again" } request_id: "seed-1")"},
    {"CreateTask", kNoAuth,
     R"(task { title: "Out of range" status: 7 priority: -1 })"},
    {"CreateTask", kProjectOne, R"(task { title: "Mine" project_id: 1 })"},
    {"CreateTask", kProjectOne, R"(task { title: "Theirs" project_id: 2 })"},
    {"CreateTask", kAdmin, R"(task { title: "Admin's" })"},
    {"BatchCreateTasks", kNoAuth,
     R"(requests { task { title: "a" } }
        requests { task { title: "b" project_id: 2 status: COMPLETED }
                   request_id: "r-b" })"},
    {"BatchCreateTasks", kNoAuth,
     R"(requests { task { title: "twin" project_id: 1 } }
        requests { task { title: "twin" project_id: 1 } })"},
    {"BatchCreateTasks", kNoAuth,
     R"(requests { task { title: "same id" } request_id: "dup" }
        requests { task { title: "same id 2" } request_id: "dup" })"},
    {"BatchCreateTasks", kProjectOne,
     R"(requests { task { title: "mine" project_id: 1 } }
        requests { task { title: "theirs" project_id: 2 } })"},
    {"GetTask", kNoAuth, "id: 1"},
    {"GetTask", kNoAuth, "id: 3"},
    {"GetTask", kNoAuth, "id: 9223372036854775807"},
    {"GetTask", kProjectOne, "id: 2"},
    {"GetTask", kAnonymous, "id: 1"},
    {"ListTasks", kNoAuth, ""},
    {"ListTasks", kNoAuth, "page_size: 1"},
    {"ListTasks", kNoAuth, "project_id: 1"},
    {"ListTasks", kNoAuth, "status: IN_PROGRESS page_size: 1"},
    {"ListTasks", kNoAuth, "priority: HIGH"},
    {"ListTasks", kNoAuth,
     R"(metadata_key: "n" metadata_value { number_value: 1 })"},
    {"ListTasks", kNoAuth,
     R"(metadata_key: "owner" metadata_value { struct_value {
          fields { key: "name" value { string_value: "ann" } } } })"},
    {"ListTasks", kNoAuth, R"(order_by: "create_time" page_size: 1)"},
    {"ListTasks", kNoAuth, R"(order_by: "create_time desc" page_size: 1)"},
    {"ListTasks", kNoAuth, R"(order_by: "priority desc" page_size: 2)"},
    {"ListTasks", kNoAuth, R"(order_by: "title" page_size: 1)"},
    {"ListTasks", kNoAuth, R"(page_token: "AQ" page_size: 1)"},
    {"ListTasks", kProjectOne, "page_size: 1"},
    {"ListTasks", kProjectOne, "project_id: 2"},
    {"ListTasks", kAdmin, R"(order_by: "title")"},
    {"ListTasks", kNoAuth,
     R"(filter: "status = PENDING AND priority >= HIGH AND metadata.owner = \"ann\"")"},
    {"ListTasks", kNoAuth,
     R"(filter: "(project_id = 1 OR project_id = 2) AND NOT title:\"Ship\"" page_size: 1)"},
    {"ListTasks", kNoAuth,
     R"(filter: "create_time > \"2026-01-01T00:00:00Z\" OR -metadata.tags:*" order_by: "title" page_size: 1)"},
    {"ListTasks", kProjectOne,
     R"(filter: "metadata.n >= 1 OR metadata.owner.name = ann OR metadata.x = null" page_size: 1)"},
    {"ListTasks", kNoAuth, R"(filter: "priority >= (")"},
    {"UpdateTask", kNoAuth,
     R"(task { id: 1 title: "Renamed" } update_mask { paths: "title" })"},
    {"UpdateTask", kNoAuth,
     R"(task { id: 1 etag: "\"1\"" status: COMPLETED })"},
    {"UpdateTask", kNoAuth, R"(task { id: 1 etag: "\"7\"" title: "x" })"},
    {"UpdateTask", kNoAuth,
     R"(task { id: 2 project_id: 1 } update_mask { paths: "project_id" })"},
    {"UpdateTask", kNoAuth,
     R"(task { id: 3 metadata {
          fields { key: "k" value { string_value: "v" } } } }
        update_mask { paths: "metadata" })"},
    {"UpdateTask", kNoAuth,
     R"(task { id: 2 title: "All" description: "d" status: PENDING
               priority: HIGH project_id: 1 }
        update_mask { paths: "*" })"},
    {"UpdateTask", kNoAuth,
     R"(task { id: 1 title: "Ship" project_id: 2 }
        update_mask { paths: "title" paths: "project_id" })"},
    {"UpdateTask", kProjectOne,
     R"(task { id: 1 project_id: 2 } update_mask { paths: "project_id" })"},
    {"UpdateTask", kProjectOne, R"(task { id: 1 description: "mine" })"},
    {"DeleteTask", kNoAuth, "id: 3"},
    {"DeleteTask", kNoAuth, "id: 42"},
    {"DeleteTask", kProjectOne, "id: 1"},
    {"DeleteTask", kProjectOne, "id: 2"},
    {"WatchTasks", kNoAuth, ""},
    // From before the seed rows ("c1.0"), and from after the first three.
    {"WatchTasks", kNoAuth, R"(resume_token: "YzEuMA")"},
    {"WatchTasks", kNoAuth,
     R"(resume_token: "YzEuMw" filter: "priority >= HIGH OR metadata.n = 1")"},
    {"WatchTasks", kNoAuth, R"(resume_token: "not a token")"},
    {"WatchTasks", kNoAuth, R"(filter: "title:")"},
    {"WatchTasks", kProjectOne, R"(resume_token: "YzEuMA")"},
    {"WatchTasks", kAdmin,
     R"(resume_token: "YzEuMA" filter: "project_id = 2")"},
    {"WatchTasks", kAnonymous, ""},
};

std::unique_ptr<google::protobuf::Message> RequestOf(const std::string& rpc) {
  static const std::map<std::string, const google::protobuf::Message*> kTypes =
      {
          {"CreateProject",
           &tasks::v1::CreateProjectRequest::default_instance()},
          {"GetProject", &tasks::v1::GetProjectRequest::default_instance()},
          {"ListProjects", &tasks::v1::ListProjectsRequest::default_instance()},
          {"UpdateProject",
           &tasks::v1::UpdateProjectRequest::default_instance()},
          {"DeleteProject",
           &tasks::v1::DeleteProjectRequest::default_instance()},
          {"CreateTask", &tasks::v1::CreateTaskRequest::default_instance()},
          {"BatchCreateTasks",
           &tasks::v1::BatchCreateTasksRequest::default_instance()},
          {"GetTask", &tasks::v1::GetTaskRequest::default_instance()},
          {"ListTasks", &tasks::v1::ListTasksRequest::default_instance()},
          {"UpdateTask", &tasks::v1::UpdateTaskRequest::default_instance()},
          {"DeleteTask", &tasks::v1::DeleteTaskRequest::default_instance()},
          {"WatchTasks", &tasks::v1::WatchTasksRequest::default_instance()},
      };
  return std::unique_ptr<google::protobuf::Message>(kTypes.at(rpc)->New());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIRECTORY\n", argv[0]);
    return 2;
  }
  std::map<std::string, int> counts;
  for (const Seed& seed : kSeeds) {
    const int rpc_id = tasks::fuzz::RpcIdOf(seed.rpc);
    if (rpc_id < 0) {
      std::fprintf(stderr, "unknown RPC %s\n", seed.rpc);
      return 1;
    }
    std::unique_ptr<google::protobuf::Message> request = RequestOf(seed.rpc);
    if (!google::protobuf::TextFormat::ParseFromString(seed.request,
                                                       request.get())) {
      std::fprintf(stderr, "bad seed for %s: %s\n", seed.rpc, seed.request);
      return 1;
    }
    const std::string prefix = absl::StrCat(seed.rpc, "-", seed.caller);
    const std::string path =
        absl::StrCat(argv[1], "/", prefix, "-", ++counts[prefix]);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << tasks::fuzz::EncodeInput(rpc_id, seed.caller, *request);
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      return 1;
    }
  }
  std::fprintf(stderr, "wrote %zu seeds to %s\n", std::size(kSeeds), argv[1]);
  return 0;
}
