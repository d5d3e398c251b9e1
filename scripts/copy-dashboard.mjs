#!/usr/bin/env node
// Copies the dashboard's static files (src/server/dashboard/static: HTML, CSS, browser JavaScript)
// next to the compiled route in dist/, so a build (and the container image, which holds dist/ only)
// serves the page. Run after `tsc -p tsconfig.build.json` by `npm run build`.
import { cpSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src/server/dashboard/static');
const dist = join(root, 'dist/server/dashboard');
if (!existsSync(dist)) {
  console.error('copy-dashboard: dist/server/dashboard does not exist; run tsc -p tsconfig.build.json first');
  process.exit(1);
}
cpSync(src, join(dist, 'static'), { recursive: true });
