// The corpus of malformed and hostile recipes: each case (a file, or a directory for
// cross-file rules) has a .expected file with the exact diagnostics it must produce.
// UPDATE_GOLDEN=1 rewrites them; review the diff before committing.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { runCli } from '../../src/cli/run.js';
import { loadRecipes } from '../../src/recipe/load.js';
import { CHECK_CTX, updateGolden } from '../helpers.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'bad');
const cases = readdirSync(dir)
  .filter((f) => !f.endsWith('.expected'))
  .sort();

async function diagnosticsOf(path: string, base = dir): Promise<string[]> {
  const set = await loadRecipes([path], CHECK_CTX);
  // Messages that name another file name it relative to the corpus, so expectations hold in any checkout.
  return set.diagnostics.map(
    (d) =>
      `${relative(base, d.file)}:${d.line}:${d.col}: error: ${d.message.replaceAll(`${base}/`, '')}${d.field ? ` (${d.field})` : ''}`,
  );
}

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(
    args,
    COMMANDS,
    { out: (t) => out.push(t), err: (t) => err.push(t), isTty: false },
    {},
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('bad recipe corpus', () => {
  it('has at least 60 cases', () => expect(cases.length).toBeGreaterThanOrEqual(60));

  for (const name of cases) {
    it(name, async () => {
      const path = join(dir, name);
      const got = await diagnosticsOf(path);
      const expectedFile = join(dir, `${name.replace(/\.yaml$/, '')}.expected`);
      const missing = !existsSync(expectedFile);
      if (updateGolden || missing) writeFileSync(expectedFile, `${got.join('\n')}\n`);
      // A case without its expected diagnostics is a failure: review the file written, then commit it.
      expect(missing && !updateGolden ? `${expectedFile} was missing` : '').toBe('');
      expect(got.length).toBeGreaterThan(0);
      expect(got).toEqual(readFileSync(expectedFile, 'utf8').trimEnd().split('\n'));

      // Through the CLI: exit 1, the same positions, a caret, never a stack trace.
      const r = await cli(['validate', path]);
      expect(r.code).toBe(1);
      expect(r.out).toContain('^');
      expect(`${r.out}\n${r.err}`).not.toMatch(/\n\s+at .*\.(js|ts):\d+/);
    });
  }

  it('refuses a recipe over the size limit without reading it whole', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'berth-big-'));
    writeFileSync(
      join(tmp, 'big.yaml'),
      `name: big\nimage: docker.io/library/nginx:1.27\n# ${'x'.repeat(300 * 1024)}\n`,
    );
    expect(await diagnosticsOf(tmp, tmp)).toEqual([
      'big.yaml:1:1: error: the file is 307249 bytes; recipes are limited to 262144 bytes',
    ]);
  });

  it('refuses a file that is not UTF-8', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'berth-bin-'));
    writeFileSync(join(tmp, 'bin.yaml'), Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xff, 0xfe, 0x0a]));
    expect(await diagnosticsOf(tmp, tmp)).toEqual(['bin.yaml:1:1: error: the file is not valid UTF-8 text']);
  });

  it('a bad recipe does not make its neighbours invalid', async () => {
    const set = await loadRecipes([join(dir, 'cross-port-conflict')], CHECK_CTX);
    expect(set.apps.map((a) => a.name)).toEqual(['one']);
  });
});
