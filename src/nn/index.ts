/** nn: Module, layers, losses, initializers, functional API. */
export {};
