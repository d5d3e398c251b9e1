/**
 * Transformer ops: attention variants, normalization and position encodings, gated activations.
 *
 * Shared pieces (no ops): attention-core.ts (Attention's validation, bias and scale),
 * attention-grad.ts (its gradient, written with ops), precision.ts (rounding to a dtype).
 */
import './attention.js'; // Attention
import './rms-norm.js'; // RMSNormalization
import './swish.js'; // Swish, SwiGLU
import './rotary-embedding.js'; // RotaryEmbedding
import './causal-conv.js'; // CausalConvWithState
import './linear-attention.js'; // LinearAttention
import './flex-attention.js'; // ai.onnx.preview::FlexAttention
