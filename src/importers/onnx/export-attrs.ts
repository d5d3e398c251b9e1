/**
 * Which ONNX attributes are FLOAT / FLOATS. The Graph IR keeps attributes as plain JS numbers, so
 * an INT and a FLOAT that happen to be integral (Gemm's alpha = 1, Clip-6's max = 6) look alike;
 * the exporter needs the operator schema's type to write them back as ONNX Runtime's checker
 * expects. Every other numeric attribute is an INT / INTS. Taken from the ONNX operator spec
 * (docs/Operators.md), all opsets; ops of other domains follow the same table by name.
 */

/** Float attributes that mean the same on every op that has them. */
const FLOAT_EVERYWHERE = new Set([
  'alpha',
  'beta',
  'gamma',
  'epsilon',
  'momentum',
  'lambd',
  'ratio',
  'spatial_scale',
  'extrapolation_value',
  'cubic_coeff_a',
  'value_float',
  'height_scale',
  'width_scale',
  'norm_coefficient',
  'decay_factor',
  'softcap',
]);

/** Float attributes that are floats only on these ops (the same name is an int elsewhere). */
const FLOAT_ON: Record<string, readonly string[]> = {
  bias: ['Shrink', 'LRN'],
  scale: ['ImageScaler', 'RandomNormal', 'RandomNormalLike', 'Attention'],
  min: ['Clip'],
  max: ['Clip'],
  threshold: ['ThresholdedRelu', 'Binarizer'],
  mean: ['RandomNormal', 'RandomNormalLike'],
  low: ['RandomUniform', 'RandomUniformLike'],
  high: ['RandomUniform', 'RandomUniformLike'],
  // Random ops take a float seed; Dropout-12's seed is an int.
  seed: [
    'RandomNormal',
    'RandomNormalLike',
    'RandomUniform',
    'RandomUniformLike',
    'Multinomial',
    'Bernoulli',
  ],
  clip: ['LSTM', 'GRU', 'RNN'],
  default_float: ['LabelEncoder'],
};

/** FLOATS attributes. */
const FLOATS_EVERYWHERE = new Set([
  'value_floats',
  'activation_alpha',
  'activation_beta',
  'scales',
  'weights',
]);
const FLOATS_ON: Record<string, readonly string[]> = {
  bias: ['ImageScaler'],
  keys_floats: ['LabelEncoder'],
  values_floats: ['LabelEncoder'],
};

/** Whether attribute `name` of op `opType` is a FLOAT (or FLOATS for a list). */
export function isFloatAttr(opType: string, name: string, list: boolean): boolean {
  if (list) return FLOATS_EVERYWHERE.has(name) || (FLOATS_ON[name]?.includes(opType) ?? false);
  return FLOAT_EVERYWHERE.has(name) || (FLOAT_ON[name]?.includes(opType) ?? false);
}

/** Attributes whose value is an element type (TensorProto.DataType): Tessera may hold a dtype name there. */
export const DTYPE_ATTRS = new Set(['to', 'dtype', 'output_dtype']);
