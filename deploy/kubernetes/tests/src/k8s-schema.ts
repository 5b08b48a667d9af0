import path from 'node:path';
import ts from 'typescript';
import type { K8sObject } from './helm.js';
import { testsDir } from './paths.js';

/**
 * Offline checks of rendered objects against the Kubernetes API schemas that
 * kubernetes-models ships (generated from the Kubernetes OpenAPI document):
 *  - `validateSchemas`: the models' own JSON-schema validation (types, enums, required fields);
 *  - `findUnknownFields`: what that validation lets through, unknown fields. The models' type
 *    declarations are the same schemas as TypeScript interfaces, so each object is compiled as
 *    an object literal of its kind, and TypeScript's excess-property check reports every field
 *    the API does not have, at any depth (as the API server's strict field validation would).
 */

const MODULES: Record<string, string> = {
  v1: 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'policy/v1': 'kubernetes-models/policy/v1',
  'autoscaling/v2': 'kubernetes-models/autoscaling/v2',
  'networking.k8s.io/v1': 'kubernetes-models/networking.k8s.io/v1',
  'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
};

const label = (o: K8sObject) => `${o.kind}/${o.metadata?.name ?? '?'}`;

function moduleOf(o: K8sObject): string {
  const module = MODULES[o.apiVersion];
  if (!module) throw new Error(`${label(o)}: no schema for apiVersion ${o.apiVersion}`);
  return module;
}

interface ModelClass {
  new (data: unknown): { validate(): void };
}

/** Problems found by the kubernetes-models validators (an empty list when all are valid). */
export async function validateSchemas(objects: K8sObject[]): Promise<string[]> {
  const problems: string[] = [];
  for (const o of objects) {
    const mod = (await import(moduleOf(o))) as Record<string, ModelClass | undefined>;
    const Model = mod[o.kind];
    if (!Model) {
      problems.push(`${label(o)}: ${o.apiVersion} has no kind ${o.kind}`);
      continue;
    }
    try {
      new Model(o).validate();
    } catch (error) {
      problems.push(`${label(o)}: ${(error as Error).message}`);
    }
  }
  return problems;
}

const options: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  types: [],
};
// Declaration files parse once per process, not once per check.
const sourceCache = new Map<string, ts.SourceFile>();
let previous: ts.Program | undefined;

/** Fields the Kubernetes API does not know, as `Kind/name: message` (empty when there are none). */
export function findUnknownFields(objects: K8sObject[]): string[] {
  const fileName = path.join(testsDir, 'src', '__rendered_objects__.ts');
  const lines: string[] = [];
  const starts: { line: number; object: K8sObject }[] = [];
  objects.forEach((o, i) => {
    lines.push(`import type { I${o.kind} as T${i} } from '${moduleOf(o)}/${o.kind}';`);
  });
  objects.forEach((o, i) => {
    starts.push({ line: lines.length, object: o });
    lines.push(...`export const o${i}: T${i} = ${JSON.stringify(o, null, 1)};`.split('\n'));
  });
  const text = lines.join('\n');
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, onError) => {
    if (name === fileName) return ts.createSourceFile(name, text, ts.ScriptTarget.ES2022, true);
    let file = sourceCache.get(name);
    if (!file) {
      file = getSourceFile(name, version, onError);
      if (file) sourceCache.set(name, file);
    }
    return file;
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === fileName || fileExists(name);
  const program = ts.createProgram([fileName], options, host, previous);
  previous = program;
  const source = program.getSourceFile(fileName)!;
  const problems: string[] = [];
  for (const d of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    const line = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line;
    const owner = [...starts].reverse().find((s) => s.line <= line);
    problems.push(`${owner ? label(owner.object) : 'imports'}: ${message}`);
  }
  return problems;
}

// Scenarios render many identical objects (Services, ConfigMaps, ...): each is checked once per
// test file, which keeps the TypeScript pass, the slow one, short.
const passed = new Set<string>();

/** Both checks together, skipping objects that passed them before in this process. */
export async function checkObjects(objects: K8sObject[]): Promise<string[]> {
  const fresh = objects.filter((o) => !passed.has(JSON.stringify(o)));
  const problems = [...(await validateSchemas(fresh)), ...(fresh.length > 0 ? findUnknownFields(fresh) : [])];
  if (problems.length === 0) for (const o of fresh) passed.add(JSON.stringify(o));
  return problems;
}
