#include "service/dsn_redaction.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tasks::service {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> PasswordValues(const std::string& dsn) {
  std::vector<std::string> values;
  for (const DsnPassword& password : FindDsnPasswords(dsn)) {
    values.push_back(password.value);
  }
  return values;
}

TEST(RedactDsnTest, UrlPasswordIsRedacted) {
  EXPECT_EQ(RedactDsn("postgresql://user:secret@host/db"),
            "postgresql://user:***@host/db");
  EXPECT_EQ(RedactDsn("postgres://user:secret@host:5432/db?sslmode=require"),
            "postgres://user:***@host:5432/db?sslmode=require");
  EXPECT_EQ(RedactDsn("postgresql://user:s%40cr%2Fet@host/db"),
            "postgresql://user:***@host/db");
  EXPECT_EQ(RedactDsn("postgresql://user:@host/db"),
            "postgresql://user:***@host/db");
  // An unencoded '@' or ':' in the password: all of it is still hidden.
  EXPECT_EQ(RedactDsn("postgresql://user:p@ss:w@host/db"),
            "postgresql://user:***@host/db");
  EXPECT_EQ(RedactDsn("postgresql://user:pa?ss@host/db?password=x"),
            "postgresql://user:***@host/db?password=***");
}

TEST(RedactDsnTest, UrlPasswordQueryParameterIsRedacted) {
  EXPECT_EQ(
      RedactDsn("postgresql://host/db?user=u&password=secret&sslmode=disable"),
      "postgresql://host/db?user=u&password=***&sslmode=disable");
  EXPECT_EQ(RedactDsn("postgresql:///db?PASSWORD=secret"),
            "postgresql:///db?PASSWORD=***");
  EXPECT_EQ(RedactDsn("postgresql:///db?pass%77ord=secret"),
            "postgresql:///db?pass%77ord=***");
}

TEST(RedactDsnTest, UrlWithoutPasswordIsUnchanged) {
  for (const char* dsn :
       {"postgresql://user@host/db", "postgresql://host:5432/db",
        "postgresql:///db?host=/run/postgresql", "postgresql://"}) {
    EXPECT_EQ(RedactDsn(dsn), dsn);
  }
}

TEST(RedactDsnTest, KeywordPasswordIsRedacted) {
  EXPECT_EQ(RedactDsn("host=db password=secret dbname=tasks"),
            "host=db password=*** dbname=tasks");
  EXPECT_EQ(RedactDsn("password=secret"), "password=***");
  EXPECT_EQ(RedactDsn("host=db password = 'se cr\\'et' dbname=tasks"),
            "host=db password = *** dbname=tasks");
  EXPECT_EQ(RedactDsn("host=db\tPassword=secret"), "host=db\tPassword=***");
  EXPECT_EQ(RedactDsn("password=a password=b"), "password=*** password=***");
  EXPECT_EQ(RedactDsn("user=password host=db"), "user=password host=db");
}

TEST(RedactDsnTest, SslPasswordIsRedacted) {
  EXPECT_EQ(RedactDsn("host=db sslpassword=keysecret dbname=tasks"),
            "host=db sslpassword=*** dbname=tasks");
  EXPECT_EQ(RedactDsn("host=db SSLPassword='key secret' password=pw"),
            "host=db SSLPassword=*** password=***");
  EXPECT_EQ(
      RedactDsn("postgresql://u@h/d?sslpassword=keysecret&sslmode=require"),
      "postgresql://u@h/d?sslpassword=***&sslmode=require");
}

// libpq reads "user:pa/ss@host" as host "user", port "pa" and database
// "ss@host/db": no password at all, but the text after the colon is what the
// user meant as one, and a failed connection would log it.
TEST(RedactDsnTest, UrlPasswordWithSlashIsRedacted) {
  EXPECT_EQ(RedactDsn("postgresql://user:pa/ss@host/db"),
            "postgresql://user:***@host/db");
  EXPECT_EQ(RedactDsn("postgres://user:a/b/c@host:5432/db?sslmode=disable"),
            "postgres://user:***@host:5432/db?sslmode=disable");
  std::string url = "postgresql://user:pa/ss@host/db";
  MaskDsnPasswordsInPlace(url.data());
  EXPECT_EQ(url, "postgresql://user:*****@host/db");
}

// Whatever libpq's parser calls a secret is hidden wherever its text appears,
// even where the hand-written scan places no password.
TEST(RedactDsnTest, SecretsLibpqReadsAreHiddenEverywhere) {
  EXPECT_EQ(RedactDsn("host=db password=hunter22 application_name=hunter22"),
            "host=db password=*** application_name=***");
}

TEST(RedactDsnTest, MalformedKeywordStringHidesEverythingAfterPassword) {
  EXPECT_EQ(RedactDsn("host=db password='unterminated dbname=x"),
            "host=db password=***");
  EXPECT_EQ(RedactDsn("host=db password secret"), "host=db password ***");
}

TEST(RedactDsnTest, SqliteDatabasesAreUnchanged) {
  for (const char* dsn :
       {"tasks.db", ":memory:", "/var/lib/tasks/tasks.db", "password.db", ""}) {
    EXPECT_EQ(RedactDsn(dsn), dsn);
  }
}

TEST(FindDsnPasswordsTest, ValuesAreWhatLibpqReads) {
  EXPECT_THAT(PasswordValues("postgresql://u:s%40cret@h/d"),
              ElementsAre("s@cret"));
  EXPECT_THAT(PasswordValues("host=h password='it\\'s secret'"),
              ElementsAre("it's secret"));
  EXPECT_THAT(PasswordValues("host=h password=back\\\\slash"),
              ElementsAre("back\\slash"));
  EXPECT_THAT(PasswordValues("postgresql://u@h/d?password=a%20b"),
              ElementsAre("a b"));
  EXPECT_THAT(PasswordValues("tasks.db"), IsEmpty());
}

TEST(MaskDsnPasswordsInPlaceTest, OverwritesPasswordKeepingLength) {
  std::string url = "postgresql://user:secret@host/db";
  MaskDsnPasswordsInPlace(url.data());
  EXPECT_EQ(url, "postgresql://user:******@host/db");
  std::string keywords = "host=db password='a b' user=u";
  MaskDsnPasswordsInPlace(keywords.data());
  EXPECT_EQ(keywords, "host=db password=***** user=u");
  std::string path = "tasks.db";
  MaskDsnPasswordsInPlace(path.data());
  EXPECT_EQ(path, "tasks.db");
}

}  // namespace
}  // namespace tasks::service
