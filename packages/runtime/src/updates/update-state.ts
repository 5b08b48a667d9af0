import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { writeFileDurably } from './durable-fs.js';
import type { Layout } from './layout.js';
import { compareVersions, isVersion } from './versions.js';

/** `/var/lib/agentik-os/updates/state.json`: what the updater has committed. */
export interface UpdateState {
  /** The highest version ever committed: nothing below it is ever installed again. */
  floor: string;
  /** The version committed as current (what `current` points at when no update is under way). */
  current: string;
  /** Release N-1, kept for `rollback`, with the backup of its data taken before the update. */
  previous?: { version: string; backup: string };
  updatedAt: string;
}

/** The version `current` points at, or undefined when nothing is installed. */
export function currentVersion(layout: Layout): string | undefined {
  let target: string;
  try {
    target = readlinkSync(layout.currentLink);
  } catch {
    return undefined;
  }
  const version = path.basename(target);
  return isVersion(version) ? version : undefined;
}

/**
 * Reads the state; a system the installer set up and that was never updated has none yet, and
 * then its installed version is both the floor and the current version.
 */
export function readState(layout: Layout): UpdateState | undefined {
  if (existsSync(layout.stateFile)) return JSON.parse(readFileSync(layout.stateFile, 'utf8')) as UpdateState;
  const version = currentVersion(layout);
  return version === undefined ? undefined : { floor: version, current: version, updatedAt: new Date().toISOString() };
}

export function writeState(layout: Layout, state: UpdateState): void {
  writeFileDurably(layout.stateFile, `${JSON.stringify(state, null, 2)}\n`);
}

/** The higher of two versions (for the floor). */
export function maxVersion(a: string, b: string): string {
  return compareVersions(a, b) >= 0 ? a : b;
}
