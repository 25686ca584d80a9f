#include "service/listen_address.h"

#include "gtest/gtest.h"

namespace tasks::service {
namespace {

TEST(IsLoopbackAddressTest, LoopbackHostsAndUnixSocketsAreLoopback) {
  for (const char* address :
       {"localhost:50051", "LOCALHOST:1", "api.localhost:80", "127.0.0.1:0",
        "127.1.2.3:50051", "[::1]:50051", "::1", "[::ffff:127.0.0.1]:5",
        "ipv4:127.0.0.1:5", "ipv6:[::1]:5", "dns:///localhost:5",
        "unix:/run/tasks.sock", "unix-abstract:tasks"}) {
    EXPECT_TRUE(IsLoopbackAddress(address)) << address;
  }
}

TEST(IsLoopbackAddressTest, WildcardsAndOtherHostsAreNotLoopback) {
  for (const char* address :
       {"0.0.0.0:50051", "[::]:50051", ":50051", "10.0.0.7:50051",
        "192.168.1.2:1", "[2001:db8::1]:50051", "[::ffff:10.0.0.1]:5",
        "tasks.example.com:443", "localhost.example.com:1", "mylocalhost:1",
        "128.0.0.1:1", "", "dns:///tasks.example.com:443"}) {
    EXPECT_FALSE(IsLoopbackAddress(address)) << address;
  }
}

}  // namespace
}  // namespace tasks::service
