// Why Tessera tunes malloc: every eager op and every session output is a fresh typed array, whose
// memory V8 takes from malloc. With glibc's defaults the arrays of a few MiB that a loop of
// products allocates and frees are handed back to the kernel (heap trims, munmaps) between
// garbage collections and taken again: each new array page-faults on its first writes, and each
// release shoots down the other threads' TLBs. A 1024 x 1024 product on two threads spent ~1 ms of
// its ~7 ms that way (`bench/run.ts`, the scaling rows). Keeping the freed pages in the heap (what
// onnxruntime's arena allocator does for its own tensors) makes that reuse free.
#include "memory.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

bool keepFreedMemory(size_t bytes) {
#if defined(__GLIBC__)
  // 32 MiB is the largest mmap threshold glibc accepts on 64-bit, and where its own adaptive
  // threshold stops; setting the trim threshold turns that adaptation off, so both are set.
  constexpr int MMAP_THRESHOLD = 32 << 20;
  const int trim = bytes > (size_t)1 << 30 ? 1 << 30 : (int)bytes;
  return mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 && mallopt(M_TRIM_THRESHOLD, trim) == 1;
#else
  (void)bytes;
  return false;
#endif
}
