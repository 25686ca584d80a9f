#ifndef TASKS_SERVICE_TOKEN_AUTH_PROCESSOR_H_
#define TASKS_SERVICE_TOKEN_AUTH_PROCESSOR_H_

#include <grpcpp/security/auth_metadata_processor.h>

#include <memory>

#include "service/auth.h"
#include "service/server_metrics.h"

namespace tasks::service {

// TokenAuthProcessor
//
// The server's front door for bearer tokens: set on the listening port's
// credentials, it refuses every tasks.v1.TaskService call without a known
// token (TokenTable::Authenticate) with UNAUTHENTICATED as soon as the call's
// headers arrive: before gRPC reads its message, before any handler, thread
// hand-off or store work. Other services (health, reflection) pass without a
// token. The refusal carries the message of Authenticate() but no
// google.rpc.Status details (the core sends only a code and a message at this
// point); it is logged like any call.
//
// It authenticates only: TaskServiceImpl authenticates each call again (the
// same TokenTable, a SHA-256 and a few compares) to learn its principal, as
// calls through InProcessChannel() never pass here. The principal cannot be
// handed over in the AuthContext: gRPC gives the processor the connection's
// context, shared by every call on it, whatever token each carries.
//
// Runs inline on the thread that read the headers (IsBlocking() is false).
//
// Example:
//   credentials->SetAuthMetadataProcessor(
//       std::make_shared<TokenAuthProcessor>(tokens, metrics));
class TokenAuthProcessor final : public grpc::AuthMetadataProcessor {
 public:
  // Counts its refusals in `metrics` unless null (which must outlive it).
  TokenAuthProcessor(std::shared_ptr<const TokenTable> tokens,
                     ServerMetrics* metrics);

  bool IsBlocking() const override { return false; }

  grpc::Status Process(const InputMetadata& auth_metadata,
                       grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

 private:
  const std::shared_ptr<const TokenTable> tokens_;
  ServerMetrics* const metrics_;
};

}  // namespace tasks::service

#endif  // TASKS_SERVICE_TOKEN_AUTH_PROCESSOR_H_
