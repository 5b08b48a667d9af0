#!/usr/bin/env node
/**
 * Reports the JavaScript a browser downloads on the first load of the dashboard, gzipped, and
 * fails above the budget (250 kB). The first load is what dist/index.html names: its module
 * scripts and modulepreload links (Vite lists every statically imported chunk there); lazy
 * chunks load later and do not count.
 *
 * Run after `vite build` (vite.config.ts also calls it when a build finishes), or on its own:
 *   node scripts/report-size.mjs [distDir]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** The budget in bytes (1 kB = 1000 bytes). */
export const FIRST_LOAD_BUDGET = 250_000;

/** The JS files (relative to dist) that index.html loads up front. */
export function firstLoadScripts(html) {
  const files = new Set();
  const tag = /<(script|link)\b[^>]*>/gi;
  for (const [element, name] of html.matchAll(tag)) {
    const attr = (n) => new RegExp(`\\s${n}\\s*=\\s*["']([^"']+)["']`, 'i').exec(element)?.[1];
    const url = name.toLowerCase() === 'script' ? attr('src') : attr('rel') === 'modulepreload' ? attr('href') : undefined;
    if (url && /\.m?js(?:\?|$)/.test(url) && !/^[a-z]+:/i.test(url)) files.add(url.replace(/^\//, '').split('?')[0]);
  }
  return [...files];
}

/** Measures the first load of the build in `dist`; returns the report lines and the total. */
export function measureFirstLoad(dist) {
  const html = readFileSync(path.join(dist, 'index.html'), 'utf8');
  const files = firstLoadScripts(html);
  if (files.length === 0) throw new Error(`${dist}/index.html loads no JavaScript: is this a dashboard build?`);
  let total = 0;
  const lines = [];
  for (const file of files) {
    const bytes = readFileSync(path.join(dist, file));
    const gz = gzipSync(bytes, { level: 9 }).length;
    total += gz;
    lines.push(`  ${file}  ${(bytes.length / 1000).toFixed(1)} kB raw, ${(gz / 1000).toFixed(1)} kB gzipped`);
  }
  return { files, total, lines };
}

/** Prints the report; throws when the first load is over budget. */
export function reportFirstLoad(dist, log = console.log) {
  const { total, lines } = measureFirstLoad(dist);
  log('First-load JavaScript (gzipped):');
  for (const line of lines) log(line);
  const verdict = total <= FIRST_LOAD_BUDGET ? 'within' : 'OVER';
  log(`  total ${(total / 1000).toFixed(1)} kB gzipped, ${verdict} the ${FIRST_LOAD_BUDGET / 1000} kB budget`);
  if (total > FIRST_LOAD_BUDGET) {
    throw new Error(`first-load JS is ${(total / 1000).toFixed(1)} kB gzipped, over the ${FIRST_LOAD_BUDGET / 1000} kB budget`);
  }
  return total;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dist = path.resolve(process.argv[2] ?? fileURLToPath(new URL('../dist', import.meta.url)));
  try {
    reportFirstLoad(dist);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}
