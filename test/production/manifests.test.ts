/**
 * The Kubernetes manifests, parsed and checked against each other, the Dockerfile and a running
 * server: the probe paths answer as the probes expect, ports and port names line up from the
 * container to the Service to the ServiceMonitor, every ConfigMap key is a setting `tessera serve`
 * reads, the selectors match the pods, the shared model repository is a ReadWriteMany claim
 * mounted where the server reads it, the grace period covers preStop plus the drain timeout, and
 * the metric names the autoscaling options use are ones the server exports.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { parseAllDocuments } from 'yaml';
import { SERVE_ENV } from '../../src/cli/commands/serve.js';
import { createServer, type TesseraServer } from '../../src/server/index.js';
import { affineModel, FakeExecutor, TempRepo } from '../server/helpers.js';
import { finalSettings, parseDockerfile } from './dockerfile.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = join(ROOT, 'deploy', 'kubernetes');

type Doc = Record<string, any>;
function load(dir: string): { file: string; doc: Doc }[] {
  const out: { file: string; doc: Doc }[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (!/\.ya?ml$/.test(f)) continue;
    for (const d of parseAllDocuments(readFileSync(join(dir, f), 'utf8'))) {
      assert.equal(d.errors.length, 0, `${f}: ${d.errors.map((e) => e.message).join('; ')}`);
      const doc = d.toJS() as Doc | null;
      if (doc) out.push({ file: f, doc });
    }
  }
  return out;
}

const main = load(DIR);
const options = load(join(DIR, 'options'));
const one = (kind: string, docs = main): Doc => {
  const found = docs.filter((d) => d.doc.kind === kind);
  assert.equal(found.length, 1, `exactly one ${kind}`);
  return found[0]!.doc;
};
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

let repo: TempRepo;
let server: TesseraServer;
before(async () => {
  repo = new TempRepo().add('affine', { max_batch_size: 8 }, { 1: affineModel() });
  server = createServer({ modelRepository: repo.root, executor: new FakeExecutor(1), processMetrics: true });
  await server.loadModels();
});
after(async () => {
  await server.close();
  repo.remove();
});

describe('deploy/kubernetes', () => {
  const deployment = one('Deployment');
  const pod = deployment.spec.template;
  const container = pod.spec.containers[0];
  const config = one('ConfigMap').data as Record<string, string>;

  it('every manifest parses and names its kind, apiVersion and name; kustomization lists them all', () => {
    for (const { file, doc } of [...main, ...options]) {
      assert.ok(doc.apiVersion && doc.kind, `${file}: apiVersion and kind`);
      if (doc.kind !== 'Kustomization') assert.ok(doc.metadata?.name, `${file}: metadata.name`);
    }
    const kust = one('Kustomization');
    const files = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
    assert.deepEqual([...kust.resources].sort(), files.sort());
    for (const kind of [
      'Deployment',
      'Service',
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
      'ConfigMap',
      'PersistentVolumeClaim',
      'ServiceMonitor',
    ])
      one(kind);
  });

  it('probes hit the health endpoints on the served port, and those answer as the probes expect', async () => {
    const api = request(server.app);
    const ports = container.ports as { name: string; containerPort: number }[];
    for (const [probe, path] of [
      ['readinessProbe', '/v2/health/ready'],
      ['livenessProbe', '/v2/health/live'],
      ['startupProbe', '/v2/health/live'],
    ] as const) {
      const p = container[probe];
      assert.ok(p, probe);
      assert.equal(p.httpGet.path, path, `${probe} path`);
      assert.ok(
        ports.some((x) => x.name === p.httpGet.port || x.containerPort === p.httpGet.port),
        `${probe} port`,
      );
      await api.get(p.httpGet.path).expect(200);
    }
    // Ready turns false while draining; live stays true.
    server.context.state = { ready: false, reason: 'shutting down' };
    await api.get('/v2/health/ready').expect(503);
    await api.get('/v2/health/live').expect(200);
    server.context.state = { ready: true, reason: '' };
  });

  it('ports agree: ConfigMap, container, Dockerfile, Service and ServiceMonitor', () => {
    const port = Number(config.TESSERA_PORT);
    const http = container.ports.find((p: Doc) => p.name === 'http');
    assert.equal(http.containerPort, port);
    const docker = finalSettings(
      parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).stages.at(-1)!,
    );
    assert.deepEqual(docker.expose, [String(port)]);
    assert.equal(docker.env.TESSERA_PORT, String(port));
    const service = one('Service');
    const sp = service.spec.ports.find((p: Doc) => p.name === 'http');
    assert.ok(sp.targetPort === 'http' || sp.targetPort === port);
    const sm = one('ServiceMonitor');
    assert.equal(sm.spec.endpoints[0].port, 'http');
    assert.equal(sm.spec.endpoints[0].path, '/metrics');
    assert.ok(
      matches(sm.spec.selector.matchLabels, service.metadata.labels),
      'ServiceMonitor selects the Service',
    );
  });

  it('the ConfigMap and env hold only settings tessera serve reads; the image and version match', () => {
    const known = new Set<string>(Object.values(SERVE_ENV));
    for (const k of Object.keys(config)) assert.ok(known.has(k), `ConfigMap key ${k}`);
    for (const e of container.env ?? []) assert.ok(known.has(e.name), `env ${e.name}`);
    assert.ok(Number(config.TESSERA_REPOSITORY_POLL_INTERVAL_MS) > 0, 'replicas poll the shared repository');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    assert.equal(container.image.split(':').at(-1), pkg.version);
  });

  it('resources, security context, graceful shutdown', () => {
    for (const k of ['requests', 'limits'])
      for (const r of ['cpu', 'memory']) assert.ok(container.resources[k][r], `resources.${k}.${r}`);
    assert.equal(pod.spec.securityContext.runAsNonRoot, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    const pre = container.lifecycle.preStop.exec.command as string[];
    assert.equal(pre[0], 'sleep');
    const drainS = Number(config.TESSERA_DRAIN_TIMEOUT_MS) / 1000;
    assert.ok(
      pod.spec.terminationGracePeriodSeconds > Number(pre[1]) + drainS,
      'terminationGracePeriodSeconds covers preStop and the drain',
    );
    assert.equal(deployment.spec.strategy.rollingUpdate.maxUnavailable, 0);
  });

  it('selectors match the pods; the model repository is a shared claim mounted where the server reads it', () => {
    const labels = pod.metadata.labels;
    assert.ok(matches(deployment.spec.selector.matchLabels, labels));
    assert.ok(matches(one('Service').spec.selector, labels));
    assert.ok(matches(one('PodDisruptionBudget').spec.selector.matchLabels, labels));
    const pvc = one('PersistentVolumeClaim');
    assert.ok(pvc.spec.accessModes.includes('ReadWriteMany'));
    const vol = pod.spec.volumes.find((v: Doc) => v.persistentVolumeClaim?.claimName === pvc.metadata.name);
    assert.ok(vol, 'a volume from the claim');
    const mount = container.volumeMounts.find((m: Doc) => m.name === vol.name);
    assert.equal(mount.mountPath, config.TESSERA_MODEL_REPOSITORY);
    assert.notEqual(mount.readOnly, true, 'training jobs write new versions');
  });

  it('autoscaling targets the Deployment; the pending-request option uses a metric the server exports', async () => {
    const hpas = [one('HorizontalPodAutoscaler'), one('HorizontalPodAutoscaler', options)];
    for (const h of hpas) {
      assert.equal(h.spec.scaleTargetRef.kind, 'Deployment');
      assert.equal(h.spec.scaleTargetRef.name, deployment.metadata.name);
      assert.ok(h.spec.metrics.some((m: Doc) => m.type === 'Resource' && m.resource.name === 'cpu'));
    }
    const custom = hpas[1]!.spec.metrics.find((m: Doc) => m.type === 'Pods').pods.metric.name;
    const adapter = (await import('yaml')).parse(one('ConfigMap', options).data['config.yaml']);
    const rule = adapter.rules.find((r: Doc) => r.name.as === custom);
    assert.ok(rule, `an adapter rule publishes ${custom}`);
    const series = /^(\w+)\{/.exec(rule.seriesQuery)![1]!;
    assert.match(series, new RegExp(rule.name.matches));
    const metrics = (await request(server.app).get('/metrics').expect(200)).text;
    assert.match(metrics, new RegExp(`^# TYPE ${series} gauge$`, 'm'));
    assert.match(metrics, new RegExp(`^${series}\\{model="affine",version="1"\\} 0$`, 'm'));
  });
});
