#include "storage/postgres/session_connector.h"

#include <libpq-fe.h>

#include "absl/strings/str_cat.h"
#include "soci/postgresql/soci-postgresql.h"

namespace tasks::storage {
namespace {

// What SOCI runs right after connecting (PostgreSQL 9.0 and later).
constexpr char kFirstStatement[] = "SET extra_float_digits = 3";

// Throws soci::soci_error, with the text SOCI's connect would have, unless a
// connection on `conninfo` runs kFirstStatement. Closes it either way.
void CheckConnectionAnswers(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    std::string message = "Cannot establish connection to the database.";
    if (conn != nullptr) absl::StrAppend(&message, "\n", PQerrorMessage(conn));
    PQfinish(conn);
    throw soci::soci_error(message);
  }
  PGresult* result = PQexec(conn, kFirstStatement);
  const bool answered = PQresultStatus(result) == PGRES_COMMAND_OK;
  const std::string message = absl::StrCat(
      "Cannot set extra_float_digits parameter. ", PQerrorMessage(conn));
  PQclear(result);
  PQfinish(conn);
  if (!answered) throw soci::soci_error(message);
}

}  // namespace

std::unique_ptr<soci::session> SessionConnector::Connect(
    const std::string& conninfo) {
  try {
    if (failing_.load(std::memory_order_relaxed)) {
      CheckConnectionAnswers(conninfo);
    }
    auto session = std::make_unique<soci::session>(soci::postgresql, conninfo);
    failing_.store(false, std::memory_order_relaxed);
    return session;
  } catch (...) {
    failing_.store(true, std::memory_order_relaxed);
    throw;
  }
}

}  // namespace tasks::storage
