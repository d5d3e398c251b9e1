// The dashboard in a real browser: Debian's chromium driven by playwright-core against a running
// server (the bundled MLP and a data set file in its model directory). The page lists the model as
// ready, sends a test inference, starts a fine-tune job from the form and draws its loss curve from
// the job's event stream; every request it makes goes to the server. The screenshot is saved as
// reports/dashboard.png (the CI artifact). Without /usr/bin/chromium the test is skipped, except in
// CI, where .ci/run installs it and a missing browser is a failure.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { Generator, Tensor, tensor } from '../../src/index.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { encodeDataset } from '../../src/train/data.js';

// Code passed to page.waitForFunction runs in the page; this project compiles without the DOM types.
declare const document: any;

const CHROMIUM = '/usr/bin/chromium';
const ROOT = join(import.meta.dirname, '..', '..');
const skip =
  existsSync(CHROMIUM) || process.env.CI ? false : `${CHROMIUM} is not installed (apt-get install chromium)`;

/** 4 features in 3 Gaussian blobs, labelled by blob. */
function blobs(n: number) {
  const g = new Generator(9);
  const x = new Float32Array(n * 4);
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    for (let f = 0; f < 4; f++) x[i * 4 + f] = (f === c ? 2 : 0) + 0.7 * g.normal();
    y.push(c);
  }
  return { inputs: { input: Tensor.fromData(x, [n, 4], 'float32') }, target: tensor(y, { dtype: 'int64' }) };
}

test('dashboard: models, a test inference, a fine-tune job with a live loss curve', {
  skip,
  timeout: 150_000,
}, async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: .ci/run installs it with apt-get`);
  const root = mkdtempSync(join(tmpdir(), 'tessera-dashboard-'));
  const repo = join(root, 'models');
  cpSync(join(ROOT, 'models', 'mlp'), join(repo, 'mlp'), { recursive: true });
  mkdirSync(join(repo, 'mlp', 'data'));
  writeFileSync(join(repo, 'mlp', 'data', 'train.safetensors'), encodeDataset(blobs(1200)));

  let server: RunningServer | undefined;
  let context: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
  try {
    server = await startServer({
      modelRepository: repo,
      host: '127.0.0.1',
      port: 0,
      threads: 1,
      processMetrics: false,
      training: { maxJobs: 1, dir: join(root, 'training') },
    });
    const origin = server.url;
    context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'tessera-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 1100 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const elsewhere: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(`${origin}/`)) elsewhere.push(r.url());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });

    await page.goto(`${origin}/`);
    await page.waitForSelector('#models tr[data-model="mlp"][data-state="READY"]', { timeout: 20_000 });
    assert.equal(await page.textContent('#ready'), 'ready');

    // A test inference from the form: the request body is prefilled from the model's metadata.
    await page.waitForFunction(() =>
      (document.getElementById('infer-body') as { value: string }).value.includes('"input"'),
    );
    await page.click('#infer-submit');
    await page.waitForFunction(() =>
      document.getElementById('infer-result')?.textContent?.includes('"probabilities"'),
    );
    assert.match((await page.textContent('#infer-time')) ?? '', /^OK in [\d.]+ ms$/);
    // The request counters of /metrics reach the models table.
    await page.waitForFunction(
      () => document.querySelector('#models tr[data-model="mlp"] td:nth-child(8)')?.textContent === '1',
      undefined,
      { timeout: 15_000 },
    );

    // Start a fine-tune job from the form and watch the loss curve grow.
    await page.selectOption('#train-model', 'mlp');
    await page.fill('#train-dataset', 'data/train.safetensors');
    await page.selectOption('#train-loss', 'cross_entropy');
    await page.fill('#train-output', 'logits');
    await page.fill('#train-lr', '0.01');
    await page.fill('#train-epochs', '25');
    await page.fill('#train-batch', '16');
    await page.click('#train-submit');
    await page.waitForFunction(() =>
      /^job \S+ started \((queued|running)\)$/.test(
        document.getElementById('train-result')?.textContent ?? '',
      ),
    );
    const points = async () => Number(await page.getAttribute('#loss-chart svg', 'data-points'));
    await page.waitForFunction(
      () => Number(document.querySelector('#loss-chart svg')?.getAttribute('data-points')) >= 3,
      undefined,
      {
        timeout: 60_000,
      },
    );
    const early = await points();
    await page.waitForFunction(
      (n) => Number(document.querySelector('#loss-chart svg')?.getAttribute('data-points')) > n,
      early,
      {
        timeout: 60_000,
      },
    );
    // Let the job finish (a new version gets written), or give up waiting after a minute.
    await page
      .waitForSelector('#jobs tr[data-state="completed"]', { timeout: 60_000 })
      .catch(() => undefined);
    await page.waitForTimeout(500);
    mkdirSync(join(ROOT, 'reports'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'reports', 'dashboard.png'), fullPage: true });

    const lines = await page.$$eval('#loss-chart polyline', (ps) =>
      ps.map((p) => p.getAttribute('data-series')),
    );
    assert.ok(lines.includes('batch loss'), `loss chart series: ${lines.join(', ')}`);
    assert.deepEqual(elsewhere, [], 'the page requested other hosts');
    assert.deepEqual(errors, [], 'errors in the page');
  } finally {
    await context?.close();
    await server?.close();
    rmSync(root, { recursive: true, force: true });
  }
});
