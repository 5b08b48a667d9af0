import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../../test-support/harness.js';
import { DASHBOARD_CSP, locateDashboard } from './dashboard.js';

const INDEX = '<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head><body><div id="root"></div></body></html>';
const HTML = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

describe('dashboard routes with a build', () => {
  let dist: string;
  let rt: TestRuntime;

  beforeAll(async () => {
    dist = mkdtempSync(path.join(tmpdir(), 'agentik-dash-'));
    mkdirSync(path.join(dist, 'assets'));
    writeFileSync(path.join(dist, 'index.html'), INDEX);
    writeFileSync(path.join(dist, 'assets', 'index-abc123.js'), 'console.log("app")');
    writeFileSync(path.join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(path.join(dist, '.secret'), 'dotfile');
    rt = await startTestRuntime({ AGENTIK_DASHBOARD_DIR: dist });
  });

  afterAll(async () => {
    await rt.close();
    rmSync(dist, { recursive: true, force: true });
  });

  const get = (url: string, headers: Record<string, string> = {}) => rt.app.inject({ method: 'GET', url, headers });

  it('serves index.html at / with no-cache and a Content-Security-Policy', async () => {
    const res = await get('/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(res.body).toBe(INDEX);
  });

  it('serves hashed assets with a year-long immutable cache, other files with no-cache', async () => {
    const asset = await get('/assets/index-abc123.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.body).toBe('console.log("app")');
    const icon = await get('/favicon.svg');
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['cache-control']).toBe('no-cache');
  });

  it('falls back to index.html for browser navigations to the SPA routes', async () => {
    for (const url of ['/agents', '/chat/ag_1/cv_2', '/index.html', '/tenants?x=1']) {
      const res = await get(url, HTML);
      expect(res.statusCode, url).toBe(200);
      expect(res.body).toBe(INDEX);
      expect(res.headers['cache-control']).toBe('no-cache');
    }
  });

  it('keeps the JSON 404 for API paths, missing assets and non-browser clients', async () => {
    for (const url of ['/api/nope', '/v1/nope', '/health/x', '/ready/x', '/metrics/x', '/api', '/assets/missing.js']) {
      const res = await get(url, HTML);
      expect(res.statusCode, url).toBe(404);
      expect(res.json(), url).toEqual({ error: { code: 'NOT_FOUND', message: `no route GET ${url}` } });
    }
    const plain = await get('/no/such/route');
    expect(plain.statusCode).toBe(404);
    expect(plain.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    const post = await rt.app.inject({ method: 'POST', url: '/agents', headers: HTML });
    expect(post.statusCode).toBe(404);
  });

  it('never serves a file outside the build, nor a dotfile', async () => {
    for (const url of ['/../package.json', '/%2e%2e/%2e%2e/package.json', '/assets/..%2f..%2fpackage.json', '/.secret', '/%00']) {
      const res = await get(url, HTML);
      expect(res.body, url).not.toContain('"name"');
      expect(res.body, url).not.toBe('dotfile');
    }
  });

  it('leaves the API routes alone', async () => {
    expect((await get('/health')).json()).toEqual({ status: 'ok' });
    expect((await get('/api/agents')).json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
  });
});

describe('dashboard routes without a build', () => {
  it('still starts; / explains how to build the dashboard, and other paths keep their 404', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'agentik-nodash-'));
    const rt = await startTestRuntime({ AGENTIK_DASHBOARD_DIR: path.join(empty, 'dist') });
    try {
      const res = await rt.app.inject({ method: 'GET', url: '/' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.body).toContain('pnpm --filter @agentik/dashboard build');
      expect(res.body).toContain('AGENTIK_DASHBOARD_DIR');
      expect((await rt.app.inject({ method: 'GET', url: '/agents', headers: HTML })).statusCode).toBe(404);
      expect(rt.logs.some((l) => l.includes('dashboard not built'))).toBe(true);
    } finally {
      await rt.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('locateDashboard finds packages/dashboard/dist from the module by default', () => {
    const found = locateDashboard(undefined);
    expect(found.dir).toMatch(/packages[/\\]dashboard[/\\]dist$/);
    expect(locateDashboard('/nonexistent/dir')).toEqual({ dir: '/nonexistent/dir', built: false });
  });
});
