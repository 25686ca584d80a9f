#ifndef TASKS_SERVICE_PLAINTEXT_CREDENTIALS_H_
#define TASKS_SERVICE_PLAINTEXT_CREDENTIALS_H_

#include <grpcpp/security/server_credentials.h>

#include <memory>

namespace tasks::service {

// PlaintextServerCredentials()
//
// Plaintext (no TLS) server credentials that take an AuthMetadataProcessor,
// which grpc::InsecureServerCredentials() cannot: in gRPC 1.51 its
// SetAuthMetadataProcessor() aborts the process. The processor sees each
// call's headers (":path" included) before the call reaches the server's
// handlers and before its message is read; a status other than OK ends the
// call with that status.
//
// The processor runs inline on the thread that read the headers, whatever
// its IsBlocking() says, so it must not block. It is given no AuthContext
// (null), and metadata it puts in `consumed_auth_metadata` stays in the call.
//
// Example:
//   std::shared_ptr<grpc::ServerCredentials> credentials =
//       PlaintextServerCredentials();
//   credentials->SetAuthMetadataProcessor(processor);
//   builder.AddListeningPort("localhost:50051", credentials);
std::shared_ptr<grpc::ServerCredentials> PlaintextServerCredentials();

}  // namespace tasks::service

#endif  // TASKS_SERVICE_PLAINTEXT_CREDENTIALS_H_
