/** Chained methods: linalg (see docs/ARCHITECTURE.md). */
export {};
