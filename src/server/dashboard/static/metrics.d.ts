/** Types of metrics.js (browser JavaScript served as is). */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export function parseMetrics(text: string): Sample[];
export function quantile(q: number, buckets: Map<string, number>): number;
