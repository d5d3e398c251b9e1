/**
 * The dashboard: a static page (HTML, CSS, plain ES-module JavaScript, a hand-written SVG chart)
 * served at `/` and `/dashboard/*`. Nothing is built at run time and nothing is fetched from
 * elsewhere: the page's content security policy allows only this server. The page itself holds no
 * data, so it is served without authentication; everything it shows comes from the API, with the
 * token the user enters.
 *
 * The files live in `static/` beside this module's source. A build (dist/) finds them through the
 * package's `src/server/dashboard/static` when they were not copied next to the compiled module.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Request, type Response, Router } from 'express';

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'chart.js': 'text/javascript; charset=utf-8',
  'metrics.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

/** Only this server: scripts, styles and fetches from the same origin, no frames, no inline code. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The directory holding the page's files, or undefined when the package lacks them. */
export function dashboardDir(): string | undefined {
  const candidates = [
    new URL('./static/', import.meta.url),
    // dist/server/dashboard/ -> <package>/src/server/dashboard/static/
    new URL('../../../src/server/dashboard/static/', import.meta.url),
  ];
  for (const c of candidates) {
    const dir = fileURLToPath(c);
    if (existsSync(`${dir}index.html`)) return dir;
  }
  return undefined;
}

export interface DashboardOptions {
  /** Where the files are (default: dashboardDir()). */
  dir?: string;
}

export function dashboardRoutes(opts: DashboardOptions = {}): Router {
  const r = Router();
  const dir = opts.dir ?? dashboardDir();
  // Read once: a handful of small files.
  const files = new Map<string, Buffer>();
  if (dir) for (const name of Object.keys(FILES)) files.set(name, readFileSync(`${dir}/${name}`));

  const send = (name: string) => (_req: Request, res: Response) => {
    const body = files.get(name);
    if (!body) {
      res.status(404).json({
        error:
          'the dashboard files are not installed with this build (src/server/dashboard/static is missing)',
      });
      return;
    }
    res.setHeader('Content-Security-Policy', DASHBOARD_CSP);
    res.setHeader('Cache-Control', 'no-cache');
    res.type(FILES[name]!).send(body);
  };
  r.get('/', send('index.html'));
  r.get('/dashboard', (_req, res) => res.redirect(302, '/'));
  for (const name of Object.keys(FILES)) r.get(`/dashboard/${name}`, send(name));
  return r;
}
