/** Tensor files users already have: NumPy .npy and .npz. */
export {
  decodeNpy,
  decodeNpz,
  encodeNpy,
  encodeNpz,
  type NamedTensors,
  readNpy,
  readNpz,
  writeNpy,
  writeNpz,
} from './npy.js';
