import path from 'node:path';

/**
 * Where an installation lives (the installer's layout), under an install root that is `/` on a
 * real system and a scratch folder in tests.
 */
export interface Layout {
  installRoot: string;
  /** `/opt/agentik-os` */
  optDir: string;
  /** `/opt/agentik-os/releases` */
  releasesDir: string;
  /** `/opt/agentik-os/current`, a symbolic link to `releases/<version>` */
  currentLink: string;
  /** `/etc/agentik-os` */
  etcDir: string;
  /** `/etc/agentik-os/agentik.env`, the service's settings */
  envFile: string;
  /** `/etc/agentik-os/trusted-keys`, the only keys a bundle may be signed with */
  trustedKeysDir: string;
  /** `/var/lib/agentik-os` */
  varDir: string;
  /** `/var/lib/agentik-os/updates`: state, journal, lock, audit log, staging, backups */
  updatesDir: string;
  stateFile: string;
  journalFile: string;
  lockFile: string;
  auditLog: string;
  stagingDir: string;
  backupsDir: string;
}

export function layoutFor(installRoot: string): Layout {
  const root = path.resolve(installRoot);
  const optDir = path.join(root, 'opt/agentik-os');
  const etcDir = path.join(root, 'etc/agentik-os');
  const varDir = path.join(root, 'var/lib/agentik-os');
  const updatesDir = path.join(varDir, 'updates');
  return {
    installRoot: root,
    optDir,
    releasesDir: path.join(optDir, 'releases'),
    currentLink: path.join(optDir, 'current'),
    etcDir,
    envFile: path.join(etcDir, 'agentik.env'),
    trustedKeysDir: path.join(etcDir, 'trusted-keys'),
    varDir,
    updatesDir,
    stateFile: path.join(updatesDir, 'state.json'),
    journalFile: path.join(updatesDir, 'journal.jsonl'),
    lockFile: path.join(updatesDir, 'lock'),
    auditLog: path.join(updatesDir, 'audit.log'),
    stagingDir: path.join(updatesDir, 'staging'),
    backupsDir: path.join(updatesDir, 'backups'),
  };
}

/** The folder of one release. */
export function releaseDir(layout: Layout, version: string): string {
  return path.join(layout.releasesDir, version);
}
