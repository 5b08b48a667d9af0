import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { repoRoot } from './paths.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the pinned Helm binary (deploy/kubernetes/scripts/fetch-helm.sh). */
    helm: string;
  }
}

export default function setup(project: TestProject): void {
  const script = path.join(repoRoot, 'deploy/kubernetes/scripts/fetch-helm.sh');
  const helm = execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  project.provide('helm', helm);
}
