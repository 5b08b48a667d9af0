/**
 * The floor for the streaming benchmark: a bare pass-through proxy (node:http + fetch) that
 * forwards every POST to `BENCH_PROXY_UPSTREAM` + its path and pipes the answer back chunk by
 * chunk, persisting nothing. It runs in its own process and sends `{url}` over IPC once it
 * listens; it stops on SIGTERM or when the parent goes away.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const upstream = process.env.BENCH_PROXY_UPSTREAM ?? '';

const server = http.createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (c: Buffer) => parts.push(c));
  req.on('end', () => {
    void (async () => {
      const up = await fetch(upstream + (req.url ?? '/'), {
        method: req.method,
        headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
        body: Buffer.concat(parts),
      });
      res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/octet-stream' });
      if (up.body) for await (const chunk of up.body) res.write(chunk);
      res.end();
    })().catch(() => res.destroy());
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => process.send?.({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));

const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('disconnect', stop);
