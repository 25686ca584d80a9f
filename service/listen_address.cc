#include "service/listen_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"

namespace tasks::service {
namespace {

// The host part of "host:port" or "[host]:port" (no port: all of it).
absl::string_view HostOf(absl::string_view address) {
  if (absl::ConsumePrefix(&address, "[")) {
    return address.substr(0, address.find(']'));
  }
  // A bare IPv6 address has several colons and no port to strip.
  if (address.find(':') != address.rfind(':')) return address;
  return address.substr(0, address.find(':'));
}

bool IsLoopbackIp(const std::string& host) {
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6) ||
           (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
  }
  return false;
}

}  // namespace

bool IsLoopbackAddress(absl::string_view listen_address) {
  if (absl::StartsWith(listen_address, "unix:") ||
      absl::StartsWith(listen_address, "unix-abstract:")) {
    return true;
  }
  if (absl::ConsumePrefix(&listen_address, "dns:")) {
    absl::ConsumePrefix(&listen_address, "///");
  }
  absl::ConsumePrefix(&listen_address, "ipv4:");
  absl::ConsumePrefix(&listen_address, "ipv6:");
  const std::string host = absl::AsciiStrToLower(HostOf(listen_address));
  if (host == "localhost" || absl::EndsWith(host, ".localhost")) return true;
  return IsLoopbackIp(host);
}

}  // namespace tasks::service
