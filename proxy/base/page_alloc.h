// SPDX-License-Identifier: MIT
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <new>

namespace proxy::base {

// Memory mapped on its own, for per-request blocks of several KiB. Freed, it goes straight back to
// the system instead of pinning heap pages between the small, long-lived connection objects (which
// would make idle connections look as costly as the busiest moment). Callers keep free lists, so
// the steady state makes no system call.
inline void* page_alloc(size_t size) {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return p;
}

inline void page_free(void* p, size_t size) {
  if (p) munmap(p, size);
}

}  // namespace proxy::base
