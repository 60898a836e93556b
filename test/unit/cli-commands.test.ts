// The command index names each command without loading it (so `berth --help` loads none):
// its names and summaries must be those of the commands it loads.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { runCli } from '../../src/cli/run.js';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function cli(argv: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const code = await runCli(argv, COMMANDS, {
    out: (t) => out.push(t),
    err: (t) => out.push(t),
    isTty: false,
  });
  return { code, out: out.join('\n') };
}

describe('the command index', () => {
  it.each(COMMANDS.map((e) => [e.name, e] as const))('%s loads the command it names', async (_, e) => {
    const c = await e.load();
    expect(c.name).toBe(e.name);
    expect(c.summary).toBe(e.summary);
  });

  it('berth --help lists every command with its summary', async () => {
    const { code, out } = await cli(['--help']);
    expect(code).toBe(0);
    for (const e of COMMANDS) expect(out).toMatch(new RegExp(`^  ${e.name} +${escape(e.summary)}$`, 'm'));
  });

  it.each(COMMANDS.map((e) => [e.name] as const))('berth %s --help shows its usage', async (name) => {
    const { code, out } = await cli([name, '--help']);
    expect(code).toBe(0);
    expect(out).toMatch(new RegExp(`^Usage: berth ${name}\\b`));
  });

  it("berth --version prints package.json's version", async () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as {
      version: string;
    };
    expect((await cli(['--version'])).out).toBe(`berth ${pkg.version}`);
  });
});
