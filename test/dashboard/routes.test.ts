// The dashboard's HTTP side: the page and its files at / and /dashboard/*, with a policy that lets
// the page load nothing from elsewhere; off with `dashboard: false` (tessera serve --no-dashboard);
// reachable without a token while the API behind it still asks for one. Plus the page's pure
// helpers: the /metrics parser, histogram quantiles, chart ticks.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { parseServeArgs } from '../../src/cli/commands/serve.js';
import { DASHBOARD_CSP, dashboardDir } from '../../src/server/dashboard/index.js';
import { ticks } from '../../src/server/dashboard/static/chart.js';
import { parseMetrics, quantile } from '../../src/server/dashboard/static/metrics.js';
import { createServer, parseTokens, type TesseraServer } from '../../src/server/index.js';
import { affineModel, FakeExecutor, TempRepo } from '../server/helpers.js';

const STATIC = join(import.meta.dirname, '../../src/server/dashboard/static');
let repo: TempRepo;
const servers: TesseraServer[] = [];

function server(opts: Record<string, unknown> = {}): TesseraServer {
  const s = createServer({
    modelRepository: repo.root,
    executor: new FakeExecutor(1),
    processMetrics: false,
    training: false,
    ...opts,
  });
  servers.push(s);
  return s;
}

before(() => {
  repo = new TempRepo().add('affine', { max_batch_size: 4 }, { 1: affineModel() });
});

after(async () => {
  for (const s of servers) await s.close();
  repo.remove();
});

describe('dashboard routes', () => {
  it('serves the page and its files with their types and a same-origin-only policy', async () => {
    const api = request(server().app);
    const page = await api.get('/').expect(200);
    assert.match(page.headers['content-type'], /^text\/html/);
    assert.equal(page.headers['content-security-policy'], DASHBOARD_CSP);
    assert.match(page.text, /<script type="module" src="\/dashboard\/app\.js"><\/script>/);
    for (const [f, type] of [
      ['app.js', /^text\/javascript/],
      ['chart.js', /^text\/javascript/],
      ['metrics.js', /^text\/javascript/],
      ['style.css', /^text\/css/],
      ['favicon.svg', /^image\/svg\+xml/],
    ] as const) {
      const r = await api.get(`/dashboard/${f}`).expect(200);
      assert.match(r.headers['content-type'], type, f);
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
    }
    await api.get('/dashboard/../package.json').expect(404);
    await api.get('/dashboard/secret.js').expect(404);
    // The API's own responses keep the strict JSON policy.
    const meta = await api.get('/v2').expect(200);
    assert.match(meta.headers['content-security-policy'], /default-src 'none'/);
    assert.doesNotMatch(meta.headers['content-security-policy'], /script-src/);
  });

  it('nothing in the page refers to another host, and no inline script or style that the policy would block', () => {
    assert.equal(dashboardDir(), `${STATIC}/`);
    for (const f of readdirSync(STATIC)) {
      const text = readFileSync(join(STATIC, f), 'utf8');
      // The SVG namespace is a name, not a fetch.
      const urls = [...text.matchAll(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s'"]*/gi)]
        .map((m) => m[0])
        .filter((u) => !u.includes('www.w3.org/2000/svg'));
      assert.deepEqual(urls, [], `${f} refers to ${urls.join(', ')}`);
      if (f.endsWith('.html')) {
        assert.doesNotMatch(text, /<script(?![^>]*\bsrc=)[^>]*>/, 'inline <script>');
        assert.doesNotMatch(text, /\sstyle="/, 'style attribute');
        assert.doesNotMatch(text, /<style/, '<style> element');
        assert.doesNotMatch(text, /\son[a-z]+="/, 'inline event handler');
      }
    }
  });

  it('is off with dashboard: false, and tessera serve --no-dashboard / TESSERA_DASHBOARD=off say so', async () => {
    const api = request(server({ dashboard: false }).app);
    const r = await api.get('/').expect(404);
    assert.match(r.body.error, /no endpoint for GET \//);
    await api.get('/dashboard/app.js').expect(404);
    assert.equal(parseServeArgs(['--model-repository', 'm', '--no-dashboard'], {}).dashboard, false);
    assert.equal(parseServeArgs(['--model-repository', 'm'], { TESSERA_DASHBOARD: 'off' }).dashboard, false);
    assert.equal(parseServeArgs(['--model-repository', 'm'], {}).dashboard, undefined);
  });

  it('loads without a token when the API needs one; the API still refuses without it', async () => {
    const token = 'dashboard-test-token-0123456789';
    const s = server({ tokens: parseTokens(`*:${token}`, 'test') });
    await s.loadModels();
    const api = request(s.app);
    await api.get('/').expect(200);
    await api.get('/dashboard/app.js').expect(200);
    await api.get('/v2/models/affine').expect(401);
    await api.get('/v2/models/affine').set('Authorization', `Bearer ${token}`).expect(200);
  });
});

describe('dashboard helpers', () => {
  it('parses the Prometheus text format, labels with escapes included', () => {
    const s = parseMetrics(
      [
        '# HELP nv_inference_request_success Number of successful inference requests',
        '# TYPE nv_inference_request_success counter',
        'nv_inference_request_success{model="m",version="1"} 7',
        'tessera_inference_request_duration_seconds_bucket{le="+Inf",model="a\\"b",version="2"} 3',
        'process_cpu_seconds_total 1.5e-2',
        '',
      ].join('\n'),
    );
    assert.deepEqual(s, [
      { name: 'nv_inference_request_success', labels: { model: 'm', version: '1' }, value: 7 },
      {
        name: 'tessera_inference_request_duration_seconds_bucket',
        labels: { le: '+Inf', model: 'a"b', version: '2' },
        value: 3,
      },
      { name: 'process_cpu_seconds_total', labels: {}, value: 0.015 },
    ]);
  });

  it('histogram quantiles as Prometheus computes them', () => {
    // 10 observations: 4 <= 0.1, 8 <= 0.2, 10 <= 0.5. The median (rank 5) lies a quarter into
    // (0.1, 0.2]: 0.1 + 0.1 * (5 - 4) / 4 = 0.125; p95 (rank 9.5) three quarters into (0.2, 0.5]: 0.425.
    const b = new Map([
      ['0.1', 4],
      ['0.2', 8],
      ['0.5', 10],
      ['+Inf', 10],
    ]);
    assert.ok(Math.abs(quantile(0.5, b) - 0.125) < 1e-12);
    assert.ok(Math.abs(quantile(0.95, b) - 0.425) < 1e-12);
    assert.ok(Number.isNaN(quantile(0.5, new Map([['+Inf', 0]]))));
    // Past the last finite bucket: its bound, as Prometheus answers.
    assert.equal(
      quantile(
        0.99,
        new Map([
          ['1', 1],
          ['+Inf', 5],
        ]),
      ),
      1,
    );
  });

  it('chart ticks are round numbers covering the range', () => {
    assert.deepEqual(ticks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(ticks(0.13, 0.87, 4), [0.2, 0.4, 0.6, 0.8]);
    assert.deepEqual(ticks(-3, 12, 5), [0, 5, 10]);
    assert.deepEqual(ticks(2, 2), [2]);
  });
});
