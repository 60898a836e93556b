#!/usr/bin/env node
import { COMMANDS } from './commands/index.js';
// The `berth` executable.
import { runCli } from './run.js';

const io = {
  out: (t: string) => process.stdout.write(`${t}\n`),
  err: (t: string) => process.stderr.write(`${t}\n`),
  isTty: Boolean(process.stdout.isTTY),
};

process.exitCode = await runCli(process.argv.slice(2), COMMANDS, io);
