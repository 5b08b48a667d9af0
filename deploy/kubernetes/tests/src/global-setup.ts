import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { repoRoot } from './paths.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the pinned Helm 3.17.3 (deploy/kubernetes/scripts/fetch-helm.sh). */
    helm: string;
    /** Path of the pinned Helm 3.9.4, the oldest Helm that can be had here. */
    helmOldest: string;
  }
}

export default function setup(project: TestProject): void {
  const script = path.join(repoRoot, 'deploy/kubernetes/scripts/fetch-helm.sh');
  const fetch = (...version: string[]) => execFileSync('bash', [script, ...version], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  project.provide('helm', fetch());
  project.provide('helmOldest', fetch('3.9.4'));
}
