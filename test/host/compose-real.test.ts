// Real compose files of self-hosted apps (test/fixtures/compose/real, sources and licences in
// SOURCES.md), each imported as `berth import compose` would, from a folder under an allowed
// root, as on the box (--dry-run: nothing is written, moved or made). Converted ones are
// validated, rendered and passed through systemd-analyze verify; refused ones are refused with
// the messages expected.json names (and no other error), each at FILE:LINE:COL. The goal of
// issue 19: at least 85 % convert as they are.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatComposeMessage, importCompose } from '../../src/compose/import.js';
import type { CheckContext } from '../../src/recipe/check.js';
import { loadRecipes } from '../../src/recipe/load.js';
import { renderUnit } from '../../src/render/unit.js';
import { RENDER_CTX, verifyUnits } from '../helpers.js';

const ROOT = join(import.meta.dirname, '../fixtures/compose/real');
interface Expected {
  /** converted: every service converts; refused: nothing, with each error matching one of errors. */
  result: 'converted' | 'refused';
  /** Why, in a few words (the report's reason class). */
  reason?: string;
  errors?: string[];
}
const expected = JSON.parse(readFileSync(join(ROOT, 'expected.json'), 'utf8')) as Record<string, Expected>;
const files = readdirSync(ROOT)
  .filter((d) => statSync(join(ROOT, d)).isDirectory())
  .flatMap((d) =>
    readdirSync(join(ROOT, d))
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => `${d}/${f}`),
  )
  .sort();
const work = mkdtempSync(join(tmpdir(), 'berth-compose-real-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const ctx: CheckContext = { allowedRoots: [join(work, 'srv')], dataDir: join(work, 'data') };
const outcome = new Map<string, 'converted' | 'refused'>();

describe('real compose files', () => {
  it('has at least 40 files, every one with an expected outcome', () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
    expect(Object.keys(expected).sort()).toEqual(files);
  });

  it.each(files)('%s', async (f) => {
    const [app, name] = f.split('/') as [string, string];
    const dir = join(ctx.allowedRoots[0]!, app);
    cpSync(join(ROOT, app), dir, { recursive: true });
    const r = await importCompose(join(dir, name), {
      outDir: join(work, `recipes-${app}`),
      profiles: [],
      ctx,
      env: {},
      dryRun: true,
    });
    const errors = r.messages.filter((m) => m.level === 'error').map(formatComposeMessage);
    const want = expected[f]!;
    outcome.set(f, errors.length ? 'refused' : 'converted');
    if (want.result === 'converted') {
      expect(errors).toEqual([]);
      expect(r.recipes.length).toBeGreaterThan(0);
      const out = mkdtempSync(join(work, 'out-'));
      for (const rec of r.recipes) writeFileSync(join(out, rec.file.split('/').pop()!), rec.text);
      const set = await loadRecipes([out], ctx);
      expect(set.diagnostics).toEqual([]);
      const units = set.apps.flatMap((a) => {
        const u = renderUnit(a, RENDER_CTX);
        return [u, ...u.companions];
      });
      expect(verifyUnits(units)).toBe('');
      return;
    }
    expect(r.written).toEqual([]);
    for (const e of errors) {
      // Every refusal names the file, line and column.
      expect(e).toMatch(/^\/[^:]+:\d+:\d+: error: /);
      expect(
        want.errors!.some((p) => new RegExp(p).test(e)),
        e,
      ).toBe(true);
    }
    for (const p of want.errors!)
      expect(
        errors.some((e) => new RegExp(p).test(e)),
        p,
      ).toBe(true);
  });

  it('converts at least 85 % of them as they are (the report: converted, refused and why)', () => {
    expect(outcome.size).toBe(files.length);
    const converted = [...outcome.values()].filter((o) => o === 'converted').length;
    const reasons = files
      .filter((f) => outcome.get(f) === 'refused')
      .map((f) => `  ${f}: ${expected[f]!.reason}`);
    console.log(
      `compose import: ${converted} of ${files.length} converted as they are (${Math.round((100 * converted) / files.length)} %); refused:\n${reasons.join('\n')}`,
    );
    expect(converted / files.length).toBeGreaterThanOrEqual(0.85);
  });
});
