#ifndef TASKS_TESTS_TESTING_STATUS_MATCHERS_H_
#define TASKS_TESTS_TESTING_STATUS_MATCHERS_H_

// GoogleMock matchers and assertions for absl::Status and absl::StatusOr<T>
// (Debian's Abseil 20220623 ships none):
//
//   EXPECT_THAT(store.GetTask(id), StatusIs(absl::StatusCode::kNotFound));
//   EXPECT_THAT(store.CreateTask(t, ""),
//               StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("t")));
//   EXPECT_THAT(status, ReasonIs(reason::kEtagMismatch));
//   EXPECT_THAT(store.GetTask(id), IsOkAndHolds(Field(&Task::id, id)));
//   ASSERT_OK_AND_ASSIGN(v1::Task task, store.GetTask(id));

#include <optional>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tasks::testing {
namespace internal_status {

inline const absl::Status& GetStatus(const absl::Status& status) {
  return status;
}

template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

// Matches an OK StatusOr<T> whose value matches an inner matcher.
template <typename StatusOrType>
class IsOkAndHoldsMatcherImpl
    : public ::testing::MatcherInterface<StatusOrType> {
 public:
  using ValueType = typename std::remove_reference_t<StatusOrType>::value_type;

  template <typename InnerMatcher>
  explicit IsOkAndHoldsMatcherImpl(InnerMatcher&& inner)
      : inner_(::testing::SafeMatcherCast<const ValueType&>(
            std::forward<InnerMatcher>(inner))) {}

  void DescribeTo(std::ostream* os) const override {
    *os << "is OK and has a value that ";
    inner_.DescribeTo(os);
  }

  void DescribeNegationTo(std::ostream* os) const override {
    *os << "isn't OK or has a value that ";
    inner_.DescribeNegationTo(os);
  }

  bool MatchAndExplain(
      StatusOrType actual,
      ::testing::MatchResultListener* listener) const override {
    if (!actual.ok()) {
      *listener << "whose status is " << actual.status();
      return false;
    }
    ::testing::StringMatchResultListener inner_listener;
    const bool matches = inner_.MatchAndExplain(*actual, &inner_listener);
    const std::string explanation = inner_listener.str();
    *listener << "whose value " << ::testing::PrintToString(*actual)
              << (matches ? " matches" : " doesn't match");
    if (!explanation.empty()) *listener << ", " << explanation;
    return matches;
  }

 private:
  const ::testing::Matcher<const ValueType&> inner_;
};

template <typename InnerMatcher>
class IsOkAndHoldsMatcher {
 public:
  explicit IsOkAndHoldsMatcher(InnerMatcher inner) : inner_(std::move(inner)) {}

  template <typename StatusOrType>
  operator ::testing::Matcher<StatusOrType>() const {  // NOLINT
    return ::testing::Matcher<StatusOrType>(
        new IsOkAndHoldsMatcherImpl<const StatusOrType&>(inner_));
  }

 private:
  const InnerMatcher inner_;
};

// Matches a Status or StatusOr<T> whose code and message match.
class StatusIsMatcherCommonImpl {
 public:
  StatusIsMatcherCommonImpl(::testing::Matcher<absl::StatusCode> code,
                            ::testing::Matcher<const std::string&> message)
      : code_(std::move(code)), message_(std::move(message)) {}

  void DescribeTo(std::ostream* os) const {
    *os << "has a status code that ";
    code_.DescribeTo(os);
    *os << ", and has a message that ";
    message_.DescribeTo(os);
  }

  void DescribeNegationTo(std::ostream* os) const {
    *os << "has a status code that ";
    code_.DescribeNegationTo(os);
    *os << ", or has a message that ";
    message_.DescribeNegationTo(os);
  }

  bool MatchAndExplain(const absl::Status& status,
                       ::testing::MatchResultListener* listener) const {
    *listener << "whose status is " << status;
    ::testing::StringMatchResultListener inner;
    if (!code_.MatchAndExplain(status.code(), &inner)) return false;
    return message_.MatchAndExplain(std::string(status.message()), &inner);
  }

 private:
  const ::testing::Matcher<absl::StatusCode> code_;
  const ::testing::Matcher<const std::string&> message_;
};

template <typename T>
class MonoStatusIsMatcherImpl : public ::testing::MatcherInterface<T> {
 public:
  explicit MonoStatusIsMatcherImpl(StatusIsMatcherCommonImpl common)
      : common_(std::move(common)) {}

  void DescribeTo(std::ostream* os) const override { common_.DescribeTo(os); }

  void DescribeNegationTo(std::ostream* os) const override {
    common_.DescribeNegationTo(os);
  }

  bool MatchAndExplain(
      T actual, ::testing::MatchResultListener* listener) const override {
    return common_.MatchAndExplain(GetStatus(actual), listener);
  }

 private:
  StatusIsMatcherCommonImpl common_;
};

class StatusIsMatcher {
 public:
  template <typename CodeMatcher, typename MessageMatcher>
  StatusIsMatcher(CodeMatcher&& code, MessageMatcher&& message)
      : common_(::testing::MatcherCast<absl::StatusCode>(
                    std::forward<CodeMatcher>(code)),
                ::testing::MatcherCast<const std::string&>(
                    std::forward<MessageMatcher>(message))) {}

  template <typename T>
  operator ::testing::Matcher<T>() const {  // NOLINT
    return ::testing::Matcher<T>(
        new MonoStatusIsMatcherImpl<const T&>(common_));
  }

 private:
  const StatusIsMatcherCommonImpl common_;
};

// Matches a Status or StatusOr<T> that carries an ErrorReason.
template <typename T>
class ReasonIsMatcherImpl : public ::testing::MatcherInterface<T> {
 public:
  explicit ReasonIsMatcherImpl(std::string reason)
      : reason_(std::move(reason)) {}

  void DescribeTo(std::ostream* os) const override {
    *os << "has error reason " << reason_;
  }

  void DescribeNegationTo(std::ostream* os) const override {
    *os << "doesn't have error reason " << reason_;
  }

  bool MatchAndExplain(
      T actual, ::testing::MatchResultListener* listener) const override {
    const absl::Status& status = GetStatus(actual);
    std::optional<std::string> reason = ErrorReason(status);
    *listener << "whose status is " << status << " with reason "
              << (reason.has_value() ? *reason : "(none)");
    return reason == reason_;
  }

 private:
  const std::string reason_;
};

class ReasonIsMatcher {
 public:
  explicit ReasonIsMatcher(std::string reason) : reason_(std::move(reason)) {}

  template <typename T>
  operator ::testing::Matcher<T>() const {  // NOLINT
    return ::testing::Matcher<T>(new ReasonIsMatcherImpl<const T&>(reason_));
  }

 private:
  const std::string reason_;
};

}  // namespace internal_status

// Matches an OK absl::StatusOr<T> whose value matches `inner`.
template <typename InnerMatcher>
internal_status::IsOkAndHoldsMatcher<std::decay_t<InnerMatcher>> IsOkAndHolds(
    InnerMatcher&& inner) {
  return internal_status::IsOkAndHoldsMatcher<std::decay_t<InnerMatcher>>(
      std::forward<InnerMatcher>(inner));
}

// Matches a Status or StatusOr<T> whose code matches `code` and whose message
// matches `message`.
template <typename CodeMatcher, typename MessageMatcher>
internal_status::StatusIsMatcher StatusIs(CodeMatcher&& code,
                                          MessageMatcher&& message) {
  return internal_status::StatusIsMatcher(
      std::forward<CodeMatcher>(code), std::forward<MessageMatcher>(message));
}

// Matches a Status or StatusOr<T> whose code matches `code`.
template <typename CodeMatcher>
internal_status::StatusIsMatcher StatusIs(CodeMatcher&& code) {
  return StatusIs(std::forward<CodeMatcher>(code), ::testing::_);
}

// Matches an OK Status or StatusOr<T>.
inline internal_status::StatusIsMatcher IsOk() {
  return StatusIs(absl::StatusCode::kOk);
}

// Matches a Status or StatusOr<T> carrying the error reason `reason` (see
// common/error_reason.h).
inline internal_status::ReasonIsMatcher ReasonIs(std::string reason) {
  return internal_status::ReasonIsMatcher(std::move(reason));
}

}  // namespace tasks::testing

namespace absl {

// Prints a StatusOr in test failure messages (found by argument-dependent
// lookup; Abseil 20220623 has no printer of its own).
template <typename T>
void PrintTo(const StatusOr<T>& status_or, std::ostream* os) {
  if (status_or.ok()) {
    *os << ::testing::PrintToString(*status_or);
  } else {
    *os << status_or.status();
  }
}

}  // namespace absl

#define TASKS_STATUS_MATCHERS_CONCAT_INNER_(x, y) x##y
#define TASKS_STATUS_MATCHERS_CONCAT_(x, y) \
  TASKS_STATUS_MATCHERS_CONCAT_INNER_(x, y)

// Fails the test (fatally / non-fatally) unless `expr` is OK.
#define ASSERT_OK(expr) ASSERT_THAT(expr, ::tasks::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT(expr, ::tasks::testing::IsOk())

// Declares `lhs` from the value of an absl::StatusOr, or fails the test.
//   ASSERT_OK_AND_ASSIGN(v1::Task task, store.GetTask(id));
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(            \
      TASKS_STATUS_MATCHERS_CONCAT_(status_or_value_, __LINE__), lhs, rexpr)

#define ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, rexpr)             \
  auto statusor = (rexpr);                                           \
  ASSERT_TRUE(statusor.ok()) << #rexpr << ": " << statusor.status(); \
  lhs = std::move(statusor).value()

#endif  // TASKS_TESTS_TESTING_STATUS_MATCHERS_H_
