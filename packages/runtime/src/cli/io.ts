/** Where a CLI command writes; tests pass buffers, `main` passes the process streams. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  out(line: string): void;
  err(line: string): void;
}
