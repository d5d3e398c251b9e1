// Strided gather of strided.cc (any typed array's elements, by size).
#pragma once

constexpr int MAX_GATHER_RANK = 16;

// dst (dense, row-major) <- the elements of src at offsets sum(i_k * stride[k]) for i in shape; false
// (nothing copied) for a rank outside [1, MAX_GATHER_RANK] or an element size not 1, 2, 4 or 8.
bool gatherStrided(const void* src, void* dst, int elemBytes, int rank, const long* shape, const long* stride);
