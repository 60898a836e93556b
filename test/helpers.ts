// Shared test helpers.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CheckContext } from '../src/recipe/check.js';
import { parseRecipeText } from '../src/recipe/parse.js';
import type { RenderContext } from '../src/render/unit.js';

export const CHECK_CTX: CheckContext = {
  allowedRoots: ['/srv', '/mnt', '/media'],
  dataDir: '/var/lib/berth',
};

export const RENDER_CTX: RenderContext = {
  podman: '/usr/bin/podman',
  dataDir: '/var/lib/berth',
  hostname: 'testhost',
  mode: 'system',
  presentDevices: new Set(['/dev/dri']),
};

/** Parses recipe text that the test expects to be valid; fails loudly otherwise. */
export function validApp(text: string, file = 'test.yaml') {
  const r = parseRecipeText(file, text, CHECK_CTX);
  if (!r.app)
    throw new Error(
      `expected a valid recipe, got:\n${r.diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`).join('\n')}`,
    );
  return r.app;
}

export const updateGolden = process.env.UPDATE_GOLDEN === '1';

/** Runs the berth CLI in this process, its output and errors in one string. */
export async function runBerth(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; out: string }> {
  const { COMMANDS } = await import('../src/cli/commands/index.js');
  const { runCli } = await import('../src/cli/run.js');
  const out: string[] = [];
  const code = await runCli(
    argv,
    COMMANDS,
    { out: (t) => out.push(t), err: (t) => out.push(t), isTty: false },
    env,
  );
  return { code, out: out.join('\n') };
}

/** The real `systemd-analyze verify` on units; '' when it accepts them all, else what it said. */
export function verifyUnits(units: { name: string; text: string }[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-verify-'));
  const names = new Set(units.map((u) => u.name));
  for (const u of units) writeFileSync(join(dir, u.name), u.text);
  // Dependencies outside the set get stand-in units, as apply would have them.
  for (const u of units)
    for (const m of u.text.matchAll(/^Requires=(berth-[a-z0-9-]+\.service)$/gm))
      if (!names.has(m[1]!)) writeFileSync(join(dir, m[1]!), '[Service]\nExecStart=/bin/true\n');
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', ...units.map((u) => join(dir, u.name))], {
    encoding: 'utf8',
  });
  return r.status === 0 ? '' : `${r.stdout}${r.stderr}`;
}
