/** Chained methods: indexing (see docs/ARCHITECTURE.md). */
export {};
