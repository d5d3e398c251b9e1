// The native GEMM (src/backends/cpu/native, a Node-API addon compiled from C++ at install) as
// imports of this module. When the addon is loaded, runtime.ts provides these imports and sets the
// flag word at NATIVE_FLAG in the shared memory; the sgemm entry points of gemm.ts then hand the
// whole product to it, with the same arguments (offsets into this memory), so every caller (the
// TypeScript drivers, the tiled convolution, worker threads) gets it with no change. Without the
// addon the imports are stubs that throw and the flag stays 0.

/** Byte offset of the flag word (below the arena's first allocation at 1024; keep in sync with runtime.ts). */
export const NATIVE_FLAG: usize = 512;

// @ts-ignore: decorator
@inline
export function nativeOn(): bool {
  return load<i32>(NATIVE_FLAG) != 0;
}

// @ts-ignore: decorator
@external('env', 'nativeSgemm')
export declare function nativeSgemm(
  M: i32,
  N: i32,
  K: i32,
  a: usize,
  rsA: i32,
  csA: i32,
  b: usize,
  rsB: i32,
  csB: i32,
  c: usize,
  ldc: i32,
  accumulate: i32,
): void;

// @ts-ignore: decorator
@external('env', 'nativeSgemmPacked')
export declare function nativeSgemmPacked(
  M: i32,
  N: i32,
  K: i32,
  a: usize,
  rsA: i32,
  csA: i32,
  bp: usize,
  np: i32,
  j0: i32,
  c: usize,
  ldc: i32,
  accumulate: i32,
): void;

// @ts-ignore: decorator
@external('env', 'nativeSgemmPackB')
export declare function nativeSgemmPackB(K: i32, N: i32, b: usize, rsB: i32, csB: i32, dst: usize): void;

// @ts-ignore: decorator
@external('env', 'nativeSgemmPackedBytes')
export declare function nativeSgemmPackedBytes(K: i32, N: i32): i32;

// @ts-ignore: decorator
@external('env', 'nativePanelWidth')
export declare function nativePanelWidth(): i32;
