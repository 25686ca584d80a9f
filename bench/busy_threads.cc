#include "bench/busy_threads.h"

#include <cstdint>

namespace tasks::bench {

BusyThreads::BusyThreads(int count) {
  for (int i = 0; i < count; ++i) {
    threads_.emplace_back([this] {
      // Arithmetic the compiler cannot drop, checking the flag now and then.
      volatile uint64_t sink = 0;
      while (!stop_.load(std::memory_order_relaxed)) {
        for (int j = 0; j < 100000; ++j) sink = sink * 6364136223846793005u + 1;
      }
    });
  }
}

BusyThreads::~BusyThreads() {
  stop_.store(true);
  for (std::thread& thread : threads_) thread.join();
}

}  // namespace tasks::bench
