// The fuzz target's input format stays put: every TaskService method has an
// RPC id, the ids of the RPCs that exist are the ones they always had, and
// every checked-in seed input calls the RPC and caller its file name says.

#include <dirent.h>

#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "fuzz/task_service_fuzz_target.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "tasks/v1/tasks.grpc.pb.h"

namespace tasks::fuzz {
namespace {

using ::testing::Pair;
using ::testing::UnorderedElementsAreArray;

TEST(InputFormatTest, EveryTaskServiceMethodHasAnId) {
  const google::protobuf::ServiceDescriptor* service =
      v1::Task::descriptor()->file()->pool()->FindServiceByName(
          v1::TaskService::service_full_name());
  ASSERT_NE(service, nullptr);
  std::vector<std::string> methods;
  for (int i = 0; i < service->method_count(); ++i) {
    methods.push_back(service->method(i)->name());
  }
  std::vector<std::string> with_ids;
  for (const auto& [id, name] : RpcIds()) {
    EXPECT_GE(id, 0);
    EXPECT_LT(id, kRpcIdLimit);
    with_ids.push_back(name);
  }
  EXPECT_THAT(with_ids, UnorderedElementsAreArray(methods))
      << "a new RPC takes the next free id in kRpcs "
         "(fuzz/task_service_fuzz_target.cc)";
}

// The corpus, checked in, depends on these: change none of them.
TEST(InputFormatTest, IdsOfExistingRpcsNeverChange) {
  const std::map<int, std::string> kFixed = {
      {0, "CreateProject"},    {1, "GetProject"},    {2, "ListProjects"},
      {3, "UpdateProject"},    {4, "DeleteProject"}, {5, "CreateTask"},
      {6, "BatchCreateTasks"}, {7, "GetTask"},       {8, "ListTasks"},
      {9, "UpdateTask"},       {10, "DeleteTask"},   {11, "WatchTasks"},
  };
  for (const auto& [id, name] : kFixed) {
    EXPECT_THAT(RpcIds(), ::testing::Contains(Pair(id, name)));
    EXPECT_EQ(RpcIdOf(name), id) << name;
  }
  EXPECT_EQ(RpcIdOf("NoSuchRpc"), -1);
}

TEST(InputFormatTest, EncodeInputPutsIdAndCallerInTheFirstByte) {
  v1::GetTaskRequest request;
  request.set_id(7);
  const std::string input = EncodeInput(RpcIdOf("GetTask"), 2, request);
  ASSERT_FALSE(input.empty());
  EXPECT_EQ(static_cast<unsigned char>(input[0]), 2 * kRpcIdLimit + 7);
  EXPECT_EQ(input.substr(1), request.SerializeAsString());
}

// Seed files are named <RPC>-<caller>-<n> (make_seed_corpus.cc).
TEST(InputFormatTest, EverySeedCallsTheRpcAndCallerOfItsName) {
  const std::string directory = "fuzz/corpus/task_service";
  DIR* dir = opendir(directory.c_str());
  ASSERT_NE(dir, nullptr) << directory;
  int seeds = 0;
  while (const dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    const std::vector<std::string> parts = absl::StrSplit(name, '-');
    ASSERT_EQ(parts.size(), 3u) << name;
    int caller = -1;
    ASSERT_TRUE(absl::SimpleAtoi(parts[1], &caller)) << name;
    std::ifstream in(directory + "/" + name, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)),
                            std::istreambuf_iterator<char>());
    ASSERT_FALSE(bytes.empty()) << name;
    const int first = static_cast<unsigned char>(bytes[0]);
    EXPECT_EQ(first % kRpcIdLimit, RpcIdOf(parts[0])) << name;
    EXPECT_EQ(first / kRpcIdLimit, caller) << name;
    ++seeds;
  }
  closedir(dir);
  EXPECT_GT(seeds, 0);
}

}  // namespace
}  // namespace tasks::fuzz
