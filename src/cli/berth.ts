// The berth command itself: what the executable (main.ts) loads, bundled with every module
// and package it uses into dist/cli/berth.cjs by scripts/build.js.
import { COMMANDS } from './commands/index.js';
import { runCli } from './run.js';

/** Every command name; main.ts keeps one code cache per command and names it with these. */
export const commandNames: readonly string[] = COMMANDS.map((c) => c.name);

export function main(argv: readonly string[]): Promise<number> {
  return runCli(argv, COMMANDS, {
    out: (t: string) => process.stdout.write(`${t}\n`),
    err: (t: string) => process.stderr.write(`${t}\n`),
    isTty: Boolean(process.stdout.isTTY),
  });
}
