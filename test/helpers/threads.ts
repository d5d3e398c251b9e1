/** Runs code with the CPU thread count set for its duration. */
import { getNumThreads, setNumThreads } from '../../src/backends/cpu/threads/config.js';

/** f() on `n` threads, the previous count restored after (also when f throws). */
export function onThreads<T>(n: number, f: () => T): T {
  const saved = getNumThreads();
  setNumThreads(n);
  try {
    return f();
  } finally {
    setNumThreads(saved);
  }
}
