#include "tests/testing/figure.h"

#include <iostream>

#include "gtest/gtest.h"

namespace tasks::testing {

void ReportFigure(const std::string& figure) {
  const ::testing::TestInfo* test =
      ::testing::UnitTest::GetInstance()->current_test_info();
  std::cout << "FIGURE " << test->test_suite_name() << "." << test->name()
            << ": " << figure << std::endl;
  ::testing::Test::RecordProperty("figure", figure);
}

}  // namespace tasks::testing
