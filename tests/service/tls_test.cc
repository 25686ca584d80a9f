// TLS and mutual TLS on a real loopback port: which clients get through,
// which are refused; clear errors for bad certificate files; the warning for
// plaintext on an address the network can reach. The certificates are the
// test-only ones in tests/testdata/tls (see make_certs.sh there).

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/read_file.h"
#include "service/server.h"
#include "service/tls_credentials.h"
#include "tasks/v1/tasks.grpc.pb.h"
#include "tests/service/service_test_fixture.h"
#include "tests/testing/grpc_status_matchers.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/stderr_capture.h"

namespace tasks::service {
namespace {

using ::tasks::testing::GrpcOk;
using ::tasks::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// Relative to the test's runfiles directory, where Bazel runs it.
std::string TestFile(absl::string_view name) {
  return absl::StrCat("tests/testdata/tls/", name);
}

std::string Read(absl::string_view name) {
  absl::StatusOr<std::string> content = ReadFile(TestFile(name));
  EXPECT_TRUE(content.ok()) << content.status();
  return content.ok() ? *content : "";
}

TlsFiles ServerFiles() {
  TlsFiles files;
  files.cert_path = TestFile("server.pem");
  files.key_path = TestFile("server.key");
  return files;
}

TlsFiles MutualTlsFiles() {
  TlsFiles files = ServerFiles();
  files.client_ca_path = TestFile("ca.pem");
  return files;
}

std::unique_ptr<TaskServer> StartServer(
    const std::string& listen_address,
    std::shared_ptr<grpc::ServerCredentials> credentials) {
  ServerConfig config;
  config.listen_address = listen_address;
  config.credentials = std::move(credentials);
  config.open_store = InMemorySqliteStore();
  return StartOrFail(std::move(config));
}

// A client that trusts `ca` (and, for mutual TLS, presents `cert`/`key`).
std::shared_ptr<grpc::ChannelCredentials> TlsClient(
    absl::string_view ca, absl::string_view cert = "",
    absl::string_view key = "") {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = Read(ca);
  if (!cert.empty()) {
    options.pem_cert_chain = Read(cert);
    options.pem_private_key = Read(key);
  }
  return grpc::SslCredentials(options);
}

// CreateProject through a fresh channel to 127.0.0.1:`port`, checked
// against the certificate's name "localhost".
grpc::Status CreateProject(int port,
                           std::shared_ptr<grpc::ChannelCredentials> client) {
  grpc::ChannelArguments arguments;
  arguments.SetSslTargetNameOverride("localhost");
  auto channel = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                           std::move(client), arguments);
  auto stub = v1::TaskService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::CreateProjectRequest request;
  request.mutable_project()->set_name("over TLS");
  v1::Project project;
  return stub->CreateProject(&context, request, &project);
}

TEST(TlsServerTest, TlsClientCallsAndPlaintextClientIsRefused) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      LoadServerCredentials(ServerFiles());
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  std::unique_ptr<TaskServer> server = StartServer("127.0.0.1:0", *credentials);
  ASSERT_NE(server, nullptr);

  EXPECT_THAT(CreateProject(server->port(), TlsClient("ca.pem")), GrpcOk());
  grpc::Status plaintext =
      CreateProject(server->port(), grpc::InsecureChannelCredentials());
  EXPECT_EQ(plaintext.error_code(), grpc::StatusCode::UNAVAILABLE)
      << plaintext.error_message();
}

TEST(TlsServerTest, ClientThatDoesNotTrustTheServerCaIsRefused) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      LoadServerCredentials(ServerFiles());
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  std::unique_ptr<TaskServer> server = StartServer("127.0.0.1:0", *credentials);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(
      CreateProject(server->port(), TlsClient("other_ca.pem")).error_code(),
      grpc::StatusCode::UNAVAILABLE);
}

TEST(TlsServerTest, MutualTlsNeedsAClientCertificateFromTheClientCa) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      LoadServerCredentials(MutualTlsFiles());
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  std::unique_ptr<TaskServer> server = StartServer("127.0.0.1:0", *credentials);
  ASSERT_NE(server, nullptr);

  EXPECT_THAT(CreateProject(server->port(),
                            TlsClient("ca.pem", "client.pem", "client.key")),
              GrpcOk());
  grpc::Status without_certificate =
      CreateProject(server->port(), TlsClient("ca.pem"));
  EXPECT_EQ(without_certificate.error_code(), grpc::StatusCode::UNAVAILABLE)
      << without_certificate.error_message();
  grpc::Status untrusted_certificate = CreateProject(
      server->port(),
      TlsClient("ca.pem", "other_client.pem", "other_client.key"));
  EXPECT_EQ(untrusted_certificate.error_code(), grpc::StatusCode::UNAVAILABLE)
      << untrusted_certificate.error_message();
  EXPECT_EQ(CreateProject(server->port(), grpc::InsecureChannelCredentials())
                .error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST(LoadServerCredentialsTest,
     MissingFilesAreInvalidArgumentNamingFlagAndFile) {
  TlsFiles files = ServerFiles();
  files.cert_path = "/nonexistent/server.pem";
  EXPECT_THAT(LoadServerCredentials(files).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--tls_cert"),
                             HasSubstr("/nonexistent/server.pem"),
                             HasSubstr("No such file"))));
  files = ServerFiles();
  files.key_path = "/nonexistent/server.key";
  EXPECT_THAT(LoadServerCredentials(files).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--tls_key"),
                             HasSubstr("/nonexistent/server.key"))));
  files = MutualTlsFiles();
  files.client_ca_path = "/nonexistent/ca.pem";
  EXPECT_THAT(LoadServerCredentials(files).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--tls_client_ca"),
                             HasSubstr("/nonexistent/ca.pem"))));
}

TEST(LoadServerCredentialsTest, FilesWithoutPemAreInvalidArgument) {
  TlsFiles files = ServerFiles();
  files.cert_path = TestFile("server.key");  // A key, not a certificate.
  EXPECT_THAT(LoadServerCredentials(files).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--tls_cert"),
                             HasSubstr("no PEM certificate"))));
  files = ServerFiles();
  files.key_path = TestFile("server.pem");  // A certificate, not a key.
  EXPECT_THAT(LoadServerCredentials(files).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--tls_key"),
                             HasSubstr("no unencrypted PEM private key"))));
  files = MutualTlsFiles();
  files.client_ca_path = TestFile("client.key");
  EXPECT_THAT(LoadServerCredentials(files).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--tls_client_ca"),
                             HasSubstr("no PEM certificate"))));
}

TEST(LoadServerCredentialsTest, KeyOfAnotherCertificateIsInvalidArgument) {
  TlsFiles files = ServerFiles();
  files.key_path = TestFile("client.key");
  EXPECT_THAT(
      LoadServerCredentials(files).status(),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("the key does not belong to the certificate")));
}

TEST(PlaintextWarningTest, PlaintextOnWildcardAddressWarnsLoudly) {
  ::tasks::testing::StderrCapture capture;
  std::unique_ptr<TaskServer> server = StartServer("0.0.0.0:0", nullptr);
  ASSERT_NE(server, nullptr);
  server->Shutdown();
  EXPECT_THAT(capture.Stop(),
              AllOf(HasSubstr("W "), HasSubstr("INSECURE: serving plaintext"),
                    HasSubstr("0.0.0.0:0"), HasSubstr("--tls_cert")));
}

TEST(PlaintextWarningTest, PlaintextOnLoopbackAndTlsAnywhereDoNotWarn) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      LoadServerCredentials(ServerFiles());
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  ::tasks::testing::StderrCapture capture;
  for (auto [address, creds] :
       {std::make_pair("127.0.0.1:0",
                       std::shared_ptr<grpc::ServerCredentials>()),
        std::make_pair("0.0.0.0:0", *credentials)}) {
    std::unique_ptr<TaskServer> server = StartServer(address, creds);
    ASSERT_NE(server, nullptr);
    server->Shutdown();
  }
  const std::string log = capture.Stop();
  EXPECT_THAT(log, HasSubstr("listening on"));
  EXPECT_THAT(log, Not(HasSubstr("INSECURE")));
}

}  // namespace
}  // namespace tasks::service
