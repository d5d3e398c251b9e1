/** Loss ops. class-loss.ts holds what the class-index losses share (no op). */
import './nll-loss.js'; // NegativeLogLikelihoodLoss
import './softmax-cross-entropy.js'; // SoftmaxCrossEntropyLoss
