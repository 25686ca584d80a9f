#ifndef TASKS_STORAGE_SQL_PAGE_TOKEN_H_
#define TASKS_STORAGE_SQL_PAGE_TOKEN_H_

#include <openssl/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tasks::storage {

// Where the next page starts: the sort key and id of the previous page's last
// row. Only the key of the list's order is meaningful.
struct PageCursor {
  long long id = 0;
  long long number = 0;  // a numeric order's key (see TaskOrder)
  std::string text;      // a text order's key
};

// PageTokenCodec
//
// Keyset page tokens that clients cannot forge: web-safe base64 of
// [version][digest of the list's scope][cursor] followed by an HMAC-SHA256
// of those bytes under a secret every replica shares (it lives in the
// database). The scope is the normalized filters and order of the list, so
// a token only continues the list that issued it. Thread-safe.
class PageTokenCodec {
 public:
  explicit PageTokenCodec(std::string secret);
  ~PageTokenCodec();
  PageTokenCodec(const PageTokenCodec&) = delete;
  PageTokenCodec& operator=(const PageTokenCodec&) = delete;

  // A token continuing the list `scope` after `cursor`.
  std::string Encode(absl::string_view scope, const PageCursor& cursor) const;

  // The cursor in `token`. INVALID_ARGUMENT (field "page_token", reason
  // kInvalidPageToken) when the token is malformed, tampered with, or was
  // issued for another scope.
  absl::StatusOr<PageCursor> Decode(absl::string_view token,
                                    absl::string_view scope) const;

 private:
  std::string Mac(absl::string_view payload) const;

  // HMAC-SHA256 keyed with the secret, copied for each token: OpenSSL 3's
  // one-shot HMAC() looks the algorithm up and sets the key on every call,
  // which took 4% of a ListTasks page.
  EVP_MAC_CTX* const keyed_;
};

}  // namespace tasks::storage

#endif  // TASKS_STORAGE_SQL_PAGE_TOKEN_H_
