/** TypeProto -> ValueType: tensor dtype and dims (dim_value numbers, dim_param names, null unknown). */
import { ONNX_DTYPE } from '../../ops/cast.js';
import type { Dim, ValueType } from '../../runtime/graph.js';
import { type DimensionProto, has, type TypeProto, toNumber } from './proto.js';
import { onnxTypeName } from './tensor-proto.js';

function dimFromProto(d: DimensionProto): Dim {
  if (has(d, 'dim_value') || d.value === 'dim_value') {
    const v = toNumber(d.dim_value);
    return Number.isSafeInteger(v) && v >= 0 ? v : null;
  }
  if ((has(d, 'dim_param') || d.value === 'dim_param') && d.dim_param) return d.dim_param;
  return null;
}

export function valueTypeFromProto(t: TypeProto | undefined): ValueType | undefined {
  if (!t) return undefined;
  if (t.tensor_type && has(t, 'tensor_type')) {
    const elem = t.tensor_type.elem_type ?? 0;
    const dtype = ONNX_DTYPE[elem];
    if (!dtype) return { kind: 'unsupported', what: `tensor(${onnxTypeName(elem).toLowerCase()})` };
    const shape =
      t.tensor_type.shape && has(t.tensor_type, 'shape')
        ? t.tensor_type.shape.dim.map(dimFromProto)
        : undefined;
    return shape ? { kind: 'tensor', dtype, shape } : { kind: 'tensor', dtype };
  }
  if (t.sequence_type && has(t, 'sequence_type')) {
    return { kind: 'sequence', elem: valueTypeFromProto(t.sequence_type.elem_type) };
  }
  if (t.optional_type && has(t, 'optional_type')) {
    return { kind: 'optional', elem: valueTypeFromProto(t.optional_type.elem_type) };
  }
  if (has(t, 'map_type')) return { kind: 'unsupported', what: 'map' };
  if (has(t, 'sparse_tensor_type')) return { kind: 'unsupported', what: 'sparse_tensor' };
  if (has(t, 'opaque_type')) return { kind: 'unsupported', what: 'opaque' };
  return undefined;
}
