import { UpdateError } from './update-error.js';

/**
 * `MAJOR.MINOR.PATCH` with an optional `-prerelease` of [0-9A-Za-z.-] (BUNDLE-FORMAT.md), exactly
 * what the shell installer accepts, so that both accept the same bundles.
 */
const VERSION = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$/;

export function isVersion(text: string): boolean {
  return VERSION.test(text);
}

function parse(text: string): { core: number[]; pre: string[] } {
  const match = VERSION.exec(text);
  if (!match) throw new UpdateError('UPDATE_MANIFEST_INVALID', `not a version: ${JSON.stringify(text)}`);
  return { core: [Number(match[1]), Number(match[2]), Number(match[3])], pre: match[4]?.split('.') ?? [] };
}

/** Semantic-version order: negative when a < b, 0 when equal, positive when a > b. */
export function compareVersions(a: string, b: string): number {
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i += 1) if (x.core[i] !== y.core[i]) return x.core[i]! - y.core[i]!;
  // A release sorts after its prereleases.
  if (x.pre.length === 0 || y.pre.length === 0) return y.pre.length - x.pre.length;
  for (let i = 0; i < Math.min(x.pre.length, y.pre.length); i += 1) {
    const p = x.pre[i]!;
    const q = y.pre[i]!;
    if (p === q) continue;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn) return Number(p) - Number(q);
    if (pn !== qn) return pn ? -1 : 1;
    return p < q ? -1 : 1;
  }
  return x.pre.length - y.pre.length;
}

export interface VersionCheck {
  /** The version the bundle carries. */
  candidate: string;
  /** The version `current` points at (undefined: nothing installed). */
  running: string | undefined;
  /** The highest version ever committed (TUF's rollback protection). */
  floor: string | undefined;
  reinstall: boolean;
}

/**
 * The version rules of an update: never below the highest version ever committed (even after a
 * rollback moved `current` lower), and the running version only when asked for explicitly.
 */
export function checkVersionRules(c: VersionCheck): void {
  if (c.floor !== undefined && compareVersions(c.candidate, c.floor) < 0) {
    throw new UpdateError(
      'UPDATE_VERSION_BELOW_FLOOR',
      `${c.candidate} is older than ${c.floor}, the highest version committed on this system; downgrades are refused`,
    );
  }
  if (c.running !== undefined && compareVersions(c.candidate, c.running) === 0 && !c.reinstall) {
    throw new UpdateError('UPDATE_SAME_VERSION', `${c.candidate} is the version running; pass --reinstall to install it again`);
  }
}
