// glibc malloc tuning that only the environment can set.
//
// glibc keeps a per-thread cache of freed chunks, 7 per size class by
// default. A worker with dozens of requests in flight frees more than 7
// chunks of a size before it allocates them again, so the rest go to the
// shared bins, and the next large allocation (a request's coroutine frames are
// a few KiB) sorts and consolidates them. Under callgrind at 64 connections
// that is about 5k instructions per request, 8 % of the pass-through
// (docs/BENCHMARKS.md). glibc reads its tunables once, at startup, from
// GLIBC_TUNABLES: a process that wants them sets the variable and executes
// itself again.
#pragma once

namespace llmgate::process {

// The tunable applied: a deeper per-thread cache.
inline constexpr const char* kMallocTunables = "glibc.malloc.tcache_count=256";

// Executes the running binary again with kMallocTunables added to
// GLIBC_TUNABLES, unless it is there already (the operator's own choice, or
// the second start), LLMGATE_MALLOC_DEFAULTS=1 asks for glibc's defaults,
// the C library is not glibc, or a sanitizer owns malloc. Returns only when
// it does not exec (including when exec fails: the defaults then stay).
// Call first thing in main(), before any thread exists.
void applyMallocTunables(char** argv);

}  // namespace llmgate::process
