/** Ops of no larger family: detection post-processing, random generators, image decoding. */
import './non-max-suppression.js'; // NonMaxSuppression
import './random.js'; // RandomUniform(Like), RandomNormal(Like), Bernoulli, Multinomial
import './image-decoder.js'; // ImageDecoder (decoders in image/)
