/** Chained methods: compare (see docs/ARCHITECTURE.md). */
export {};
