#!/usr/bin/env node
import { runCli } from './commands.js';

// A promise chain rather than a top-level await: the offline bundle's standalone executable runs
// this file as CommonJS, which has no top-level await.
void runCli(process.argv.slice(2), {
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
}).then((code) => {
  process.exitCode = code;
});
