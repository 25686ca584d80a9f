#ifndef TASKS_TESTS_TESTING_PROTO_MATCHERS_H_
#define TASKS_TESTS_TESTING_PROTO_MATCHERS_H_

#include <ostream>
#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/message_differencer.h"

namespace tasks::testing {
namespace internal_proto {

template <typename Message>
class EqualsProtoMatcher {
 public:
  explicit EqualsProtoMatcher(Message expected)
      : expected_(std::move(expected)) {}

  void DescribeTo(std::ostream* os) const {
    *os << "equals " << expected_.ShortDebugString();
  }

  void DescribeNegationTo(std::ostream* os) const {
    *os << "doesn't equal " << expected_.ShortDebugString();
  }

  bool MatchAndExplain(const Message& actual,
                       ::testing::MatchResultListener* listener) const {
    std::string differences;
    google::protobuf::util::MessageDifferencer differencer;
    differencer.ReportDifferencesToString(&differences);
    if (differencer.Compare(expected_, actual)) return true;
    *listener << "which is " << actual.ShortDebugString()
              << "\nwith differences:\n"
              << differences;
    return false;
  }

 private:
  const Message expected_;
};

}  // namespace internal_proto

// Matches a message of the same type equal to `expected`, field by field
// (unknown fields included); on mismatch it lists the differing fields.
//   EXPECT_THAT(store.GetTask(id), IsOkAndHolds(EqualsProto(created)));
template <typename Message>
::testing::PolymorphicMatcher<internal_proto::EqualsProtoMatcher<Message>>
EqualsProto(const Message& expected) {
  return ::testing::MakePolymorphicMatcher(
      internal_proto::EqualsProtoMatcher<Message>(expected));
}

}  // namespace tasks::testing

#endif  // TASKS_TESTS_TESTING_PROTO_MATCHERS_H_
