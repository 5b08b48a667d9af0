// Static checks of docker/docker-compose.prod.yml as Compose renders it: `docker-compose config`
// passes for every profile, and every service carries the stack's hardening. Run by
// docker/test-compose.sh (`node --test docker/compose-hardening.test.mjs`); needs docker-compose
// (v1.29 from Debian, whose python3-yaml also turns the rendered YAML into JSON here) and promtool.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const dockerDir = dirname(fileURLToPath(import.meta.url));
const composeFile = join(dockerDir, 'docker-compose.prod.yml');
const raw = readFileSync(composeFile, 'utf8');
// An empty environment for interpolation: the defaults in the file, not the caller's .env.
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };

const PROFILES = { postgres: ['postgres', 'redis', 'runtime-2'], monitoring: ['prometheus', 'grafana'], tools: ['backup', 'backup-postgres'] };
const DEFAULT_SERVICES = ['certs', 'proxy', 'runtime', 'dashboard'];
const ALL_SERVICES = [...DEFAULT_SERVICES, ...Object.values(PROFILES).flat()];

function compose(args, extraEnv = {}) {
  return execFileSync('docker-compose', ['-f', composeFile, ...args], {
    cwd: dockerDir,
    env: { ...env, ...extraEnv },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

// docker-compose v1 is Python with PyYAML; its interpreter is the one on its shebang line.
function yamlToJson(text) {
  const python = readFileSync(execFileSync('sh', ['-c', 'command -v docker-compose'], { encoding: 'utf8' }).trim(), 'utf8')
    .split('\n')[0]
    .replace(/^#!\s*/, '')
    .split(/\s+/);
  const json = execFileSync(python[0], [...python.slice(1), '-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], {
    input: text,
    encoding: 'utf8',
  });
  return JSON.parse(json);
}

const rendered = yamlToJson(compose(['config']));
const secretsOf = (s) => (s.secrets ?? []).map((x) => (typeof x === 'string' ? x : x.source));
const source = yamlToJson(raw);
const services = rendered.services;

test('docker-compose config -q passes for every profile and combination', () => {
  const sets = [[], ['postgres'], ['monitoring'], ['tools'], ['postgres', 'monitoring', 'tools']];
  for (const set of sets) {
    compose([...set.flatMap((p) => ['--profile', p]), 'config', '-q']);
    compose(['config', '-q'], { COMPOSE_PROFILES: set.join(',') });
  }
});

test('the file loads in docker-compose v1.29 and v2: no top-level name, one service list', () => {
  assert.equal(source.name, undefined, 'a top-level name: breaks docker-compose v1');
  assert.deepEqual(Object.keys(services).sort(), [...ALL_SERVICES].sort());
});

test('profiles: default services depend only on default services', () => {
  for (const [profile, names] of Object.entries(PROFILES)) {
    for (const name of names) assert.deepEqual(services[name].profiles, [profile], `${name} is in profile ${profile} only`);
  }
  for (const name of DEFAULT_SERVICES) {
    assert.equal(services[name].profiles, undefined, `${name} runs by default`);
    for (const dep of Object.keys(services[name].depends_on ?? {})) {
      assert.ok(DEFAULT_SERVICES.includes(dep), `default service ${name} depends on profile-only ${dep}`);
    }
  }
});

test('every service: health check, restart, read-only root with tmpfs, no capabilities, no-new-privileges, limits', () => {
  for (const [name, s] of Object.entries(services)) {
    const hc = s.healthcheck;
    assert.ok(hc && Array.isArray(hc.test) && ['CMD', 'CMD-SHELL'].includes(hc.test[0]) && hc.test.length > 1, `${name}: healthcheck.test`);
    assert.ok(hc.interval && hc.timeout && hc.retries >= 1, `${name}: healthcheck interval/timeout/retries`);
    assert.equal(hc.disable, undefined, `${name}: healthcheck not disabled`);
    assert.equal(s.restart, 'unless-stopped', `${name}: restart`);
    assert.equal(s.read_only, true, `${name}: read_only`);
    assert.ok(Array.isArray(s.tmpfs) && s.tmpfs.includes('/tmp'), `${name}: tmpfs /tmp`);
    assert.deepEqual(s.cap_drop, ['ALL'], `${name}: cap_drop`);
    assert.equal(s.cap_add, undefined, `${name}: no capabilities added (nginx listens on 8080/8443)`);
    assert.equal(s.privileged, undefined, `${name}: not privileged`);
    assert.deepEqual(s.security_opt, ['no-new-privileges:true'], `${name}: security_opt`);
    assert.match(String(s.mem_limit), /^\d+[kmg]?$/i, `${name}: mem_limit`);
    assert.ok(Number(s.cpus) > 0 && Number(s.cpus) <= 4, `${name}: cpus`);
    assert.ok(Number(s.pids_limit) > 0, `${name}: pids_limit`);
    assert.equal(s.network_mode, undefined, `${name}: no host network`);
    assert.equal(s.pid, undefined, `${name}: no host pid namespace`);
    for (const v of s.volumes ?? []) {
      const spec = typeof v === 'string' ? v : `${v.source}:${v.target}`;
      assert.doesNotMatch(spec, /docker\.sock|podman\.sock/, `${name}: no engine socket`);
    }
  }
});

test('every service logs to json-file with max-size and max-file, all from the one x-logging anchor', () => {
  const logging = source['x-logging'];
  assert.equal(logging.driver, 'json-file');
  assert.equal((raw.match(/&logging\b/g) ?? []).length, 1, 'one x-logging anchor');
  assert.equal((raw.match(/^\s+logging:/gm) ?? []).length, 1, 'logging is set only in x-hardening');
  assert.equal((raw.match(/<<: \*hardening/g) ?? []).length, ALL_SERVICES.length, 'every service merges x-hardening');
  for (const [name, s] of Object.entries(services)) {
    assert.equal(s.logging?.driver, 'json-file', `${name}: logging driver`);
    assert.match(String(s.logging.options['max-size']), /^\d+[kmg]$/, `${name}: max-size`);
    assert.match(String(s.logging.options['max-file']), /^\d+$/, `${name}: max-file`);
  }
});

test('depends_on waits for healthy services, and each service waits for what it needs', () => {
  const needs = {
    proxy: ['certs', 'dashboard', 'runtime'],
    'runtime-2': ['postgres', 'redis'],
    prometheus: ['runtime'],
    grafana: ['prometheus'],
    backup: ['runtime'],
    'backup-postgres': ['postgres'],
  };
  for (const [name, s] of Object.entries(services)) {
    for (const [dep, spec] of Object.entries(s.depends_on ?? {})) {
      assert.ok(services[dep], `${name} depends on unknown ${dep}`);
      assert.equal(spec.condition, 'service_healthy', `${name} -> ${dep}`);
    }
    assert.deepEqual(Object.keys(s.depends_on ?? {}).sort(), needs[name] ?? [], `${name}: depends_on`);
  }
});

test('secrets come from files under ./secrets, and no password has a value or a default', () => {
  for (const [name, secret] of Object.entries(source.secrets)) {
    assert.match(secret.file, /^\.\/secrets\/[a-z_]+$/, `secret ${name}`);
  }
  const secretish = /(PASSWORD|SECRET|TOKEN|_KEY|DATABASE_URL|REDIS_URL)$/;
  for (const [name, s] of Object.entries(services)) {
    for (const [key, value] of Object.entries(s.environment ?? {})) {
      if (secretish.test(key)) assert.fail(`${name}: ${key}=${value} in the environment; use ${key}_FILE and a secret`);
      if (key.endsWith('_FILE') && value) assert.match(String(value), /^\/run\/secrets\/[a-z_]+$/, `${name}: ${key}`);
    }
    for (const ref of secretsOf(s)) {
      assert.ok(source.secrets[ref], `${name}: secret ${ref} is declared`);
    }
  }
  assert.doesNotMatch(raw, /(PASSWORD|SECRET|TOKEN)[A-Z_]*:-[^}]/, 'no default for a password variable');
});

test('only the proxy publishes ports: 80 and 443 onto unprivileged 8080 and 8443', () => {
  for (const [name, s] of Object.entries(services)) {
    if (name !== 'proxy') assert.equal(s.ports, undefined, `${name} publishes no port`);
  }
  const ports = services.proxy.ports.map((p) => (typeof p === 'string' ? p : `${p.host_ip}:${p.published}:${p.target}`));
  assert.deepEqual(ports.map((p) => p.replace(/\/tcp$/, '')).sort(), ['0.0.0.0:443:8443', '0.0.0.0:80:8080']);
});

test('runtime: SQLite on a named volume; the postgres profile adds a replica sharing the key', () => {
  const runtime = services.runtime;
  assert.equal(runtime.environment.AGENTIK_STORAGE, 'sqlite');
  assert.ok(runtime.volumes.some((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`).startsWith('runtime-data:/var/lib/agentik-os')));
  assert.ok(rendered.volumes['runtime-data'] !== undefined);
  const replica = services['runtime-2'];
  assert.equal(replica.environment.AGENTIK_STORAGE, 'postgres');
  assert.equal(replica.environment.AGENTIK_ENCRYPTION_KEY_FILE, runtime.environment.AGENTIK_ENCRYPTION_KEY_FILE);
  assert.ok(secretsOf(replica).includes('encryption_key') && secretsOf(runtime).includes('encryption_key'));
  assert.deepEqual(replica.networks.default.aliases, ['runtime'], 'the replica answers to the name runtime');
  assert.equal(replica.image, runtime.image);
});

test('monitoring: Prometheus retention set and its config valid; Grafana password from a secret', () => {
  const flags = services.prometheus.command;
  assert.ok(flags.some((f) => /^--storage\.tsdb\.retention\.time=\d+[dhwy]$/.test(f)), 'retention time');
  assert.ok(flags.some((f) => /^--storage\.tsdb\.retention\.size=\d+[KMGT]?B$/.test(f)), 'retention size');
  execFileSync('promtool', ['check', 'config', join(dockerDir, 'prometheus/prometheus.yml')], { stdio: 'pipe' });
  assert.equal(services.grafana.environment.GF_SECURITY_ADMIN_PASSWORD__FILE, '/run/secrets/grafana_admin_password');
  assert.ok(secretsOf(services.grafana).includes('grafana_admin_password'));
});

test('backup services write into ./backups', () => {
  for (const name of ['backup', 'backup-postgres']) {
    assert.ok(services[name].volumes.includes(`${join(dockerDir, 'backups')}:/backups:rw`), `${name} mounts ./backups`);
  }
});

test('.env.example renders, and documents every variable the file reads', () => {
  compose(['--env-file', join(dockerDir, '.env.example'), 'config', '-q']);
  const example = readFileSync(join(dockerDir, '.env.example'), 'utf8');
  const documented = new Set([...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]));
  const used = new Set([...raw.matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]));
  for (const name of used) assert.ok(documented.has(name), `${name} is used by the Compose file but not in .env.example`);
  for (const name of documented) {
    if (!name.startsWith('COMPOSE_')) assert.ok(used.has(name), `${name} is in .env.example but the Compose file never reads it`);
  }
});

test('grafana: the provisioned data source, four dashboards, every query valid PromQL', () => {
  const datasource = readFileSync(join(dockerDir, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8');
  const uid = /uid: (\S+)/.exec(datasource)?.[1];
  assert.ok(uid && /url: http:\/\/prometheus:9090/.test(datasource));
  assert.match(readFileSync(join(dockerDir, 'grafana/provisioning/dashboards/agentik.yml'), 'utf8'), /path: \/etc\/grafana\/dashboards/);
  const files = ['runtime-overview', 'cost-per-tenant-and-model', 'pipeline-stage-latency', 'tenant-pool'];
  const rules = [];
  for (const file of files) {
    const board = JSON.parse(readFileSync(join(dockerDir, `grafana/dashboards/${file}.json`), 'utf8'));
    assert.ok(board.uid && board.title && board.panels.length > 0, file);
    for (const panel of board.panels) {
      assert.equal(panel.datasource.uid, uid, `${file}: ${panel.title}`);
      for (const target of panel.targets) {
        assert.equal(target.datasource.uid, uid, `${file}: ${panel.title}`);
        // Grafana's $__range is not PromQL: check the query with a fixed range in its place.
        rules.push({ record: `check:${file.replace(/-/g, '_')}:${rules.length}`, expr: target.expr.replaceAll('$__range', '1h') });
      }
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'agentik-dashboards-'));
  try {
    const file = join(dir, 'rules.yml');
    // JSON is YAML: promtool parses each expression as a recording rule.
    writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboards', rules }] }));
    execFileSync('promtool', ['check', 'rules', file], { stdio: 'pipe' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
