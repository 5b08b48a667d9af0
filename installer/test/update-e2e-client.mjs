// The host side of installer/test/update-e2e.sh: the test system has no Node, so HTTP calls to the
// runtime, the fake Ollama it talks to, and the data checksums run here, inside the same network
// namespace, reading the test system's files from outside its chroot.
//   node update-e2e-client.mjs fake-ollama PORT
//   node update-e2e-client.mjs populate BASE_URL OPERATOR_KEY_FILE KEYS_JSON
//   node update-e2e-client.mjs summary BASE_URL KEYS_JSON          what every tenant key can read
//   node update-e2e-client.mjs fingerprint DATA_DIR                rows and checksum of every table
//   node update-e2e-client.mjs wait-ready BASE_URL SECONDS
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const [command, ...args] = process.argv.slice(2);
const fetch = globalThis.fetch;

async function call(base, method, url, key, body, tenant) {
  const response = await fetch(`${base}${url}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...(tenant ? { 'x-tenant-id': tenant } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${url}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** Ollama's native chat API (NDJSON stream, or one JSON object with "stream": false). */
function fakeOllama(port) {
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      if (req.url === '/api/tags') return res.end(JSON.stringify({ models: [{ name: 'llama3.2:latest' }] }));
      if (req.url !== '/api/chat') return res.writeHead(404).end('{"error":"not found"}');
      const body = JSON.parse(raw || '{}');
      const at = new Date().toISOString();
      const done = { model: body.model, created_at: at, message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', prompt_eval_count: 12, eval_count: 3 };
      if (body.stream === false) return res.end(JSON.stringify({ ...done, message: { role: 'assistant', content: 'Noted, thank you.' } }));
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      for (const word of ['Noted, ', 'thank ', 'you.']) res.write(`${JSON.stringify({ model: body.model, created_at: at, message: { role: 'assistant', content: word }, done: false })}\n`);
      res.end(`${JSON.stringify(done)}\n`);
    });
  });
  server.listen(Number(port), '127.0.0.1');
}

async function populate(base, operatorKeyFile, keysFile) {
  const operator = readFileSync(operatorKeyFile, 'utf8').trim();
  const keys = {};
  for (const slug of ['acme', 'globex', 'initech']) {
    await call(base, 'POST', '/api/tenants', operator, { name: slug, slug, owner: `ops@${slug}.example` });
    const owner = await call(base, 'POST', `/api/tenants/${slug}/keys`, operator, { role: 'owner' });
    keys[slug] = owner.key;
    for (const name of ['support', 'sales']) {
      const agent = await call(base, 'POST', '/api/agents', owner.key, { name, systemPrompt: 'You help.', provider: 'ollama', model: 'llama3.2' });
      const first = await call(base, 'POST', `/api/agents/${agent.id}/messages`, owner.key, { content: `hello ${name} of ${slug}` });
      await call(base, 'POST', `/api/agents/${agent.id}/messages`, owner.key, { content: 'and again', conversationId: first.conversationId });
    }
    // A second key per tenant, and one revoked: keys must keep working (or not) across updates.
    const member = await call(base, 'POST', '/api/keys', owner.key, { role: 'member', name: 'member' });
    keys[`${slug}-member`] = member.key;
    const revoked = await call(base, 'POST', '/api/keys', owner.key, { role: 'viewer', name: 'gone' });
    await call(base, 'DELETE', `/api/keys/${revoked.id}`, owner.key);
  }
  writeFileSync(keysFile, JSON.stringify(keys));
}

async function summary(base, keysFile) {
  const keys = JSON.parse(readFileSync(keysFile, 'utf8'));
  const out = {};
  for (const [name, key] of Object.entries(keys)) {
    const agents = (await call(base, 'GET', '/api/agents', key)).data.map((a) => a.name).sort();
    const conversations = (await call(base, 'GET', '/api/conversations', key)).data;
    const messages = [];
    for (const c of conversations) {
      const full = await call(base, 'GET', `/api/conversations/${c.id}`, key);
      messages.push(...(full.messages ?? []).map((m) => `${m.role}:${m.content}`));
    }
    out[name] = { agents, conversations: conversations.length, messages: messages.sort() };
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function fingerprint(dataDir) {
  const runtime = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages', 'runtime', 'package.json');
  const Database = createRequire(runtime)('better-sqlite3');
  const tenants = path.join(dataDir, 'tenants');
  const files = ['master.db', ...(existsSync(tenants) ? readdirSync(tenants).filter((f) => f.endsWith('.db')).sort().map((f) => `tenants/${f}`) : [])];
  const out = {};
  for (const rel of files) {
    const db = new Database(path.join(dataDir, rel), { readonly: true, fileMustExist: true });
    // Not compared: the full-text index (messages_fts*), which the server fills in the background
    // from `messages`, and when each key was last used, which every API call moves.
    const tables = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'messages_fts%' ORDER BY name").all();
    for (const { name, sql } of tables) {
      const columns = db.prepare(`SELECT * FROM "${name}" LIMIT 0`).columns().map((col) => col.name).filter((col) => col !== 'last_used_at');
      const rows = db.prepare(`SELECT ${columns.map((col) => `"${col}"`).join(', ')} FROM "${name}" ORDER BY 1`).raw().all();
      const sum = createHash('sha256').update(sql).update(JSON.stringify(rows, (_k, v) => (v && v.type === 'Buffer' ? Buffer.from(v.data).toString('hex') : v)));
      out[`${rel}:${name}`] = `${rows.length}:${sum.digest('hex').slice(0, 16)}`;
    }
    db.close();
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

async function waitReady(base, seconds) {
  const until = Date.now() + Number(seconds) * 1000;
  while (Date.now() < until) {
    try {
      if ((await fetch(`${base}/ready`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`${base}/ready did not answer 200 within ${seconds} s`);
}

const commands = {
  'fake-ollama': () => fakeOllama(args[0]),
  populate: () => populate(args[0], args[1], args[2]),
  summary: () => summary(args[0], args[1]),
  fingerprint: () => fingerprint(args[0]),
  'wait-ready': () => waitReady(args[0], args[1]),
};
if (!commands[command]) {
  process.stderr.write(`unknown command ${command}\n`);
  process.exit(2);
}
Promise.resolve(commands[command]()).catch((error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
});
