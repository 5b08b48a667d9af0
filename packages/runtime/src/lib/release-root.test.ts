import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundledSqlite, findUpwards, releaseRoot } from './release-root.js';

const root = mkdtempSync(path.join(tmpdir(), 'agentik-release-root-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('release root', () => {
  it('is undefined outside the standalone executable, so files are found from the checkout', () => {
    expect(releaseRoot()).toBeUndefined();
    expect(bundledSqlite()).toBeUndefined();
  });

  it('findUpwards returns the nearest match above the start, or undefined', () => {
    mkdirSync(path.join(root, 'backends', 'sqlite', 'migrations'), { recursive: true });
    mkdirSync(path.join(root, 'a', 'backends', 'sqlite', 'migrations'), { recursive: true });
    mkdirSync(path.join(root, 'a', 'b', 'c'), { recursive: true });
    const relative = path.join('backends', 'sqlite', 'migrations');
    expect(findUpwards(path.join(root, 'a', 'b', 'c'), relative)).toBe(path.join(root, 'a', relative));
    expect(findUpwards(root, relative)).toBe(path.join(root, relative));
    expect(findUpwards(path.join(root, 'a', 'b'), path.join('no-such-folder-anywhere', 'x'))).toBeUndefined();
  });
});
