// The process's malloc policy for tensor arrays (memory.cc).
#pragma once

#include <cstddef>

// Lets malloc keep up to `bytes` of freed memory at the top of its heap (and serve blocks up to
// 32 MiB from the heap), so the next array of a freed one's size reuses its pages. False, changing
// nothing, where the C library is not glibc or refuses the values.
bool keepFreedMemory(size_t bytes);
