/** Chained methods: math (see docs/ARCHITECTURE.md). */
export {};
