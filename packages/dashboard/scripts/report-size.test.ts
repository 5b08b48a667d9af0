import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIRST_LOAD_BUDGET, firstLoadScripts, measureFirstLoad, reportFirstLoad } from './report-size.mjs';

describe('report-size', () => {
  it('counts the module scripts and modulepreload links of index.html, not styles or other links', () => {
    const html = `<script type="module" crossorigin src="/assets/index-a1.js"></script>
      <link rel="modulepreload" crossorigin href="/assets/vendor-b2.js">
      <link rel="stylesheet" href="/assets/index-c3.css"><link rel="icon" href="/favicon.svg">
      <script src="https://cdn.example/x.js"></script>`;
    expect(firstLoadScripts(html)).toEqual(['assets/index-a1.js', 'assets/vendor-b2.js']);
  });

  it('sums the gzipped sizes and fails over the budget', () => {
    const dist = mkdtempSync(path.join(tmpdir(), 'agentik-size-'));
    try {
      mkdirSync(path.join(dist, 'assets'));
      writeFileSync(path.join(dist, 'index.html'), '<script type="module" src="/assets/a.js"></script>');
      writeFileSync(path.join(dist, 'assets', 'a.js'), 'x'.repeat(10_000));
      const small = measureFirstLoad(dist);
      expect(small.total).toBeGreaterThan(0);
      expect(small.total).toBeLessThan(1_000);
      const lines: string[] = [];
      expect(reportFirstLoad(dist, (l) => lines.push(l))).toBe(small.total);
      expect(lines.at(-1)).toContain('within the 250 kB budget');

      // Random bytes do not compress: a file well over the budget stays over it gzipped.
      writeFileSync(path.join(dist, 'assets', 'a.js'), randomBytes(FIRST_LOAD_BUDGET + 50_000));
      expect(() => reportFirstLoad(dist, () => {})).toThrow(/over the 250 kB budget/);
    } finally {
      rmSync(dist, { recursive: true, force: true });
    }
  });
});
