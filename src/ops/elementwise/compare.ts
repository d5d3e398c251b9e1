/**
 * Comparisons with bool outputs: Equal, Less, LessOrEqual, Greater, GreaterOrEqual. NaN compares
 * false (so Equal(NaN, NaN) is false); int64/uint64 compare exactly as BigInt; Equal also takes
 * bool and (since opset 19) string tensors.
 */
import { floatBinary } from '../../backends/cpu/fast-float.js';
import type { DType } from '../../runtime/dtype.js';
import { input } from '../helpers.js';
import { type OpDef, registerOp } from '../registry.js';
import { binaryKernel, checkSame, checkTypes, numericTypes, registerLegacyBinary } from './kernels.js';

type Cmp = (x: any, y: any) => number;

function compareDef(name: string, since: number, f: Cmp, types: (d: DType) => boolean, desc: string): OpDef {
  return {
    name,
    since,
    minInputs: 2,
    maxInputs: 2,
    validate(inputs) {
      checkTypes(name, inputs, types, desc);
      checkSame(name, inputs);
    },
    // The same comparison works on numbers, bigints and strings.
    kernels: {
      cpu: (inputs) => {
        const [a, b] = [input(inputs, 0, name), input(inputs, 1, name)];
        return [floatBinary(name, a, b) ?? binaryKernel(a, b, f, f, 'bool', name)];
      },
    },
  };
}

const ORDERED = (d: DType) => numericTypes(d) || d === 'bool';
const ANY = (d: DType) => ORDERED(d) || d === 'string';

const eq = compareDef('Equal', 7, (x, y) => (x === y ? 1 : 0), ANY, 'a numeric, bool or string tensor');
const lt = compareDef('Less', 7, (x, y) => (x < y ? 1 : 0), ORDERED, 'a numeric tensor');
const gt = compareDef('Greater', 7, (x, y) => (x > y ? 1 : 0), ORDERED, 'a numeric tensor');
for (const def of [eq, lt, gt]) {
  registerOp(def);
  registerLegacyBinary(def);
}
registerOp(compareDef('LessOrEqual', 12, (x, y) => (x <= y ? 1 : 0), ORDERED, 'a numeric tensor'));
registerOp(compareDef('GreaterOrEqual', 12, (x, y) => (x >= y ? 1 : 0), ORDERED, 'a numeric tensor'));
