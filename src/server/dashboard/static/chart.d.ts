/** Types of chart.js (browser JavaScript served as is). */
export function ticks(lo: number, hi: number, count?: number): number[];
export function formatTick(v: number): string;
export const PALETTE: string[];
export interface Series {
  name: string;
  points: [number, number][];
  color?: string;
  dashed?: boolean;
}
export class LineChart {
  constructor(
    container: unknown,
    opts?: { xLabel?: string; height?: number; yMin?: number; integerX?: boolean; empty?: string },
  );
  update(series: Series[]): void;
}
