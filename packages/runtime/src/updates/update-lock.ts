import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { UpdateError } from './update-error.js';

/** The boot this process runs in: a lock from an earlier boot is stale whatever its pid. */
function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface UpdateLock {
  release(): void;
}

/**
 * Takes the one-updater-at-a-time lock: a file holding our pid and boot id, created exclusively.
 * A lock left by a process that no longer runs (a `kill -9`, a power cut) is taken over.
 */
export function acquireLock(file: string): UpdateLock {
  const mine = JSON.stringify({ pid: process.pid, boot: bootId() });
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(file, mine, { flag: 'wx', mode: 0o600 });
      return {
        release: () => {
          try {
            if (readFileSync(file, 'utf8') === mine) rmSync(file);
          } catch {
            // Already gone: nothing to release.
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder: { pid?: number; boot?: string } = {};
    try {
      holder = JSON.parse(readFileSync(file, 'utf8')) as typeof holder;
    } catch {
      // A torn or foreign file is stale.
    }
    const live = typeof holder.pid === 'number' && holder.pid !== process.pid && holder.boot === bootId() && alive(holder.pid);
    if (live) throw new UpdateError('UPDATE_LOCKED', `another updater is running (pid ${holder.pid}); wait for it to finish`);
    rmSync(file, { force: true });
  }
  throw new UpdateError('UPDATE_LOCKED', 'another updater took the lock at the same moment; try again');
}
