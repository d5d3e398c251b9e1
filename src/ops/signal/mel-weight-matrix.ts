/**
 * MelWeightMatrix (opset 17): the [dft_length/2 + 1, num_mel_bins] matrix of triangular mel filters
 * (peak 1) that maps a one-sided linear spectrum to mel bands, with mel(f) = 2595 log10(1 + f/700).
 * The band edges are num_mel_bins + 2 points evenly spaced in mel between the lower and upper
 * edge, converted back to hertz and then to DFT bin indices floor((dft_length + 1) f / sample_rate),
 * as the ONNX reference implementation does.
 */
import { fromNumbers } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { Tensor } from '../../runtime/tensor.js';
import { input } from '../helpers.js';
import { registerOp } from '../registry.js';
import { outputDType } from './windows.js';

const OP = 'MelWeightMatrix';

function scalarOf(t: Tensor, what: string, int: boolean): number {
  const ok = int
    ? t.dtype === 'int32' || t.dtype === 'int64'
    : t.dtype.startsWith('float') || t.dtype === 'bfloat16';
  if (t.numel() !== 1 || !ok) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${OP}: ${what} must be a scalar ${int ? 'int32/int64' : 'float'} tensor, got ${t.dtype} of shape [${t.shape.join(', ')}]`,
    );
  }
  return t.numbers()[0]!;
}

export function melWeightMatrix(
  numMelBins: number,
  dftLength: number,
  sampleRate: number,
  lowerHz: number,
  upperHz: number,
): { values: Float64Array; shape: [number, number] } {
  if (numMelBins < 1 || dftLength < 1 || sampleRate < 1) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${OP}: num_mel_bins, dft_length and sample_rate must be positive, got ${numMelBins}, ${dftLength}, ${sampleRate}`,
    );
  }
  if (!(lowerHz >= 0 && upperHz > lowerHz)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${OP}: expected 0 <= lower_edge_hertz < upper_edge_hertz, got ${lowerHz} and ${upperHz}`,
    );
  }
  const specBins = Math.floor(dftLength / 2) + 1;
  const mel = (f: number) => 2595 * Math.log10(1 + f / 700);
  const lowMel = mel(lowerHz);
  const step = (mel(upperHz) - lowMel) / (numMelBins + 2);
  const edges: number[] = [];
  for (let i = 0; i < numMelBins + 2; i++) {
    const hz = 700 * (10 ** ((i * step + lowMel) / 2595) - 1);
    edges.push(Math.floor(((dftLength + 1) * hz) / sampleRate));
  }
  const out = new Float64Array(specBins * numMelBins);
  const set = (j: number, i: number, v: number) => {
    if (j >= 0 && j < specBins) out[j * numMelBins + i] = v;
  };
  for (let i = 0; i < numMelBins; i++) {
    const [lo, c, hi] = [edges[i]!, edges[i + 1]!, edges[i + 2]!];
    if (c === lo) set(c, i, 1);
    else for (let j = lo; j <= c; j++) set(j, i, (j - lo) / (c - lo));
    for (let j = c; j < hi; j++) set(j, i, (hi - j) / (hi - c));
  }
  return { values: out, shape: [specBins, numMelBins] };
}

registerOp({
  name: OP,
  since: 17,
  minInputs: 5,
  maxInputs: 5,
  defaults: { output_datatype: 1 },
  kernels: {
    cpu: (inputs, attrs) => {
      const ins = [0, 1, 2, 3, 4].map((i) => input(inputs, i, OP));
      const { values, shape } = melWeightMatrix(
        scalarOf(ins[0]!, 'num_mel_bins', true),
        scalarOf(ins[1]!, 'dft_length', true),
        scalarOf(ins[2]!, 'sample_rate', true),
        scalarOf(ins[3]!, 'lower_edge_hertz', false),
        scalarOf(ins[4]!, 'upper_edge_hertz', false),
      );
      const dtype = outputDType(OP, attrs.output_datatype);
      return [Tensor.fromData(fromNumbers(dtype, values), shape, dtype)];
    },
  },
});
