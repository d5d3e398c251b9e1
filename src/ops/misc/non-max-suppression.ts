/**
 * NonMaxSuppression (opset 10/11): per batch and class, takes boxes by descending score (ties: lower
 * index first), skipping those with score <= score_threshold (when given), and keeps a box unless its
 * IoU with a kept box exceeds iou_threshold, up to max_output_boxes_per_class (absent or 0: none).
 * Boxes [B, N, 4] are corners [y1, x1, y2, x2] in any order (center_point_box=0) or [xc, yc, w, h]
 * (center_point_box=1); scores [B, C, N]. Output int64 [selected, 3] rows (batch, class, box).
 */
import { TesseraError } from '../../runtime/errors.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, input, readInts } from '../helpers.js';
import { registerOp } from '../registry.js';

const OP = 'NonMaxSuppression';

function scalarOr(t: Tensor | undefined, what: string, def: number | undefined): number | undefined {
  if (!t) return def;
  if (t.numel() !== 1) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${OP}: ${what} must hold one value, got shape [${t.shape.join(', ')}]`,
    );
  }
  return t.numbers()[0]!;
}

/** Corners (ymin, xmin, ymax, xmax) of box i. */
function corners(b: ArrayLike<number>, i: number, center: boolean): [number, number, number, number] {
  const [a, c, d, e] = [b[4 * i]!, b[4 * i + 1]!, b[4 * i + 2]!, b[4 * i + 3]!];
  if (center) return [c - e / 2, a - d / 2, c + e / 2, a + d / 2];
  return [Math.min(a, d), Math.min(c, e), Math.max(a, d), Math.max(c, e)];
}

function iou(p: number[], q: number[]): number {
  const areaP = (p[2]! - p[0]!) * (p[3]! - p[1]!);
  const areaQ = (q[2]! - q[0]!) * (q[3]! - q[1]!);
  if (areaP <= 0 || areaQ <= 0) return 0;
  const h = Math.max(0, Math.min(p[2]!, q[2]!) - Math.max(p[0]!, q[0]!));
  const w = Math.max(0, Math.min(p[3]!, q[3]!) - Math.max(p[1]!, q[1]!));
  const inter = h * w;
  return inter / (areaP + areaQ - inter);
}

registerOp({
  name: OP,
  since: 10,
  minInputs: 2,
  maxInputs: 5,
  defaults: { center_point_box: 0 },
  kernels: {
    cpu: (inputs, attrs) => {
      const boxes = input(inputs, 0, OP);
      const scores = input(inputs, 1, OP);
      if (boxes.ndim !== 3 || boxes.shape[2] !== 4) {
        throw new TesseraError(
          'SHAPE_MISMATCH',
          `${OP}: boxes must have shape [batch, boxes, 4], got [${boxes.shape.join(', ')}]`,
        );
      }
      const [batches, n] = boxes.shape as [number, number];
      if (scores.ndim !== 3 || scores.shape[0] !== batches || scores.shape[2] !== n) {
        throw new TesseraError(
          'SHAPE_MISMATCH',
          `${OP}: scores must have shape [${batches}, classes, ${n}], got [${scores.shape.join(', ')}]`,
        );
      }
      const classes = scores.shape[1]!;
      const maxOut = inputs[2] ? (readInts(inputs[2]).at(0) ?? 0) : 0;
      const iouTh = scalarOr(inputs[3], 'iou_threshold', 0)!;
      const scoreTh = scalarOr(inputs[4], 'score_threshold', undefined);
      const cpb = attrInt(attrs, 'center_point_box', 0);
      if (cpb !== 0 && cpb !== 1)
        throw new TesseraError('INVALID_ARGUMENT', `${OP}: center_point_box must be 0 or 1, got ${cpb}`);
      if (iouTh < 0 || iouTh > 1)
        throw new TesseraError('INVALID_ARGUMENT', `${OP}: iou_threshold must be in [0, 1], got ${iouTh}`);
      const b = boxes.numbers();
      const s = scores.numbers();
      const out: number[] = [];
      for (let bi = 0; bi < batches && maxOut > 0; bi++) {
        const box = Array.from({ length: n }, (_, i) => corners(b, bi * n + i, cpb === 1));
        for (let c = 0; c < classes; c++) {
          const base = (bi * classes + c) * n;
          const cand: number[] = [];
          for (let i = 0; i < n; i++) if (scoreTh === undefined || s[base + i]! > scoreTh) cand.push(i);
          cand.sort((i, j) => s[base + j]! - s[base + i]! || i - j);
          const kept: number[] = [];
          for (const i of cand) {
            if (kept.length >= maxOut) break;
            if (kept.every((k) => iou(box[k]!, box[i]!) <= iouTh)) {
              kept.push(i);
              out.push(bi, c, i);
            }
          }
        }
      }
      return [
        Tensor.fromData(
          BigInt64Array.from(out, (v) => BigInt(v)),
          [out.length / 3, 3],
          'int64',
        ),
      ];
    },
  },
});
