// Shared test helpers.
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
