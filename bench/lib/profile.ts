import { copyFileSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { printTable } from './stats.js';

/**
 * Reads the `.cpuprofile` that `node --cpu-prof --cpu-prof-dir <dir>` wrote (copied to `keep`
 * when given) and sums self time by function and by package/file over the samples taken in
 * `window` (CLOCK_MONOTONIC µs, as `process.hrtime.bigint() / 1000n`; every sample when the
 * profile does not cover it). `print()` prints both tables.
 */
export function readProfile(dir: string, window: { start: number; end: number }, keep?: string) {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('the runtime wrote no .cpuprofile');
  if (keep) copyFileSync(path.join(dir, file), keep);

  interface Node {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }
  const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as {
    nodes: Node[];
    samples: number[];
    timeDeltas: number[];
    startTime: number;
    endTime: number;
  };
  const windowed = profile.startTime <= window.start && window.end <= profile.endTime;
  if (!windowed) console.warn('the profile does not cover the measured window (clock mismatch?): counting every sample');
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; attribute it to the node sampled at i.
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    if (windowed && (at < window.start || at > window.end)) continue;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  }
  const repo = fileURLToPath(new URL('../..', import.meta.url));
  const where = (u: string): string => {
    if (u === '') return '';
    if (u.startsWith('node:')) return u;
    const p = u.startsWith('file://') ? fileURLToPath(u) : u;
    const nm = p.lastIndexOf('/node_modules/');
    if (nm >= 0) return p.slice(nm + '/node_modules/'.length);
    return p.startsWith(repo) ? p.slice(repo.length) : p;
  };
  const group = (n: Node): string => {
    const u = where(n.callFrame.url);
    if (u === '') return n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : '(native, V8 builtins)';
    if (u.startsWith('node:')) return `node: ${u.slice(5).split('/')[0]}`;
    if (!u.startsWith('packages/') && !u.startsWith('bench/')) {
      const parts = u.split('/');
      return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
    }
    return u.replace(/^packages\/runtime\/src\//, 'runtime/').replace(/^packages\/shared\/src\//, 'shared/');
  };
  let total = 0;
  const byFunction = new Map<string, number>();
  const byGroup = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    total += us;
    const fn = `${n.callFrame.functionName || '(anonymous)'}  ${where(n.callFrame.url)}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    const g = group(n);
    byGroup.set(g, (byGroup.get(g) ?? 0) + us);
  }
  const idle = byGroup.get('(idle)') ?? 0;
  const busy = total - idle;
  const top = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .filter(([k]) => k !== '(idle)' && !k.startsWith('(idle)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => ({ self: `${(us / 1000).toFixed(0)} ms`, 'of busy': `${((100 * us) / busy).toFixed(1)}%`, where: k }));
  return {
    busyUs: busy,
    summary: `profile ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s`,
    print(): void {
      printTable('runtime self time by package / file', top(byGroup, 30));
      printTable('runtime self time by function', top(byFunction, 40));
    },
  };
}
