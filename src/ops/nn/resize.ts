/**
 * Resize (opset 10: X, scales; opset 11+: X, roi, scales, sizes, with axes, antialias and
 * keep_aspect_ratio_policy from opset 18 and half_pixel_symmetric from 19) and Upsample (opset 7:
 * scales attribute; 9: scales input). The gradient is com.tessera::ResizeGrad, the transposed
 * map, whose own gradient is com.tessera::ResizeApply (the map itself with resolved parameters).
 */
import { isFloat } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape, normAxis } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrFloat, attrInt, attrInts, attrString, expectFloat, input } from '../helpers.js';
import { type Attrs, dispatch1, type OpInputs, registerOp } from '../registry.js';
import { TESSERA_DOMAIN } from './domain.js';
import { floats, output } from './kernel-io.js';
import {
  type AxisPlan,
  applyPlans,
  applyPlansTransposed,
  type CoordMode,
  checkOptions,
  type NearestMode,
  planAxis,
  type ResizeOptions,
} from './resize-plan.js';

/** Everything a resize needs, resolved to full rank. */
export interface ResolvedResize {
  outShape: number[];
  scales: number[];
  /** [start_0..start_{r-1}, end_0..end_{r-1}] */
  roi: number[];
  opts: ResizeOptions;
  extrapolation: number;
}

function optionsOf(op: string, attrs: Attrs, legacy: boolean): ResizeOptions {
  const o: ResizeOptions = {
    mode: attrString(attrs, 'mode', 'nearest') as ResizeOptions['mode'],
    coord: (legacy
      ? 'asymmetric'
      : attrString(attrs, 'coordinate_transformation_mode', 'half_pixel')) as CoordMode,
    nearest: (legacy ? 'simple' : attrString(attrs, 'nearest_mode', 'round_prefer_floor')) as NearestMode,
    cubicA: attrFloat(attrs, 'cubic_coeff_a', -0.75),
    excludeOutside: attrInt(attrs, 'exclude_outside', 0) !== 0,
    antialias: attrInt(attrs, 'antialias', 0) !== 0,
  };
  // Opsets before 11 spelled linear 'bilinear' in some exporters.
  if ((o.mode as string) === 'bilinear') o.mode = 'linear';
  checkOptions(op, o);
  if (legacy && o.mode === 'cubic')
    throw new TesseraError('INVALID_ARGUMENT', `${op}: mode must be nearest or linear, got 'cubic'`);
  return o;
}

const present = (t: Tensor | undefined): t is Tensor => t !== undefined && t.numel() > 0;

/** Resolves output shape, scales and roi from the scales or sizes (and axes, keep_aspect_ratio_policy). */
export function resolveResize(
  op: string,
  x: Tensor,
  roiT: Tensor | undefined,
  scalesIn: number[] | undefined,
  sizesIn: number[] | undefined,
  attrs: Attrs,
  legacy: boolean,
): ResolvedResize {
  const r = x.ndim;
  const axesAttr = attrInts(attrs, 'axes');
  const axes = axesAttr ? axesAttr.map((a) => normAxis(a, r, op)) : x.shape.map((_, i) => i);
  if (new Set(axes).size !== axes.length)
    throw new TesseraError('INVALID_ARGUMENT', `${op}: axes ${fmtShape(axes)} repeat an axis`);
  const scales = new Array<number>(r).fill(1);
  const outShape = [...x.shape];
  if (scalesIn && sizesIn)
    throw new TesseraError('INVALID_ARGUMENT', `${op}: give either scales or sizes, not both`);
  if (!scalesIn && !sizesIn)
    throw new TesseraError('INVALID_ARGUMENT', `${op}: one of scales and sizes is required`);
  if (scalesIn) {
    if (scalesIn.length !== axes.length) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `${op}: scales must have ${axes.length} values (X has shape ${fmtShape(x.shape)}), got ${scalesIn.length}`,
      );
    }
    axes.forEach((a, i) => {
      const s = scalesIn[i]!;
      if (!(s > 0))
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `${op}: scales must be positive, got ${fmtShape(scalesIn)}`,
        );
      scales[a] = s;
      outShape[a] = Math.floor(x.shape[a]! * s);
    });
  } else {
    const sizes = sizesIn!;
    if (sizes.length !== axes.length) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `${op}: sizes must have ${axes.length} values (X has shape ${fmtShape(x.shape)}), got ${sizes.length}`,
      );
    }
    if (sizes.some((s) => !Number.isInteger(s) || s < 0))
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${op}: sizes must be non-negative integers, got ${fmtShape(sizes)}`,
      );
    const policy = attrString(attrs, 'keep_aspect_ratio_policy', 'stretch');
    const ratios = axes.map((a, i) => sizes[i]! / x.shape[a]!);
    if (policy === 'stretch') {
      axes.forEach((a, i) => {
        scales[a] = ratios[i]!;
        outShape[a] = sizes[i]!;
      });
    } else if (policy === 'not_larger' || policy === 'not_smaller') {
      const s = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
      for (const a of axes) {
        scales[a] = s;
        outShape[a] = Math.floor(s * x.shape[a]! + 0.5);
      }
    } else {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${op}: keep_aspect_ratio_policy must be stretch, not_larger or not_smaller, got '${policy}'`,
      );
    }
  }
  const roi = [...new Array(r).fill(0), ...new Array(r).fill(1)];
  if (present(roiT)) {
    const v = Array.from(roiT.numbers());
    if (v.length !== 2 * axes.length) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `${op}: roi must have ${2 * axes.length} values, got ${v.length}`,
      );
    }
    axes.forEach((a, i) => {
      roi[a] = v[i]!;
      roi[r + a] = v[axes.length + i]!;
    });
  }
  return {
    outShape,
    scales,
    roi,
    opts: optionsOf(op, attrs, legacy),
    extrapolation: attrFloat(attrs, 'extrapolation_value', 0),
  };
}

function plansOf(inShape: readonly number[], rs: ResolvedResize): AxisPlan[] {
  return inShape.map((n, d) =>
    planAxis(n, rs.outShape[d]!, rs.scales[d]!, [rs.roi[d]!, rs.roi[inShape.length + d]!], rs.opts),
  );
}

function run(x: Tensor, rs: ResolvedResize): Tensor {
  const y = applyPlans(floats(x), x.shape, plansOf(x.shape, rs), rs.extrapolation);
  return output(y, rs.outShape, x.dtype);
}

/** Attributes carrying a resolved resize to ResizeGrad / ResizeApply. */
function resolvedAttrs(inShape: readonly number[], rs: ResolvedResize): Attrs {
  return {
    input_shape: [...inShape],
    output_shape: rs.outShape,
    scales: rs.scales,
    roi: rs.roi,
    mode: rs.opts.mode,
    coordinate_transformation_mode: rs.opts.coord,
    nearest_mode: rs.opts.nearest,
    cubic_coeff_a: rs.opts.cubicA,
    exclude_outside: rs.opts.excludeOutside ? 1 : 0,
    antialias: rs.opts.antialias ? 1 : 0,
  };
}

function fromResolved(op: string, attrs: Attrs) {
  const need = (name: string) => {
    const v = attrInts(attrs, name);
    if (!v) throw new TesseraError('INVALID_ARGUMENT', `${op}: attribute '${name}' is required`);
    return v;
  };
  const inShape = need('input_shape');
  const rs: ResolvedResize = {
    outShape: need('output_shape'),
    scales: need('scales'),
    roi: need('roi'),
    opts: {
      mode: attrString(attrs, 'mode') as ResizeOptions['mode'],
      coord: attrString(attrs, 'coordinate_transformation_mode') as CoordMode,
      nearest: attrString(attrs, 'nearest_mode') as NearestMode,
      cubicA: attrFloat(attrs, 'cubic_coeff_a'),
      excludeOutside: attrInt(attrs, 'exclude_outside') !== 0,
      antialias: attrInt(attrs, 'antialias') !== 0,
    },
    extrapolation: 0,
  };
  return { inShape, rs, plans: plansOf(inShape, rs) };
}

function checkShape(op: string, t: Tensor, shape: readonly number[], what: string): void {
  if (t.ndim !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: ${what} has shape ${fmtShape(t.shape)}, expected ${fmtShape(shape)}`,
    );
  }
}

function gradOf(x: Tensor, rs: ResolvedResize, dy: Tensor): Tensor {
  return dispatch1('ResizeGrad', [dy], resolvedAttrs(x.shape, rs), { domain: TESSERA_DOMAIN });
}

const floatsOf = (t: Tensor | undefined) => (present(t) ? Array.from(t.numbers()) : undefined);

function resolve11(op: string, inputs: OpInputs, attrs: Attrs): ResolvedResize {
  const x = input(inputs, 0, op);
  return resolveResize(op, x, inputs[1], floatsOf(inputs[2]), floatsOf(inputs[3]), attrs, false);
}

function resolveLegacy(op: string, x: Tensor, scales: number[] | undefined, attrs: Attrs): ResolvedResize {
  if (!scales) throw new TesseraError('INVALID_ARGUMENT', `${op}: scales are required`);
  return resolveResize(op, x, undefined, scales, undefined, attrs, true);
}

function differentiable(x: Tensor): boolean {
  return isFloat(x.dtype);
}

const DEFAULTS_11: Attrs = {
  coordinate_transformation_mode: 'half_pixel',
  cubic_coeff_a: -0.75,
  exclude_outside: 0,
  extrapolation_value: 0,
  mode: 'nearest',
  nearest_mode: 'round_prefer_floor',
  antialias: 0,
  keep_aspect_ratio_policy: 'stretch',
};

registerOp({
  name: 'Resize',
  since: 11,
  minInputs: 1,
  maxInputs: 4,
  defaults: DEFAULTS_11,
  kernels: {
    cpu: (inputs, attrs, ctx) => [run(input(inputs, 0, ctx.op), resolve11(ctx.op, inputs, attrs))],
  },
  grad: ({ inputs, attrs }, [dy]) => {
    const x = inputs[0]!;
    if (!differentiable(x)) return [null, null, null, null];
    return [gradOf(x, resolve11('Resize', inputs, attrs), dy!), null, null, null];
  },
});

registerOp({
  name: 'Resize',
  since: 10,
  minInputs: 2,
  maxInputs: 2,
  defaults: { mode: 'nearest' },
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const x = input(inputs, 0, ctx.op);
      return [run(x, resolveLegacy(ctx.op, x, floatsOf(inputs[1]), attrs))];
    },
  },
  grad: ({ inputs, attrs }, [dy]) => [
    gradOf(inputs[0]!, resolveLegacy('Resize', inputs[0]!, floatsOf(inputs[1]), attrs), dy!),
    null,
  ],
});

registerOp({
  name: 'Upsample',
  since: 7,
  minInputs: 1,
  maxInputs: 1,
  defaults: { mode: 'nearest' },
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const x = input(inputs, 0, ctx.op);
      return [run(x, resolveLegacy(ctx.op, x, attrs.scales as number[] | undefined, attrs))];
    },
  },
  grad: ({ inputs, attrs }, [dy]) => [
    gradOf(
      inputs[0]!,
      resolveLegacy('Upsample', inputs[0]!, attrs.scales as number[] | undefined, attrs),
      dy!,
    ),
  ],
});

registerOp({
  name: 'Upsample',
  since: 9,
  minInputs: 2,
  maxInputs: 2,
  defaults: { mode: 'nearest' },
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const x = input(inputs, 0, ctx.op);
      return [run(x, resolveLegacy(ctx.op, x, floatsOf(inputs[1]), attrs))];
    },
  },
  grad: ({ inputs, attrs }, [dy]) => [
    gradOf(inputs[0]!, resolveLegacy('Upsample', inputs[0]!, floatsOf(inputs[1]), attrs), dy!),
    null,
  ],
});

/** The transposed resize: dY [output_shape] -> dX [input_shape]. */
registerOp({
  name: 'ResizeGrad',
  domain: TESSERA_DOMAIN,
  minInputs: 1,
  maxInputs: 1,
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const dy = input(inputs, 0, ctx.op);
      expectFloat(ctx.op, 'dY', dy);
      const { inShape, rs, plans } = fromResolved(ctx.op, attrs);
      checkShape(ctx.op, dy, rs.outShape, 'dY');
      return [output(applyPlansTransposed(floats(dy), rs.outShape, plans), inShape, dy.dtype)];
    },
  },
  grad: ({ attrs }, [g]) => [dispatch1('ResizeApply', [g!], attrs, { domain: TESSERA_DOMAIN })],
});

/** The resize map with resolved parameters (extrapolated positions give 0): X [input_shape] -> [output_shape]. */
registerOp({
  name: 'ResizeApply',
  domain: TESSERA_DOMAIN,
  minInputs: 1,
  maxInputs: 1,
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const x = input(inputs, 0, ctx.op);
      expectFloat(ctx.op, 'X', x);
      const { inShape, rs, plans } = fromResolved(ctx.op, attrs);
      checkShape(ctx.op, x, inShape, 'X');
      return [output(applyPlans(floats(x), inShape, plans, 0), rs.outShape, x.dtype)];
    },
  },
  grad: ({ attrs }, [g]) => [dispatch1('ResizeGrad', [g!], attrs, { domain: TESSERA_DOMAIN })],
});
