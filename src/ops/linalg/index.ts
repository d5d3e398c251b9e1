/** Matrix products: MatMul, Gemm, MatMulInteger, Einsum (their CPU kernel is matmul-cpu.ts). */
import './matmul.js';
import './gemm.js';
import './matmul-integer.js';
import './einsum.js';
