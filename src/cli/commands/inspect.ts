/**
 * `tessera inspect model.onnx [--json]`: what a model takes and gives (inputs and outputs with
 * symbolic dims), its opset imports, op counts (subgraphs included), parameter count and weight
 * bytes, the planned peak memory of its intermediate values, and which of its ops Tessera cannot
 * run yet.
 */
import { parseArgs } from 'node:util';
import '../../ops/index.js';
import { importOnnxFile } from '../../importers/onnx/index.js';
import { bytesPerElement } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { allNodes, fmtType, type Model } from '../../runtime/graph.js';
import { opId, opProblems } from '../../runtime/passes/check-ops.js';
import { InferenceSession } from '../../runtime/session.js';
import { type CliIO, type Command, stdio } from '../command.js';

export interface ModelSummary {
  file: string;
  irVersion: number;
  producer: string;
  opsets: Record<string, number>;
  inputs: { name: string; type: string }[];
  outputs: { name: string; type: string }[];
  nodes: number;
  opCounts: Record<string, number>;
  parameters: number;
  weightBytes: number;
  unsupportedOps: string[];
  /** The session's planned peak of live intermediate bytes (absent when the model cannot load). */
  plannedPeakBytes?: number;
  /** False when symbolic or data-dependent dims make the planned peak a lower bound. */
  plannedPeakComplete?: boolean;
}

export function summarize(file: string, model: Model): ModelSummary {
  const g = model.graph;
  const opCounts: Record<string, number> = {};
  const graphs = new Set([g]);
  let nodes = 0;
  for (const { node, graph } of allNodes(g)) {
    const id = opId(node.domain, node.opType);
    opCounts[id] = (opCounts[id] ?? 0) + 1;
    graphs.add(graph);
    nodes++;
  }
  let parameters = 0;
  let weightBytes = 0;
  for (const sub of graphs) {
    for (const t of sub.initializers.values()) {
      parameters += t.numel();
      weightBytes += t.numel() * bytesPerElement(t.dtype);
    }
  }
  const inits = new Set(g.initializers.keys());
  return {
    file,
    irVersion: model.irVersion,
    producer: `${model.producerName} ${model.producerVersion}`.trim(),
    opsets: Object.fromEntries([...model.opsets].map(([d, v]) => [d || 'ai.onnx', v])),
    inputs: g.inputs.filter((i) => !inits.has(i.name)).map((i) => ({ name: i.name, type: fmtType(i.type) })),
    outputs: g.outputs.map((o) => ({ name: o.name, type: fmtType(o.type) })),
    nodes,
    opCounts: Object.fromEntries(
      Object.entries(opCounts).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)),
    ),
    parameters,
    weightBytes,
    unsupportedOps: [...new Set(opProblems(model).map((p) => opId(p.domain, p.opType)))].sort(),
  };
}

function printSummary(s: ModelSummary, io: CliIO): void {
  io.out(`${s.file}`);
  io.out(`  IR version ${s.irVersion}${s.producer ? `, produced by ${s.producer}` : ''}`);
  io.out(
    `  opsets: ${Object.entries(s.opsets)
      .map(([d, v]) => `${d} ${v}`)
      .join(', ')}`,
  );
  io.out('  inputs:');
  for (const i of s.inputs) io.out(`    ${i.name}: ${i.type}`);
  io.out('  outputs:');
  for (const o of s.outputs) io.out(`    ${o.name}: ${o.type}`);
  io.out(`  ${s.nodes} nodes:`);
  for (const [op, n] of Object.entries(s.opCounts)) io.out(`    ${op.padEnd(28)} ${n}`);
  io.out(
    `  parameters: ${s.parameters.toLocaleString('en-US')} (${s.weightBytes.toLocaleString('en-US')} bytes)`,
  );
  if (s.plannedPeakBytes !== undefined) {
    io.out(
      `  planned peak memory: ${s.plannedPeakComplete ? '' : 'at least '}${s.plannedPeakBytes.toLocaleString('en-US')} bytes of intermediates${s.plannedPeakComplete ? '' : ' (some dims are symbolic)'}`,
    );
  }
  io.out(
    s.unsupportedOps.length
      ? `  not supported yet: ${s.unsupportedOps.join(', ')}`
      : '  every op is supported',
  );
}

const USAGE = 'Usage: tessera inspect <model.onnx> [--json]';

/** Runs `tessera inspect` with the arguments after the command name; resolves to the exit code. */
export async function inspectCommand(args: string[], io: CliIO = stdio): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (e) {
    io.err(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    io.out(USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    io.err(USAGE);
    return 2;
  }
  const file = parsed.positionals[0]!;
  try {
    const model = importOnnxFile(file);
    const summary = summarize(file, model);
    if (summary.unsupportedOps.length === 0) {
      // The memory plan a session makes for this model (after its graph passes).
      const session = await InferenceSession.create(model);
      summary.plannedPeakBytes = session.memoryPlan.peakBytes;
      summary.plannedPeakComplete = session.memoryPlan.complete;
    }
    if (parsed.values.json) io.out(JSON.stringify(summary, null, 2));
    else printSummary(summary, io);
    return 0;
  } catch (e) {
    if (!(e instanceof TesseraError)) throw e;
    io.err(`tessera inspect: ${e.message}`);
    return 1;
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
}

const command: Command = {
  name: 'inspect',
  summary: 'Show an ONNX model: inputs, outputs, opsets, op counts, parameters, planned memory',
  usage: USAGE,
  run: (args, io) => inspectCommand(args, io),
};
export default command;
