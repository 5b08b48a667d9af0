#!/usr/bin/env node
import { runCli } from './commands.js';

// A reader that stops early (`agentik update status | grep -q 1.1.0`) closes the pipe: that is
// not a failure of the command, so the rest of the output is dropped instead of crashing on EPIPE.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

// A promise chain rather than a top-level await: the offline bundle's standalone executable runs
// this file as CommonJS, which has no top-level await.
void runCli(process.argv.slice(2), {
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
}).then((code) => {
  process.exitCode = code;
});
