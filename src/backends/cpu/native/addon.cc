// Node-API glue for the native GEMM: the WASM kernels (assembly/gemm.ts) call these through their
// imports when the native build is on, with the same arguments they take (byte offsets into the
// WASM memory, element strides), so packing, threading and every caller stay as they are.
//
// `bind(view)` returns the entry points for one WASM memory (a Float32Array over its shared buffer
// at offset 0): each function carries that memory's base address (a shared memory never moves, even
// when it grows), so several instances, each with its own memory, never mix. The instruction set is
// picked once, from what this CPU supports, unless TESSERA_NATIVE_ISA names one.
#include <node_api.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "elementwise.h"
#include "gemm-isa.h"
#include "memory.h"
#include "strided.h"

static const GemmIsa* pickIsa() {
  const char* want = std::getenv("TESSERA_NATIVE_ISA");
#if defined(__x86_64__)
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (want && std::strcmp(want, "avx512") == 0 && avx512) return &gemmAvx512;
  if (want && std::strcmp(want, "avx2") == 0 && avx2) return &gemmAvx2;
  if (want && std::strcmp(want, "generic") == 0) return &gemmGeneric;
  if (avx512) return &gemmAvx512;
  if (avx2) return &gemmAvx2;
#else
  (void)want;
#endif
  return &gemmGeneric;
}

static const GemmIsa* isa = pickIsa();

// Reads up to N int32 arguments (missing ones read as 0); returns the memory base bound to the function.
template <size_t N>
static uint8_t* int32Args(napi_env env, napi_callback_info info, int32_t (&out)[N]) {
  size_t argc = N;
  napi_value argv[N];
  void* base = nullptr;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &base);
  for (size_t i = 0; i < N; i++) {
    out[i] = 0;
    if (i < argc) napi_get_value_int32(env, argv[i], &out[i]);
  }
  return static_cast<uint8_t*>(base);
}

// Offsets are unsigned 32-bit (a WASM memory is at most 4 GiB).
static float* at(uint8_t* base, int32_t offset) {
  return reinterpret_cast<float*>(base + static_cast<uint32_t>(offset));
}

static napi_value number(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

// sgemm(M, N, K, a, rsA, csA, b, rsB, csB, c, ldc, accumulate)
static napi_value Sgemm(napi_env env, napi_callback_info info) {
  int32_t v[12];
  uint8_t* base = int32Args(env, info, v);
  isa->gemm(v[0], v[1], v[2], at(base, v[3]), v[4], v[5], at(base, v[6]), v[7], v[8], at(base, v[9]), v[10], v[11],
            0, nullptr);
  return nullptr;
}

// sgemmPacked(M, N, K, a, rsA, csA, bp, np, j0, c, ldc, accumulate)
static napi_value SgemmPacked(napi_env env, napi_callback_info info) {
  int32_t v[12];
  uint8_t* base = int32Args(env, info, v);
  isa->gemmPacked(v[0], v[1], v[2], at(base, v[3]), v[4], v[5], at(base, v[6]), v[7], v[8], at(base, v[9]), v[10],
                  v[11], 0, nullptr);
  return nullptr;
}

// sgemmPackB(K, N, b, rsB, csB, dst)
static napi_value SgemmPackB(napi_env env, napi_callback_info info) {
  int32_t v[6];
  uint8_t* base = int32Args(env, info, v);
  isa->packB(v[0], v[1], at(base, v[2]), v[3], v[4], at(base, v[5]));
  return nullptr;
}

// sgemmPackA(M, K, a, rsA, csA, dst)
static napi_value SgemmPackA(napi_env env, napi_callback_info info) {
  int32_t v[6];
  uint8_t* base = int32Args(env, info, v);
  isa->packA(v[0], v[1], at(base, v[2]), v[3], v[4], at(base, v[5]));
  return nullptr;
}

// Absolute addresses arrive as two int32 halves (the worker pool passes only int32 arguments).
static float* absolute(int32_t lo, int32_t hi) {
  return reinterpret_cast<float*>((static_cast<uint64_t>(static_cast<uint32_t>(hi)) << 32) |
                                  static_cast<uint32_t>(lo));
}

// sgemmAbs(M, N, K, aLo, aHi, rsA, csA, bLo, bHi, rsB, csB, cLo, cHi, ldc, accumulate, relu[, biasLo,
// biasHi]): sgemm on absolute addresses (`address`), so operands can be JavaScript arrays read and
// written in place; relu fuses a following Relu into the last store; bias (absent: none) is a
// column bias added to every row before it (gemm-isa.h).
static napi_value SgemmAbs(napi_env env, napi_callback_info info) {
  int32_t v[18];
  int32Args(env, info, v);
  isa->gemm(v[0], v[1], v[2], absolute(v[3], v[4]), v[5], v[6], absolute(v[7], v[8]), v[9], v[10],
            absolute(v[11], v[12]), v[13], v[14], v[15], absolute(v[16], v[17]));
  return nullptr;
}

// sgemmPackedAbs(M, N, K, aLo, aHi, rsA, csA, bpLo, bpHi, np, j0, cLo, cHi, ldc, accumulate, relu[,
// biasLo, biasHi]): the bias pointer at column j0 of the product, like C.
static napi_value SgemmPackedAbs(napi_env env, napi_callback_info info) {
  int32_t v[18];
  int32Args(env, info, v);
  isa->gemmPacked(v[0], v[1], v[2], absolute(v[3], v[4]), v[5], v[6], absolute(v[7], v[8]), v[9], v[10],
                  absolute(v[11], v[12]), v[13], v[14], v[15], absolute(v[16], v[17]));
  return nullptr;
}

// A Float32Array argument's elements and length; false, with a TypeError thrown, for anything else.
static bool floatsArg(napi_env env, napi_value v, float** data, size_t* length) {
  napi_typedarray_type type;
  void* p = nullptr;
  bool isTyped = false;
  napi_is_typedarray(env, v, &isTyped);
  if (!isTyped || napi_get_typedarray_info(env, v, &type, length, &p, nullptr, nullptr) != napi_ok ||
      type != napi_float32_array) {
    napi_throw_type_error(env, nullptr, "expected a Float32Array");
    return false;
  }
  *data = static_cast<float*>(p);
  return true;
}

// The first N arguments of a call on typed arrays; false (the call returns undefined) when fewer came.
template <size_t N>
static bool arrayArgs(napi_env env, napi_callback_info info, napi_value (&argv)[N]) {
  size_t argc = N;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  return argc >= N;
}

// address(typedArray): the address of its first element, as a number (below 2^53 on every 64-bit
// platform Node runs on). A typed array's elements do not move while it is alive: V8 keeps large
// backing stores off its heap and moves small ones there when their address is first asked for.
static napi_value Address(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  float* data = nullptr;
  size_t length;
  if (!arrayArgs(env, info, argv) || !floatsArg(env, argv[0], &data, &length)) return nullptr;
  return number(env, static_cast<double>(reinterpret_cast<uintptr_t>(data)));
}

// convUnitsAbs(pLo, pHi, u0, u1): convolution work units, the parameter block at an absolute address.
static napi_value ConvUnitsAbs(napi_env env, napi_callback_info info) {
  int32_t v[4];
  int32Args(env, info, v);
  isa->convUnits(reinterpret_cast<const int32_t*>(absolute(v[0], v[1])), v[2], v[3]);
  return nullptr;
}

// depthwiseUnitsAbs(pLo, pHi, u0, u1): depthwise output planes, the same parameter block.
static napi_value DepthwiseUnitsAbs(napi_env env, napi_callback_info info) {
  int32_t v[4];
  int32Args(env, info, v);
  isa->depthwiseUnits(reinterpret_cast<const int32_t*>(absolute(v[0], v[1])), v[2], v[3]);
  return nullptr;
}

// copyAbs(dLo, dHi, sLo, sHi, bytes): a block copy between absolute addresses (a share of a large
// Concat, on the worker pool).
static napi_value CopyAbs(napi_env env, napi_callback_info info) {
  int32_t v[5];
  int32Args(env, info, v);
  std::memcpy(absolute(v[0], v[1]), absolute(v[2], v[3]), static_cast<uint32_t>(v[4]));
  return nullptr;
}

// channelAffineAbs(xLo, xHi, yLo, yHi, sLo, sHi, tLo, tHi, C, L, relu, p0, p1): planes [p0, p1) of
// the per-channel affine (+ Relu) at absolute addresses (a share of a large one, on the worker pool).
static napi_value ChannelAffineAbs(napi_env env, napi_callback_info info) {
  int32_t v[13];
  int32Args(env, info, v);
  channelAffineF32(absolute(v[0], v[1]), absolute(v[2], v[3]), v[11], v[12], v[8], v[9],
                   absolute(v[4], v[5]), absolute(v[6], v[7]), v[10] != 0);
  return nullptr;
}

// maxPoolUnitsAbs(pLo, pHi, u0, u1): MaxPool values of planes [u0, u1), the same parameter block.
static napi_value MaxPoolUnitsAbs(napi_env env, napi_callback_info info) {
  int32_t v[4];
  int32Args(env, info, v);
  isa->maxPoolUnits(reinterpret_cast<const int32_t*>(absolute(v[0], v[1])), v[2], v[3]);
  return nullptr;
}

// convPackUnitsAbs(pLo, pHi, u0, u1): a transposed convolution's packed cols^T, units (image, channel).
static napi_value ConvPackUnitsAbs(napi_env env, napi_callback_info info) {
  int32_t v[4];
  int32Args(env, info, v);
  isa->convPackUnits(reinterpret_cast<const int32_t*>(absolute(v[0], v[1])), v[2], v[3]);
  return nullptr;
}

// sgemmPackedBytes(K, N)
static napi_value SgemmPackedBytes(napi_env env, napi_callback_info info) {
  int32_t v[2];
  int32Args(env, info, v);
  return number(env, static_cast<double>(isa->packedBytes(v[0], v[1])));
}

static napi_value PanelWidth(napi_env env, napi_callback_info) { return number(env, isa->nr); }

static napi_value PanelRows(napi_env env, napi_callback_info) { return number(env, isa->mr); }

// panelTailStart(M): the row where an M-row A's last panels start (gemm-kernel.inc tailStart).
static napi_value PanelTailStart(napi_env env, napi_callback_info info) {
  int32_t v[1];
  int32Args(env, info, v);
  return number(env, isa->tailStart(v[0]));
}

static napi_value IsaName(napi_env env, napi_callback_info) {
  napi_value r;
  napi_create_string_utf8(env, isa->name, NAPI_AUTO_LENGTH, &r);
  return r;
}

// channelAffine(x, y, C, L, scale, shift, relu): y[p, l] = x[p, l] * scale[p % C] + shift[p % C]
// (then Relu) over y.length / L planes; x at least as long as y, scale and shift C long.
static napi_value ChannelAffine(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!arrayArgs(env, info, argv)) return nullptr;
  size_t nx, ny, ns, nt;
  float *x, *y, *s, *t;
  if (!floatsArg(env, argv[0], &x, &nx) || !floatsArg(env, argv[1], &y, &ny) || !floatsArg(env, argv[4], &s, &ns) ||
      !floatsArg(env, argv[5], &t, &nt))
    return nullptr;
  int32_t C = 0, L = 0;
  bool relu = false;
  napi_get_value_int32(env, argv[2], &C);
  napi_get_value_int32(env, argv[3], &L);
  napi_get_value_bool(env, argv[6], &relu);
  if (C <= 0 || L <= 0 || nx < ny || ns < (size_t)C || nt < (size_t)C || ny % L != 0) {
    napi_throw_range_error(env, nullptr, "channelAffine: inconsistent sizes");
    return nullptr;
  }
  channelAffineF32(x, y, 0, (long)(ny / L), C, L, s, t, relu);
  return nullptr;
}

// addRelu(a, b, y): y = max(a + b, 0) over y.length elements (a and b at least as long).
static napi_value AddRelu(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!arrayArgs(env, info, argv)) return nullptr;
  size_t na, nb, ny;
  float *a, *b, *y;
  if (!floatsArg(env, argv[0], &a, &na) || !floatsArg(env, argv[1], &b, &nb) || !floatsArg(env, argv[2], &y, &ny))
    return nullptr;
  if (na < ny || nb < ny) {
    napi_throw_range_error(env, nullptr, "addRelu: inputs shorter than the output");
    return nullptr;
  }
  addReluF32(a, b, y, (long)ny);
  return nullptr;
}

// relu(x, y): y = max(x, 0) over y.length elements.
static napi_value Relu(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!arrayArgs(env, info, argv)) return nullptr;
  size_t nx, ny;
  float *x, *y;
  if (!floatsArg(env, argv[0], &x, &nx) || !floatsArg(env, argv[1], &y, &ny)) return nullptr;
  if (nx < ny) {
    napi_throw_range_error(env, nullptr, "relu: input shorter than the output");
    return nullptr;
  }
  reluF32(x, y, (long)ny);
  return nullptr;
}

// Any typed array's data, length and element size (BigInt64Array included).
static bool typedArg(napi_env env, napi_value v, void** data, size_t* length, int* elemBytes) {
  napi_typedarray_type type;
  bool isTyped = false;
  napi_is_typedarray(env, v, &isTyped);
  if (!isTyped || napi_get_typedarray_info(env, v, &type, length, data, nullptr, nullptr) != napi_ok) {
    napi_throw_type_error(env, nullptr, "expected a typed array");
    return false;
  }
  switch (type) {
    case napi_int8_array:
    case napi_uint8_array:
    case napi_uint8_clamped_array:
      *elemBytes = 1;
      break;
    case napi_int16_array:
    case napi_uint16_array:
      *elemBytes = 2;
      break;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array:
      *elemBytes = 8;
      break;
    default:
      *elemBytes = 4;
  }
  return true;
}

// gather(src, offset, dst, dims): dst (dense) <- the elements of src at offset + sum(i_k * stride_k)
// for i in shape, dims being a Float64Array [shape..., strides...] of one rank. Every offset read
// is checked against src's length first.
static napi_value Gather(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!arrayArgs(env, info, argv)) return nullptr;
  void *src, *dst, *dimsData;
  size_t ns, nd, ndims;
  int es, ed, edims;
  if (!typedArg(env, argv[0], &src, &ns, &es) || !typedArg(env, argv[2], &dst, &nd, &ed) ||
      !typedArg(env, argv[3], &dimsData, &ndims, &edims))
    return nullptr;
  double offset = 0;
  napi_get_value_double(env, argv[1], &offset);
  const int rank = (int)(ndims / 2);
  if (es != ed || edims != 8 || ndims % 2 != 0 || rank < 1 || rank > MAX_GATHER_RANK) {
    napi_throw_range_error(env, nullptr, "gather: element sizes differ or the rank is out of range");
    return nullptr;
  }
  const double* dims = static_cast<const double*>(dimsData);
  long shape[MAX_GATHER_RANK], stride[MAX_GATHER_RANK];
  double count = 1, lo = offset, hi = offset;
  for (int k = 0; k < rank; k++) {
    shape[k] = (long)dims[k];
    stride[k] = (long)dims[rank + k];
    count *= dims[k];
    const double reach = (dims[k] - 1) * dims[rank + k];
    if (reach < 0) lo += reach;
    else hi += reach;
  }
  if (count != (double)nd || (count > 0 && (lo < 0 || hi >= (double)ns))) {
    napi_throw_range_error(env, nullptr, "gather: the view reaches outside its source or the output's length differs");
    return nullptr;
  }
  if (count > 0)
    gatherStrided(static_cast<const uint8_t*>(src) + (long)offset * es, dst, es, rank, shape, stride);
  return nullptr;
}

// globalPool(x, y, P, max): y[q] = mean (or max) of x's plane q of P floats, for y.length planes.
static napi_value GlobalPool(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!arrayArgs(env, info, argv)) return nullptr;
  size_t nx, ny;
  float *x, *y;
  if (!floatsArg(env, argv[0], &x, &nx) || !floatsArg(env, argv[1], &y, &ny)) return nullptr;
  int32_t P = 0;
  bool max = false;
  napi_get_value_int32(env, argv[2], &P);
  napi_get_value_bool(env, argv[3], &max);
  if (P <= 0 || nx < ny * (size_t)P) {
    napi_throw_range_error(env, nullptr, "globalPool: input shorter than planes x P");
    return nullptr;
  }
  globalPoolF32(x, y, (long)ny, P, max);
  return nullptr;
}

// softmaxRows(x, y, len, log): y = softmax (log-softmax) of each row of len floats of x, y.length
// floats in all.
static napi_value SoftmaxRows(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!arrayArgs(env, info, argv)) return nullptr;
  size_t nx, ny;
  float *x, *y;
  if (!floatsArg(env, argv[0], &x, &nx) || !floatsArg(env, argv[1], &y, &ny)) return nullptr;
  int32_t len = 0;
  bool log = false;
  napi_get_value_int32(env, argv[2], &len);
  napi_get_value_bool(env, argv[3], &log);
  if (len <= 0 || nx < ny || ny % (size_t)len != 0) {
    napi_throw_range_error(env, nullptr, "softmaxRows: y must be whole rows of len floats, x at least as long");
    return nullptr;
  }
  softmaxRowsF32(x, y, (long)(ny / len), len, log);
  return nullptr;
}

struct Entry {
  const char* name;
  napi_callback cb;
};

static void define(napi_env env, napi_value target, const Entry* entries, size_t n, void* data) {
  for (size_t i = 0; i < n; i++) {
    napi_value fn;
    napi_create_function(env, entries[i].name, NAPI_AUTO_LENGTH, entries[i].cb, data, &fn);
    napi_set_named_property(env, target, entries[i].name, fn);
  }
}

static const Entry bound[] = {{"sgemm", Sgemm},
                              {"sgemmPacked", SgemmPacked},
                              {"sgemmPackB", SgemmPackB},
                              {"sgemmPackedBytes", SgemmPackedBytes},
                              {"sgemmPackA", SgemmPackA},
                              {"sgemmAbs", SgemmAbs},
                              {"sgemmPackedAbs", SgemmPackedAbs},
                              {"convUnitsAbs", ConvUnitsAbs},
                              {"depthwiseUnitsAbs", DepthwiseUnitsAbs},
                              {"maxPoolUnitsAbs", MaxPoolUnitsAbs},
                              {"convPackUnitsAbs", ConvPackUnitsAbs},
                              {"copyAbs", CopyAbs},
                              {"channelAffineAbs", ChannelAffineAbs},
                              {"address", Address},
                              {"panelWidth", PanelWidth}};

// bind(view): the entry points above for the memory `view` starts at.
static napi_value Bind(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  napi_typedarray_type type;
  size_t length, offset;
  void* data = nullptr;
  napi_value buffer;
  bool isTyped = false;
  if (argc >= 1) napi_is_typedarray(env, argv[0], &isTyped);
  if (!isTyped || napi_get_typedarray_info(env, argv[0], &type, &length, &data, &buffer, &offset) != napi_ok ||
      offset != 0 || data == nullptr) {
    napi_throw_type_error(env, nullptr, "bind: expected a typed array at offset 0 of the WASM memory's buffer");
    return nullptr;
  }
  napi_value out;
  napi_create_object(env, &out);
  define(env, out, bound, sizeof bound / sizeof bound[0], data);
  return out;
}

// keepFreedMemory(bytes): see memory.cc; true when the policy took effect.
static napi_value KeepFreedMemory(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  double bytes = 0;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 1 ||
      napi_get_value_double(env, argv[0], &bytes) != napi_ok || !(bytes >= 0)) {
    napi_throw_type_error(env, nullptr, "keepFreedMemory: expected a byte count");
    return nullptr;
  }
  napi_value out;
  napi_get_boolean(env, keepFreedMemory((size_t)bytes), &out);
  return out;
}

NAPI_MODULE_INIT() {
  static const Entry top[] = {
      {"bind", Bind},         {"panelWidth", PanelWidth}, {"panelRows", PanelRows}, {"isa", IsaName},
      {"panelTailStart", PanelTailStart},
      {"channelAffine", ChannelAffine}, {"addRelu", AddRelu},      {"relu", Relu},
      {"gather", Gather},
      {"globalPool", GlobalPool}, {"softmaxRows", SoftmaxRows}, {"keepFreedMemory", KeepFreedMemory}};
  define(env, exports, top, sizeof top / sizeof top[0], nullptr);
  return exports;
}
