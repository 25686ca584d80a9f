#include "service/malloc_arenas.h"

#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "absl/strings/numbers.h"

namespace tasks::service {

int LimitMallocArenas() {
  // glibc reads the variable itself; report what it set.
  if (const char* set = std::getenv("MALLOC_ARENA_MAX"); set != nullptr) {
    int cap = 0;
    if (absl::SimpleAtoi(set, &cap)) return cap;
  }
  const int cap =
      std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  mallopt(M_ARENA_MAX, cap);
  return cap;
}

}  // namespace tasks::service
