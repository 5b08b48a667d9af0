import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseKey } from './secret-box.js';

/**
 * The key that encrypts tenant secrets at rest: AGENTIK_ENCRYPTION_KEY when set, else the one in
 * `<data>/encryption.key`, created (mode 0600) on first start. Operators who back up the data
 * folder without that file, or who run replicas, should set the variable instead.
 */
export function resolveEncryptionKey(configured: string | undefined, dataDir: string): Buffer {
  if (configured) return parseKey(configured);
  const file = path.join(dataDir, 'encryption.key');
  if (existsSync(file)) return parseKey(readFileSync(file, 'utf8'));
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}
