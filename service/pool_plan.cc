#include "service/pool_plan.h"

#include <algorithm>

namespace tasks::service {

PoolPlan PlanPool(int requested_pool_size, int max_concurrent_lists,
                  int queue_thread_readers, int backend_default) {
  // The health probe and one writer, besides the queue threads' reads.
  const int beside_lists = 2 + queue_thread_readers;
  if (requested_pool_size == 0) {
    return {std::max(backend_default, max_concurrent_lists + beside_lists),
            max_concurrent_lists, false};
  }
  if (requested_pool_size >= max_concurrent_lists + beside_lists) {
    return {requested_pool_size, max_concurrent_lists, false};
  }
  return {requested_pool_size, std::max(1, requested_pool_size - beside_lists),
          true};
}

}  // namespace tasks::service
