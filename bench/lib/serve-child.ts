/**
 * The server side of `agents-rps.ts`: runs `agentik serve` (the real CLI path, with its SIGTERM
 * handling) in its own process so that the load generator does not share its event loop. The
 * parent passes the AGENTIK_* settings in the environment and reads the URL over IPC; log lines go
 * to this process's stdout, which the parent discards.
 */
import { loadRuntime } from './load-runtime.js';

const { loadConfig } = await loadRuntime();
const { serve } = await import('../../packages/runtime/src/cli/serve.js');

let announced = false;
const code = await serve(loadConfig(process.env), {
  env: process.env,
  out: (line) => {
    const url = /listening on (\S+)/.exec(line)?.[1];
    if (url && !announced) {
      announced = true;
      process.send?.({ url });
    }
  },
  err: (line) => process.stderr.write(`${line}\n`),
});
process.disconnect?.();
process.exitCode = code;
