/** Neural-network ops: convolution, pooling, normalization, dropout, resize. */
export {};
