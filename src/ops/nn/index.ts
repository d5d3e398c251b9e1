/**
 * Neural-network ops: convolution, pooling, normalization, dropout, resize.
 *
 * Shared kernels (no ops): window.ts (kernel/stride/pad geometry), gemm.ts (the GEMM a WASM kernel
 * can replace), im2col.ts, pool-taps.ts (pooling windows), kernel-io.ts (float reads/writes),
 * resize-plan.ts (separable resize weights), domain.ts (com.tessera).
 */
import './conv.js'; // Conv, com.tessera::ConvWeightGrad
import './conv-transpose.js'; // ConvTranspose
import './flat-index.js'; // com.tessera::FlatGather, FlatScatterAdd (max-pool gradients)
import './max-pool.js'; // MaxPool, GlobalMaxPool
import './average-pool.js'; // AveragePool, GlobalAveragePool, com.tessera::AveragePoolGrad
import './lp-pool.js'; // LpPool, GlobalLpPool, com.tessera::LpPoolGrad
import './max-unpool.js'; // MaxUnpool
import './adaptive-avg-pool.js'; // com.tessera::AdaptiveAveragePool, AdaptiveAveragePoolGrad
import './moments.js'; // com.tessera::Moments, RsqrtEps (differentiable statistics)
import './layer-norm.js'; // LayerNormalization
import './batch-norm.js'; // BatchNormalization
import './instance-group-norm.js'; // InstanceNormalization, GroupNormalization
import './lp-norm-mvn-lrn.js'; // LpNormalization, MeanVarianceNormalization, LRN (+ their Grad kernels)
import './dropout.js'; // Dropout
import './resize.js'; // Resize, Upsample, com.tessera::ResizeGrad, ResizeApply
