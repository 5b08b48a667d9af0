import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Folder of this test package (deploy/kubernetes/tests). */
export const testsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The repository root. */
export const repoRoot = path.resolve(testsDir, '../../..');
/** The chart under test. */
export const chartDir = path.resolve(testsDir, '../agentik-os');
/** Values files that must lint and render cleanly. */
export const examplesDir = path.resolve(testsDir, '../examples');
