#include "storage/schema/migrations.h"

#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "soci/soci.h"
#include "storage/schema/migration_scripts.h"
#include "storage/schema/task_rows.h"

namespace tasks::storage {
namespace {

// The runner's own table and the page token secret stay in code, not in the
// scripts: the table must exist before the runner can read which versions a
// database has, and the secret is random bytes from OpenSSL (PostgreSQL has
// no such function without the pgcrypto extension), not schema.
constexpr char kCreateMigrationsTable[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version BIGINT PRIMARY KEY, "
    "description TEXT NOT NULL, "
    "applied_time BIGINT NOT NULL)";
constexpr char kSecretName[] = "page_token_secret";
constexpr int kSecretBytes = 32;

absl::StatusOr<std::string> NewSecret() {
  unsigned char bytes[kSecretBytes];
  if (RAND_bytes(bytes, kSecretBytes) != 1) {
    return WithReason(absl::InternalError("no random bytes for a secret"),
                      reason::kInternal);
  }
  return std::string(reinterpret_cast<const char*>(bytes), kSecretBytes);
}

}  // namespace

absl::StatusOr<std::string> MigrateSchema(Connection& connection) {
  const Dialect& dialect = connection.dialect();
  soci::session& sql = connection.session();
  connection.Begin();
  if (*dialect.migration_lock_sql() != '\0')
    sql << dialect.migration_lock_sql();
  sql << kCreateMigrationsTable;

  long long current = 0;
  sql << kSchemaVersionSql, soci::into(current);
  const absl::Span<const MigrationScript> scripts = dialect.migration_scripts();
  const int latest = LatestVersion(scripts);
  if (current > latest) {
    return WithReason(absl::FailedPreconditionError(absl::StrCat(
                          "the database schema is at version ", current,
                          ", newer than this build knows (", latest, ")")),
                      reason::kInternal);
  }
  for (const MigrationScript& script : scripts) {
    if (script.version <= current) continue;
    dialect.ExecuteScript(sql, script.sql);
    long long version = script.version;
    std::string description(script.name);
    long long now = NowMicros();
    sql << "INSERT INTO schema_migrations (version, description, "
           "applied_time) VALUES (:version, :description, :now)",
        soci::use(version, "version"), soci::use(description, "description"),
        soci::use(now, "now");
  }

  std::string secret_hex;
  soci::indicator indicator = soci::i_null;
  std::string name = kSecretName;
  sql << "SELECT value FROM settings WHERE name = :name",
      soci::into(secret_hex, indicator), soci::use(name, "name");
  if (!sql.got_data() || indicator != soci::i_ok) {
    absl::StatusOr<std::string> secret = NewSecret();
    if (!secret.ok()) return secret.status();
    secret_hex = absl::BytesToHexString(*secret);
    sql << "INSERT INTO settings (name, value) VALUES (:name, :value)",
        soci::use(name, "name"), soci::use(secret_hex, "value");
  }
  connection.Commit();
  return absl::HexStringToBytes(secret_hex);
}

}  // namespace tasks::storage
