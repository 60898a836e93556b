// Real compose files of popular self-hosted apps (test/fixtures/compose/real, sources in
// SOURCES.md), each imported as `berth import compose` would: converted ones are validated,
// rendered and passed through systemd-analyze verify; rejected ones are rejected with the
// messages expected.json names — and with no other error.
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatComposeMessage, importCompose } from '../../src/compose/import.js';
import { loadRecipes } from '../../src/recipe/load.js';
import { renderUnit } from '../../src/render/unit.js';
import { CHECK_CTX, RENDER_CTX, verifyUnits } from '../helpers.js';

const ROOT = join(import.meta.dirname, '../fixtures/compose/real');
interface Expected {
  /** converted: written; rejected: nothing written, and each error matches one of errors. */
  result: 'converted' | 'rejected';
  errors?: string[];
  warnings?: number;
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

describe('real compose files', () => {
  it('has at least 20 files, every one with an expected outcome', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
    expect(Object.keys(expected).sort()).toEqual(files);
  });

  it.each(files)('%s', async (f) => {
    const out = mkdtempSync(join(work, 'out-'));
    const r = await importCompose(join(ROOT, f), { outDir: out, profiles: [], ctx: CHECK_CTX, env: {} });
    const errors = r.messages.filter((m) => m.level === 'error').map(formatComposeMessage);
    const want = expected[f]!;
    if (want.result === 'converted') {
      expect(errors).toEqual([]);
      expect(r.written.length).toBeGreaterThan(0);
      const set = await loadRecipes([out], CHECK_CTX);
      expect(set.diagnostics).toEqual([]);
      const units = set.apps.flatMap((a) => {
        const u = renderUnit(a, RENDER_CTX);
        return [u, ...u.companions];
      });
      expect(verifyUnits(units)).toBe('');
    } else {
      expect(r.written).toEqual([]);
      expect(readdirSync(out)).toEqual([]);
      for (const e of errors)
        expect(
          want.errors!.some((p) => new RegExp(p).test(e)),
          e,
        ).toBe(true);
      for (const p of want.errors!)
        expect(
          errors.some((e) => new RegExp(p).test(e)),
          p,
        ).toBe(true);
    }
  });

  // Doing what the messages say converts a file: every rejected file whose only errors are
  // bind mounts outside the allowed roots, with those moved where the messages suggest.
  const movable = files.filter(
    (f) =>
      expected[f]!.result === 'rejected' &&
      expected[f]!.errors!.every((e) => e.includes('is outside the allowed roots')),
  );
  it.each(movable)('%s, with its data moved where the messages say, converts', async (f) => {
    const first = await importCompose(join(ROOT, f), {
      outDir: mkdtempSync(join(work, 'o-')),
      profiles: [],
      ctx: CHECK_CTX,
      env: {},
    });
    const dir = mkdtempSync(join(work, 'moved-'));
    // Beside it, what the app's folder holds (its .env, where a path may come from).
    cpSync(join(ROOT, f.split('/')[0]!), dir, { recursive: true });
    const file = join(dir, f.split('/').pop()!);
    let text = readFileSync(file, 'utf8');
    const envFile = join(dir, '.env');
    let env = existsSync(envFile) ? readFileSync(envFile, 'utf8') : '';
    for (const m of first.messages.map(formatComposeMessage)) {
      const mv = /bind mount (\S+) is outside .* move the data to e\.g\. (\S+) and write that path/.exec(m);
      if (!mv) continue;
      if (text.includes(`${mv[1]}:`)) text = text.replace(`${mv[1]}:`, `${mv[2]}:`);
      else env = env.replace(`=${mv[1]}\n`, `=${mv[2]}\n`);
    }
    writeFileSync(file, text);
    if (env) writeFileSync(envFile, env);
    const out = mkdtempSync(join(work, 'out-'));
    const r = await importCompose(file, { outDir: out, profiles: [], ctx: CHECK_CTX, env: {} });
    expect(r.messages.filter((m) => m.level === 'error').map(formatComposeMessage)).toEqual([]);
    const set = await loadRecipes([out], CHECK_CTX);
    expect(set.diagnostics).toEqual([]);
    expect(
      verifyUnits(
        set.apps.flatMap((a) => [renderUnit(a, RENDER_CTX), ...renderUnit(a, RENDER_CTX).companions]),
      ),
    ).toBe('');
  });
});
