#ifndef TASKS_SERVICE_POOL_PLAN_H_
#define TASKS_SERVICE_POOL_PLAN_H_

namespace tasks::service {

// PlanPool()
//
// How many database connections a pooled store (a SQLite file, PostgreSQL)
// opens, and how many list calls may run at once, so that lists never hold
// every connection: the health probe, a writer and, with SQLite, the point
// reads of each completion-queue thread (which wait for a connection on that
// thread, health checks included) need theirs.
//   requested_pool_size   --pool_size; 0 for the backend's default
//   max_concurrent_lists  --max_concurrent_lists
//   queue_thread_readers  completion-queue threads that read (0 unless
//                         reads run on them)
//   backend_default       the backend's own pool size
// Without a requested size the pool grows to leave room beside the lists;
// with a smaller one, fewer lists run at once (at least one).
//
// Example:
//   PoolPlan plan = PlanPool(0, 4, /*queue_thread_readers=*/1, 4);
//   // plan.pool_size == 7, plan.max_concurrent_lists == 4
struct PoolPlan {
  int pool_size;
  int max_concurrent_lists;
  // max_concurrent_lists is below the one asked for (worth a warning).
  bool lists_lowered;
};

PoolPlan PlanPool(int requested_pool_size, int max_concurrent_lists,
                  int queue_thread_readers, int backend_default);

}  // namespace tasks::service

#endif  // TASKS_SERVICE_POOL_PLAN_H_
