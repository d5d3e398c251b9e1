/** Training: TrainingSession over imported graphs, the Trainer, checkpoints, data parallelism. */

export {
  CHECKPOINT_FORMAT,
  checkpointFileName,
  decodeCheckpoint,
  type EarlyStoppingState,
  type EpochLog,
  encodeCheckpoint,
  latestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  saveCheckpoint,
  type TrainingCheckpoint,
} from './checkpoint.js';
export {
  type Dataset,
  decodeDataset,
  encodeDataset,
  loadDatasetFile,
  permutation,
  type TrainData,
} from './data.js';
export { TRAINING_DOMAIN } from './graph-ops.js';
export {
  isSerializableLoss,
  LOSS_NAMES,
  type LossFn,
  type LossName,
  type LossSpec,
  lossName,
  type NamedLoss,
  resolveLoss,
} from './loss.js';
export { METRIC_NAMES, type MetricName } from './metrics.js';
export {
  buildOptimizer,
  OPTIMIZER_NAMES,
  type OptimizerConfig,
  type OptimizerName,
  type OptimizerSpec,
  optimizerName,
} from './optimizer-spec.js';
export type { ModuleFactory } from './parallel/replica.js';
export {
  ProgressBar,
  type ProgressCallback,
  type ProgressEvent,
  type ProgressStream,
  type TrainStatus,
} from './progress.js';
export {
  type CheckpointOptions,
  type EarlyStoppingOptions,
  type FitOptions,
  Trainer,
  type TrainerOptions,
  type TrainResult,
} from './trainer.js';
export {
  type ParameterSelector,
  type StepOptions,
  type StepResult,
  type TrainingFeed,
  TrainingSession,
  type TrainingSessionOptions,
} from './training-session.js';
