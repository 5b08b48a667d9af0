import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';
import { reportFirstLoad } from './scripts/report-size.mjs';

const shared = fileURLToPath(new URL('../shared/src/index.ts', import.meta.url));

/** After every production build: print the gzipped first-load JS and fail the build over budget. */
function firstLoadBudget(): Plugin {
  let outDir = '';
  return {
    name: 'agentik-first-load-budget',
    apply: 'build',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      reportFirstLoad(outDir, (line) => this.info(line));
    },
  };
}

/**
 * The dashboard builds to static files in dist/ (hashed names under assets/). `vite` serves it in
 * development and proxies the API to a runtime (AGENTIK_DEV_API, default http://127.0.0.1:3000).
 * Tests: unit tests in jsdom, and browser tests (e2e/) in headless Chromium against a real runtime.
 */
export default defineConfig({
  plugins: [react(), firstLoadBudget()],
  resolve: { alias: { '@agentik/shared': shared } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
  server: {
    proxy: Object.fromEntries(
      ['/api', '/v1', '/health', '/ready', '/metrics'].map((p) => [p, process.env.AGENTIK_DEV_API ?? 'http://127.0.0.1:3000']),
    ),
  },
  test: {
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['src/**/*.test.{ts,tsx}', 'scripts/**/*.test.ts'], environment: 'jsdom' },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['e2e/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // One browser and one runtime per file; the files run one after the other on 2 cores.
          fileParallelism: false,
        },
      },
    ],
  },
});
