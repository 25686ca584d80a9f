#ifndef TASKS_SERVICE_MALLOC_ARENAS_H_
#define TASKS_SERVICE_MALLOC_ARENAS_H_

namespace tasks::service {

// LimitMallocArenas()
//
// Caps glibc's malloc at one arena per core (at least 2), unless the
// MALLOC_ARENA_MAX environment variable sets a cap of its own; returns the
// cap in force. glibc's default, eight arenas per core, lets every worker
// thread keep its own arena, and each keeps the peak of the largest list
// page it ever built (~20 MB for the heaviest rows) after freeing it: 16
// clients listing such pages took a SQLite server to 353 MiB of RSS, 181 MiB
// with this cap (//tests/reliability:list_memory_*). Call once, before
// threads start.
int LimitMallocArenas();

}  // namespace tasks::service

#endif  // TASKS_SERVICE_MALLOC_ARENAS_H_
