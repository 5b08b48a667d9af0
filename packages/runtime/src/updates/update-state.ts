import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { writeFileDurably } from './durable-fs.js';
import type { Layout } from './layout.js';
import { compareVersions, isVersion } from './versions.js';

/** `/var/lib/agentik-os/updates/state.json`: what the updater has committed. */
export interface UpdateState {
  /** The highest version ever committed: nothing below it is ever installed again. */
  floor: string;
  /** The release folder committed as current (what `current` points at when no update is under way). */
  current: string;
  /** Release N-1 (its folder under releases/), kept for `rollback`, with the backup of its data taken before the update. */
  previous?: { release: string; backup: string };
  updatedAt: string;
}

/**
 * The version of a release folder: its name is the version, or `<version>~r<n>` for a
 * reinstall of the version that was running (which cannot be replaced in place).
 */
export function versionOf(release: string): string {
  return release.replace(/~r\d+$/, '');
}

/** The release folder `current` points at, or undefined when nothing is installed. */
export function currentRelease(layout: Layout): string | undefined {
  let target: string;
  try {
    target = readlinkSync(layout.currentLink);
  } catch {
    return undefined;
  }
  const release = path.basename(target);
  return isVersion(versionOf(release)) ? release : undefined;
}

/** The version `current` points at, or undefined when nothing is installed. */
export function currentVersion(layout: Layout): string | undefined {
  const release = currentRelease(layout);
  return release === undefined ? undefined : versionOf(release);
}

/**
 * Reads the state; a system the installer set up and that was never updated has none yet, and
 * then its installed version is both the floor and the current version.
 */
export function readState(layout: Layout): UpdateState | undefined {
  if (existsSync(layout.stateFile)) return JSON.parse(readFileSync(layout.stateFile, 'utf8')) as UpdateState;
  const release = currentRelease(layout);
  return release === undefined ? undefined : { floor: versionOf(release), current: release, updatedAt: new Date().toISOString() };
}

export function writeState(layout: Layout, state: UpdateState): void {
  writeFileDurably(layout.stateFile, `${JSON.stringify(state, null, 2)}\n`);
}

/** The higher of two versions (for the floor). */
export function maxVersion(a: string, b: string): string {
  return compareVersions(a, b) >= 0 ? a : b;
}
