// FingerprintRequest: what a create's request_id is matched by on a retry.
// The hex digits were computed apart from this code, by Python's protobuf
// (SerializeToString(deterministic=True), then SHA-256): they are what
// builds before the row fingerprint stored, and what `sent` must stay.

#include "storage/request_fingerprint.h"

#include <string>

#include "gtest/gtest.h"
#include "tasks/v1/tasks.pb.h"

namespace tasks::storage {
namespace {

constexpr char kBareSpelled[] =
    "fb68d7caba40acd37cfabf139dd7e4684f6129b8163d82be4f0ee2b074a7a315";
constexpr char kDefaultsSpelledOut[] =
    "70eebae81217cd609cf987542307aab2956c96ecb6818249aa15ddbb42714d8b";
constexpr char kWithMetadata[] =
    "5debeb998f7aa6ac46efcc7bc20671471d9c43fbf0c79de1798e1f83037855e2";

v1::Task Titled(const std::string& title) {
  v1::Task task;
  task.set_title(title);
  return task;
}

TEST(FingerprintRequestTest, SentIsTheDraftsBytesAsOlderBuildsStoredThem) {
  const RequestFingerprints bare = FingerprintRequest(Titled("Spelled"));
  EXPECT_EQ(bare.sent, kBareSpelled);
  EXPECT_EQ(bare.row, kBareSpelled);

  v1::Task spelled = Titled("Spelled");
  spelled.set_status(v1::Task::PENDING);
  spelled.set_priority(v1::Task::MEDIUM);
  const RequestFingerprints defaults = FingerprintRequest(spelled);
  EXPECT_EQ(defaults.sent, kDefaultsSpelledOut);
  EXPECT_EQ(defaults.row, kBareSpelled);

  // Metadata's keys in either order: deterministic bytes.
  v1::Task with_metadata = Titled("M");
  with_metadata.set_project_id(7);
  auto& fields = *with_metadata.mutable_metadata()->mutable_fields();
  fields["b"].set_number_value(1);
  fields["a"].set_string_value("x");
  EXPECT_EQ(FingerprintRequest(with_metadata).sent, kWithMetadata);
  EXPECT_EQ(FingerprintRequest(with_metadata).row, kWithMetadata);
}

TEST(FingerprintRequestTest, SpellingsOfOneRowShareTheRowFingerprint) {
  v1::Task bare = Titled("t");
  bare.mutable_due_time()->set_seconds(1900000000);
  bare.mutable_due_time()->set_nanos(1000);
  const std::string row = FingerprintRequest(bare).row;

  v1::Task spelled = bare;
  spelled.set_status(v1::Task::PENDING);
  spelled.set_priority(v1::Task::MEDIUM);
  spelled.mutable_metadata();
  spelled.mutable_due_time()->set_nanos(1999);  // stored as 1 µs
  // A field of a newer proto, which this build drops.
  spelled.GetReflection()->MutableUnknownFields(&spelled)->AddVarint(99, 1);
  const RequestFingerprints fingerprints = FingerprintRequest(spelled);
  EXPECT_EQ(fingerprints.row, row);
  EXPECT_NE(fingerprints.sent, row);
}

// -0 in metadata, nested too, is stored as 0 (StructToJson): the same row.
TEST(FingerprintRequestTest, MetadataMinusZeroIsTheRowOfZero) {
  auto with_number = [](double number) {
    v1::Task task = Titled("t");
    auto& fields = *task.mutable_metadata()->mutable_fields();
    fields["z"].set_number_value(number);
    auto& list = *fields["l"].mutable_list_value();
    list.add_values()->set_number_value(number);
    (*list.add_values()->mutable_struct_value()->mutable_fields())["n"]
        .set_number_value(number);
    return task;
  };
  const RequestFingerprints zero = FingerprintRequest(with_number(0.0));
  const RequestFingerprints minus = FingerprintRequest(with_number(-0.0));
  EXPECT_EQ(minus.row, zero.row);
  EXPECT_NE(minus.sent, zero.sent);
  EXPECT_EQ(zero.sent, zero.row);
  EXPECT_NE(FingerprintRequest(with_number(-1)).row,
            FingerprintRequest(with_number(1)).row);
}

TEST(FingerprintRequestTest, OtherRowsHaveOtherFingerprints) {
  const v1::Task bare = Titled("t");
  const std::string row = FingerprintRequest(bare).row;
  v1::Task other = bare;
  other.set_status(v1::Task::IN_PROGRESS);
  EXPECT_NE(FingerprintRequest(other).row, row);
  other = bare;
  other.set_priority(v1::Task::LOW);
  EXPECT_NE(FingerprintRequest(other).row, row);
  // A due_time at the epoch, even below its microsecond, is a due_time.
  other = bare;
  other.mutable_due_time()->set_nanos(999);
  EXPECT_NE(FingerprintRequest(other).row, row);
  other = bare;
  (*other.mutable_metadata()->mutable_fields())["k"].set_bool_value(false);
  EXPECT_NE(FingerprintRequest(other).row, row);
  other = bare;
  other.set_project_id(1);
  EXPECT_NE(FingerprintRequest(other).row, row);
}

}  // namespace
}  // namespace tasks::storage
