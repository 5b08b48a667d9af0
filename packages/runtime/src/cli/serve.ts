import type { Config } from '../config/schema.js';
import { buildApp, type Runtime } from '../http/app.js';
import { locateDashboard } from '../http/routes/dashboard.js';
import type { CliIo } from './io.js';

export interface Server {
  runtime: Runtime;
  url: string;
  /** Drains in-flight requests, then closes every store. */
  stop(): Promise<void>;
}

/**
 * Starts the runtime: opens the stores, makes sure an operator key exists (printing a generated
 * one once, never to the log), and listens where the config says.
 */
export async function startServer(config: Config, io: CliIo): Promise<Server> {
  const runtime = await buildApp({ config });
  const operator = await runtime.manager.ensureOperatorKey(config.operatorKey);
  await runtime.app.listen({ host: config.host, port: config.port });
  const address = runtime.app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  io.out(`Agentik OS listening on ${url}`);
  const dashboard = locateDashboard(config.dashboardDir).built ? '' : '  (not built: pnpm --filter @agentik/dashboard build)';
  io.out(`  Dashboard: ${url}/${dashboard}`);
  io.out(`  API:       ${url}/api  (OpenAPI: ${url}/api/openapi.json)`);
  io.out(`  Health:    ${url}/health, ${url}/ready, ${url}/metrics`);
  if (operator.secret) {
    io.out('');
    io.out('  Operator key (shown once; store it now):');
    io.out(`    ${operator.secret}`);
    io.out('');
  }
  let stopping: Promise<void> | undefined;
  return {
    runtime,
    url,
    stop: () => (stopping ??= runtime.app.close()),
  };
}

/** `agentik serve`: runs until SIGTERM or SIGINT, then shuts down cleanly. */
export async function serve(config: Config, io: CliIo): Promise<number> {
  const server = await startServer(config, io);
  return new Promise<number>((resolve) => {
    const shutdown = (signal: string) => {
      server.runtime.log.info({ signal }, 'shutting down');
      const timer = setTimeout(() => {
        server.runtime.log.error({}, 'shutdown timed out; exiting');
        resolve(1);
      }, config.shutdownTimeoutMs);
      timer.unref();
      server.stop().then(
        () => {
          clearTimeout(timer);
          resolve(0);
        },
        (error: unknown) => {
          server.runtime.log.error({ err: error }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
}
