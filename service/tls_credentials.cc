#include "service/tls_credentials.h"

#include <grpcpp/security/server_credentials.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "service/logging.h"
#include "service/read_file.h"

namespace tasks::service {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Certificate = std::unique_ptr<X509, X509Free>;
using PrivateKey = std::unique_ptr<EVP_PKEY, KeyFree>;

std::unique_ptr<BIO, BioFree> MemoryBio(const std::string& pem) {
  return std::unique_ptr<BIO, BioFree>(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// A passphrase callback that gives none: an encrypted key fails to load
// instead of prompting on the terminal.
int NoPassphrase(char* /*buffer*/, int /*size*/, int /*rwflag*/,
                 void* /*userdata*/) {
  return -1;
}

absl::Status FileError(absl::string_view flag, absl::string_view path,
                       absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, " \"", path, "\": ", problem));
}

// The file's content, its read error naming the flag.
absl::StatusOr<std::string> ReadPem(absl::string_view flag,
                                    const std::string& path) {
  absl::StatusOr<std::string> pem = ReadFile(path);
  if (!pem.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": ", pem.status().message()));
  }
  return pem;
}

// The first certificate in `pem`, or null.
Certificate FirstCertificate(const std::string& pem) {
  auto bio = MemoryBio(pem);
  return Certificate(
      PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr));
}

void WarnIfOutOfDate(const X509* cert, absl::string_view path) {
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) {
    Log(LogLevel::kWarning,
        absl::StrCat("TLS certificate \"", path,
                     "\" has expired: clients will refuse it"));
  } else if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0) {
    Log(LogLevel::kWarning,
        absl::StrCat("TLS certificate \"", path,
                     "\" is not valid yet: clients will refuse it"));
  }
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Load(
    const TlsFiles& files) {
  absl::StatusOr<std::string> cert_pem = ReadPem("tls_cert", files.cert_path);
  if (!cert_pem.ok()) return cert_pem.status();
  absl::StatusOr<std::string> key_pem = ReadPem("tls_key", files.key_path);
  if (!key_pem.ok()) return key_pem.status();

  Certificate cert = FirstCertificate(*cert_pem);
  if (cert == nullptr) {
    return FileError("tls_cert", files.cert_path,
                     "no PEM certificate (-----BEGIN CERTIFICATE-----) in it");
  }
  auto key_bio = MemoryBio(*key_pem);
  PrivateKey key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, NoPassphrase, nullptr));
  if (key == nullptr) {
    return FileError("tls_key", files.key_path,
                     "no unencrypted PEM private key in it");
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return FileError("tls_key", files.key_path,
                     absl::StrCat("the key does not belong to the certificate "
                                  "in --tls_cert \"",
                                  files.cert_path, "\""));
  }
  WarnIfOutOfDate(cert.get(), files.cert_path);

  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back({*key_pem, *cert_pem});
  if (!files.client_ca_path.empty()) {
    absl::StatusOr<std::string> ca_pem =
        ReadPem("tls_client_ca", files.client_ca_path);
    if (!ca_pem.ok()) return ca_pem.status();
    if (FirstCertificate(*ca_pem) == nullptr) {
      return FileError(
          "tls_client_ca", files.client_ca_path,
          "no PEM certificate (-----BEGIN CERTIFICATE-----) in it");
    }
    options.pem_root_certs = *ca_pem;
    options.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> LoadServerCredentials(
    const TlsFiles& files) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      Load(files);
  // Failed parses leave errors on this thread's OpenSSL queue, where gRPC's
  // own TLS code would later find them.
  ERR_clear_error();
  return credentials;
}

}  // namespace tasks::service
