import { runCommand } from './service-env.js';
import { UpdateError } from './update-error.js';

/** Stops and starts the runtime's service: systemd by default, or an operator's command. */
export interface ServiceControl {
  stop(): Promise<void>;
  start(): Promise<void>;
  /** How it is done, for messages. */
  describe: string;
}

/**
 * `--service-command CMD` runs `CMD stop` / `CMD start` through /bin/sh (for systems without
 * systemd, and tests); without it, `systemctl stop|start agentik-os`.
 */
export function serviceControl(command: string | undefined, env?: NodeJS.ProcessEnv): ServiceControl {
  const run = async (action: 'stop' | 'start') => {
    const result = command
      ? await runCommand('/bin/sh', ['-c', `${command} ${action}`], { env, timeoutMs: 180_000 })
      : await runCommand('systemctl', [action, 'agentik-os'], { env, timeoutMs: 180_000 });
    if (result.code !== 0) {
      throw new UpdateError('UPDATE_SERVICE_FAILED', `${action} of the service failed (exit ${result.code})${result.output ? `: ${result.output}` : ''}`);
    }
  };
  return {
    stop: () => run('stop'),
    start: () => run('start'),
    describe: command ? `${command} stop|start` : 'systemctl stop|start agentik-os',
  };
}
