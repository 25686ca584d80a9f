#ifndef TASKS_SERVICE_TLS_CREDENTIALS_H_
#define TASKS_SERVICE_TLS_CREDENTIALS_H_

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace tasks::service {

// The PEM files of a TLS server (--tls_cert, --tls_key, --tls_client_ca).
struct TlsFiles {
  // The server's certificate, optionally followed by its chain.
  std::string cert_path;
  // The certificate's private key, unencrypted.
  std::string key_path;
  // When set: mutual TLS. Clients must present a certificate signed by one of
  // the CA certificates in this file.
  std::string client_ca_path;
};

// LoadServerCredentials()
//
// Reads and checks the files, and returns gRPC SSL server credentials for
// them (with GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY when
// `client_ca_path` is set). The checks happen here, before the server starts,
// because gRPC itself would only fail to bind with no reason given.
// INVALID_ARGUMENT, naming the flag and file, when a file cannot be read,
// holds no PEM certificate or key (an encrypted key counts as none), or the
// key does not belong to the certificate. A certificate outside its validity
// period is logged as a warning.
//
// Example:
//   absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
//       LoadServerCredentials({"server.pem", "server.key", ""});
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> LoadServerCredentials(
    const TlsFiles& files);

}  // namespace tasks::service

#endif  // TASKS_SERVICE_TLS_CREDENTIALS_H_
