#include "tests/service/service_test_fixture.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/soci_task_store.h"

namespace tasks::service {

StoreFactory InMemorySqliteStore() {
  return [] { return storage::OpenSociTaskStore(":memory:"); };
}

std::shared_ptr<grpc::Channel> LoopbackChannel(const TaskServer& server) {
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", server.port()),
                             grpc::InsecureChannelCredentials());
}

std::unique_ptr<TaskServer> StartOrFail(ServerConfig config) {
  absl::StatusOr<std::unique_ptr<TaskServer>> server =
      TaskServer::Start(std::move(config));
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

}  // namespace tasks::service
