import { renameSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fsyncDir } from './durable-fs.js';
import type { Layout } from './layout.js';

/**
 * Points `current` at `releases/<release>` atomically: a new link under a temporary name, renamed
 * over the old one (rename(2) replaces it in one step; `ln -sfn` unlinks first). The link is
 * relative, so it stays right under any install root.
 */
export function switchCurrent(layout: Layout, release: string): void {
  const tmp = path.join(layout.optDir, `.current-${process.pid}`);
  rmSync(tmp, { force: true });
  symlinkSync(path.join('releases', release), tmp);
  renameSync(tmp, layout.currentLink);
  fsyncDir(layout.optDir);
}
