#include "service/plaintext_credentials.h"

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpcpp/security/auth_metadata_processor.h>

#include <string>

namespace tasks::service {
namespace {

using Processor = std::shared_ptr<grpc::AuthMetadataProcessor>;

grpc::string_ref StringRef(const grpc_slice& slice) {
  return grpc::string_ref(
      reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(slice)),
      GRPC_SLICE_LENGTH(slice));
}

// The C core's processor callbacks, over a heap-held Processor as `state`.
void ProcessCall(void* state, grpc_auth_context* /*context*/,
                 const grpc_metadata* metadata, size_t count,
                 grpc_process_auth_metadata_done_cb done, void* done_arg) {
  grpc::AuthMetadataProcessor::InputMetadata input;
  for (size_t i = 0; i < count; ++i) {
    input.emplace(StringRef(metadata[i].key), StringRef(metadata[i].value));
  }
  grpc::AuthMetadataProcessor::OutputMetadata consumed;
  grpc::AuthMetadataProcessor::OutputMetadata response;
  const grpc::Status status =
      (*static_cast<Processor*>(state))
          ->Process(input, nullptr, &consumed, &response);
  done(done_arg, nullptr, 0, nullptr, 0,
       static_cast<grpc_status_code>(status.error_code()),
       status.ok() ? nullptr : status.error_message().c_str());
}

void DestroyProcessor(void* state) { delete static_cast<Processor*>(state); }

class PlaintextCredentials final : public grpc::ServerCredentials {
 public:
  void SetAuthMetadataProcessor(const Processor& processor) override {
    processor_ = processor;
  }

 private:
  int AddPortToServer(const std::string& address,
                      grpc_server* server) override {
    grpc_server_credentials* credentials =
        grpc_insecure_server_credentials_create();
    if (processor_ != nullptr) {
      // The core credentials keep their own reference for as long as the
      // port's connections need it.
      grpc_server_credentials_set_auth_metadata_processor(
          credentials,
          {&ProcessCall, &DestroyProcessor, new Processor(processor_)});
    }
    const int port =
        grpc_server_add_http2_port(server, address.c_str(), credentials);
    grpc_server_credentials_release(credentials);
    return port;
  }

  Processor processor_;
};

}  // namespace

std::shared_ptr<grpc::ServerCredentials> PlaintextServerCredentials() {
  return std::make_shared<PlaintextCredentials>();
}

}  // namespace tasks::service
