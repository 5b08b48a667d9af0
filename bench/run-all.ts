/**
 * Runs every benchmark in sequence, each in its own `node --expose-gc --import tsx` process so
 * that one's memory and JIT state do not colour the next. `pnpm bench` runs this file; name
 * benchmarks to run only those: `pnpm bench cold-tenant agents-rps`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { printTable } from './lib/stats.js';

const ALL = ['tenant-create', 'cold-tenant', 'pool-rss', 'agents-rps', 'pipeline'];
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

const asked = process.argv.slice(2).filter((a) => a !== '--');
const unknown = asked.filter((name) => !ALL.includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${ALL.join(', ')}`);
  process.exit(2);
}
const selected = asked.length > 0 ? ALL.filter((name) => asked.includes(name)) : ALL;

const outcomes: Array<Record<string, string>> = [];
for (const name of selected) {
  console.log(`\n=== ${name} ===`);
  const started = performance.now();
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', `bench/${name}.ts`], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  outcomes.push({
    benchmark: name,
    result: code === 0 ? 'ok' : `failed (${signal ?? `exit ${code}`})`,
    time: `${((performance.now() - started) / 1000).toFixed(1)} s`,
  });
}
printTable('benchmarks run', outcomes);
process.exitCode = outcomes.every((o) => o.result === 'ok') ? 0 : 1;
