// Every unit berth renders for the shipped recipes (and the golden fixtures) must pass
// the real `systemd-analyze verify`.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRecipes } from '../../src/recipe/load.js';
import { type RenderedUnit, renderUnit } from '../../src/render/unit.js';
import { CHECK_CTX, RENDER_CTX, validApp } from '../helpers.js';

const root = join(import.meta.dirname, '..', '..');
const podman = execFileSync('sh', ['-c', 'command -v podman || true']).toString().trim();
const ctx = { ...RENDER_CTX, podman: podman || '/usr/bin/podman' };

const withCompanions = (u: RenderedUnit) => [u, ...u.companions];

function verify(units: { name: string; text: string }[]): string {
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

describe('systemd-analyze verify', () => {
  it('accepts the unit of every shipped recipe', async () => {
    const set = await loadRecipes([join(root, 'recipes')], CHECK_CTX);
    expect(set.diagnostics).toEqual([]);
    expect(set.apps.length).toBeGreaterThanOrEqual(2);
    expect(verify(set.apps.flatMap((a) => withCompanions(renderUnit(a, ctx))))).toBe('');
  });

  it('accepts the unit of every catalog recipe, enabled', async () => {
    const set = await loadRecipes([join(root, 'recipes', 'catalog', 'apps')], CHECK_CTX);
    expect(set.diagnostics).toEqual([]);
    expect(set.apps.length).toBeGreaterThanOrEqual(15);
    const units = set.apps.flatMap((a) => withCompanions(renderUnit({ ...a, enabled: true }, ctx)));
    expect(verify(units)).toBe('');
  });

  it('accepts the unit of every golden fixture', () => {
    const dir = join(root, 'test', 'fixtures', 'render');
    const units = readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .flatMap((f) => withCompanions(renderUnit(validApp(readFileSync(join(dir, f), 'utf8'), f), ctx)));
    expect(verify(units)).toBe('');
  });
});
