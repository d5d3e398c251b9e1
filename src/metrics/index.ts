/** Classification metrics: accuracy, precision, recall, F1, ROC-AUC, confusion matrix. Plain numbers out. */
export { accuracy } from './accuracy.js';
export { type ConfusionOptions, confusionMatrix } from './confusion-matrix.js';
export type { LabelOptions, MetricInput } from './inputs.js';
export {
  type Average,
  type ClassScores,
  classScores,
  f1,
  type PRFOptions,
  precision,
  recall,
} from './precision-recall.js';
export { rocAuc } from './roc-auc.js';
