// Strided copies: a tensor view's elements gathered in row-major order into a dense array (Reshape
// of a transposed tensor, DepthToSpace, channel shuffles). The caller has merged contiguous dims
// and dropped dims of size 1; the two innermost dims run as plain loops (memcpy when the innermost
// is contiguous), the rest as an odometer.
#include <cstdint>
#include <cstring>

#include "strided.h"

template <typename T>
static void gatherT(const T* s, T* d, int rank, const long* shape, const long* stride) {
  const long run = shape[rank - 1], step = stride[rank - 1];
  const long rows = rank >= 2 ? shape[rank - 2] : 1, rstep = rank >= 2 ? stride[rank - 2] : 0;
  const int outerRank = rank >= 2 ? rank - 2 : 0;
  long outer = 1;
  for (int i = 0; i < outerRank; i++) outer *= shape[i];
  long idx[MAX_GATHER_RANK] = {0};
  long p = 0;
  for (long o = 0; o < outer; o++) {
    const T* base = s + p;
    for (long r = 0; r < rows; r++, d += run) {
      const T* row = base + r * rstep;
      if (step == 1) {
        std::memcpy(d, row, run * sizeof(T));
      } else {
        for (long j = 0; j < run; j++) d[j] = row[j * step];
      }
    }
    for (int k = outerRank - 1; k >= 0; k--) {
      if (++idx[k] < shape[k]) {
        p += stride[k];
        break;
      }
      p -= stride[k] * (shape[k] - 1);
      idx[k] = 0;
    }
  }
}

bool gatherStrided(const void* src, void* dst, int elemBytes, int rank, const long* shape, const long* stride) {
  if (rank < 1 || rank > MAX_GATHER_RANK) return false;
  switch (elemBytes) {
    case 1:
      gatherT(static_cast<const uint8_t*>(src), static_cast<uint8_t*>(dst), rank, shape, stride);
      return true;
    case 2:
      gatherT(static_cast<const uint16_t*>(src), static_cast<uint16_t*>(dst), rank, shape, stride);
      return true;
    case 4:
      gatherT(static_cast<const uint32_t*>(src), static_cast<uint32_t*>(dst), rank, shape, stride);
      return true;
    case 8:
      gatherT(static_cast<const uint64_t*>(src), static_cast<uint64_t*>(dst), rank, shape, stride);
      return true;
    default:
      return false;
  }
}
