import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { findUpwards, releaseRoot } from '../../lib/release-root.js';
import type { App } from '../types.js';

/** Paths that belong to the API: an unknown one keeps its JSON 404, never the SPA's index.html. */
const RESERVED = /^\/(?:api|v1|health|ready|metrics)(?:[/?]|$)/;

/** Hashed by the build, so a given URL never changes content. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * The dashboard talks only to this origin; it has no inline script or style sheet. React sets
 * `style` through the CSSOM, which `style-src 'self'` allows.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Where the built dashboard is, and whether a build is there. */
export interface DashboardLocation {
  /** The folder served at `/` (may not exist yet). */
  dir: string | undefined;
  /** True when `dir/index.html` exists. */
  built: boolean;
}

/**
 * The dashboard's build folder: the configured one; else `dashboard/` in the offline bundle's
 * release folder when running as its standalone executable; else `packages/dashboard/dist`
 * found by walking up from this module (the same from `src/` under tsx and from `dist/`).
 */
export function locateDashboard(configured: string | undefined): DashboardLocation {
  let dir = configured;
  if (dir === undefined) {
    const root = releaseRoot();
    if (root !== undefined) dir = path.join(root, 'dashboard');
    else {
      const found = findUpwards(path.dirname(fileURLToPath(import.meta.url)), path.join('packages', 'dashboard'));
      if (found !== undefined) dir = path.join(found, 'dist');
    }
  }
  return { dir, built: dir !== undefined && existsSync(path.join(dir, 'index.html')) };
}

const NOT_BUILT = [
  'Agentik OS is running; its API is under /api (OpenAPI: /api/openapi.json).',
  '',
  'The dashboard has not been built. Build it with',
  '  pnpm --filter @agentik/dashboard build',
  'and restart, or point AGENTIK_DASHBOARD_DIR at a folder holding a dashboard build.',
  '',
].join('\n');

function wantsHtml(request: FastifyRequest): boolean {
  return /text\/html/i.test(request.headers.accept ?? '');
}

/** The file of `dir` that the URL path names, if it is a regular file inside `dir`. */
function fileFor(dir: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const file = path.resolve(dir, `.${path.posix.normalize(`/${decoded}`)}`);
  if (!file.startsWith(dir + path.sep)) return undefined;
  try {
    return statSync(file).isFile() ? path.relative(dir, file) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Serves the dashboard's static build at `/`: hashed files under `/assets/` with a year-long
 * immutable cache, `index.html` never cached and with a Content-Security-Policy, and
 * `index.html` for any other browser navigation (the SPA's own routes). API paths and requests
 * that do not accept HTML keep the JSON 404. Without a build the API still runs and `/` explains
 * how to make one.
 */
export async function dashboardRoutes(app: App, deps: { dir: string | undefined }) {
  const { dir, built } = locateDashboard(deps.dir);

  if (!dir || !built) {
    app.log.warn({ dashboardDir: dir ?? null }, 'dashboard not built; serving the API only');
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/plain; charset=utf-8').header('cache-control', 'no-cache').send(NOT_BUILT),
    );
    return;
  }
  const root = path.resolve(dir);

  // Only the reply.sendFile decorator: routing (and the SPA fallback) is ours.
  await app.register(fastifyStatic, { root, serve: false, cacheControl: false, index: false, dotfiles: 'ignore' });

  const sendIndex = (reply: FastifyReply) =>
    reply
      .header('cache-control', 'no-cache')
      .header('content-security-policy', DASHBOARD_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .sendFile('index.html');

  app.get('/', { schema: { hide: true } }, async (_request, reply) => sendIndex(reply));

  // The app's not-found handler answers (and counts) a 404 here as for any path without a route.
  const notFound = (reply: FastifyReply) => {
    reply.callNotFound();
    return reply;
  };
  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const urlPath = request.url.split('?')[0] ?? '/';
    if (RESERVED.test(urlPath)) return notFound(reply);
    const file = fileFor(root, urlPath);
    if (file === 'index.html') return sendIndex(reply);
    if (file) {
      const hashed = file.startsWith(`assets${path.sep}`);
      return reply
        .header('cache-control', hashed ? IMMUTABLE : 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .sendFile(file);
    }
    // A missing asset is a 404 (a stale index.html naming an old build), not an HTML page.
    if (urlPath.startsWith('/assets/') || !wantsHtml(request)) return notFound(reply);
    return sendIndex(reply);
  });
}
