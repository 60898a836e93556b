// Every unit berth renders for the shipped recipes (and the golden fixtures) must pass
// the real `systemd-analyze verify`.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRecipes } from '../../src/recipe/load.js';
import { type RenderedUnit, renderUnit } from '../../src/render/unit.js';
import { CHECK_CTX, RENDER_CTX, validApp, verifyUnits } from '../helpers.js';

const root = join(import.meta.dirname, '..', '..');
const podman = execFileSync('sh', ['-c', 'command -v podman || true']).toString().trim();
const ctx = { ...RENDER_CTX, podman: podman || '/usr/bin/podman' };

const withCompanions = (u: RenderedUnit) => [u, ...u.companions];

describe('systemd-analyze verify', () => {
  it('accepts the unit of every shipped recipe', async () => {
    const set = await loadRecipes([join(root, 'recipes')], CHECK_CTX);
    expect(set.diagnostics).toEqual([]);
    expect(set.apps.length).toBeGreaterThanOrEqual(2);
    expect(verifyUnits(set.apps.flatMap((a) => withCompanions(renderUnit(a, ctx))))).toBe('');
  });

  it('accepts the unit of every catalog recipe, enabled', async () => {
    const set = await loadRecipes([join(root, 'recipes', 'catalog', 'apps')], CHECK_CTX);
    expect(set.diagnostics).toEqual([]);
    expect(set.apps.length).toBeGreaterThanOrEqual(15);
    const units = set.apps.flatMap((a) => withCompanions(renderUnit({ ...a, enabled: true }, ctx)));
    expect(verifyUnits(units)).toBe('');
  });

  it('accepts the unit of every golden fixture', () => {
    const dir = join(root, 'test', 'fixtures', 'render');
    const units = readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .flatMap((f) => withCompanions(renderUnit(validApp(readFileSync(join(dir, f), 'utf8'), f), ctx)));
    expect(verifyUnits(units)).toBe('');
  });
});
