/** Chained methods: shape (see docs/ARCHITECTURE.md). */
export {};
