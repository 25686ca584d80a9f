#ifndef TASKS_BENCH_BENCH_PROCESS_H_
#define TASKS_BENCH_BENCH_PROCESS_H_

namespace tasks::bench {

// Start of every benchmark program: parses the Abseil flags (exits on a bad
// one) and turns off absl::Mutex deadlock detection, which Debian's Abseil
// (built without NDEBUG) leaves on: it updates a lock graph on every
// contended lock and every mutex destroyed, which gRPC does per call.
void InitBenchProcess(int argc, char** argv);

}  // namespace tasks::bench

#endif  // TASKS_BENCH_BENCH_PROCESS_H_
