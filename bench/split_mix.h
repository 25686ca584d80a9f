#ifndef TASKS_BENCH_SPLIT_MIX_H_
#define TASKS_BENCH_SPLIT_MIX_H_

#include <cstdint>

namespace tasks::bench {

// splitmix64: a cheap, allocation-free generator, good enough to spread
// benchmark reads over rows. One state per thread.
inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace tasks::bench

#endif  // TASKS_BENCH_SPLIT_MIX_H_
