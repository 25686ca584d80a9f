#ifndef TASKS_TESTS_TESTING_FIGURE_H_
#define TASKS_TESTS_TESTING_FIGURE_H_

#include <string>

namespace tasks::testing {

// Prints "FIGURE <suite>.<test>: <figure>" for the running test and records
// the figure as its "figure" property in the test's XML.
void ReportFigure(const std::string& figure);

}  // namespace tasks::testing

#endif  // TASKS_TESTS_TESTING_FIGURE_H_
