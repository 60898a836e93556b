// Quadlet's way: one recipe per fixture, with the exact unit it must render to.
// Set UPDATE_GOLDEN=1 to rewrite the expected units after an intended change (then review the diff).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderUnit } from '../../src/render/unit.js';
import { RENDER_CTX, updateGolden, validApp } from '../helpers.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'render');
const cases = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

describe('recipe → unit golden files', () => {
  it('has fixtures', () => expect(cases.length).toBeGreaterThanOrEqual(10));
  for (const file of cases) {
    it(file, () => {
      const text = readFileSync(join(dir, file), 'utf8');
      const ctxLine = /^# ctx: (.*)$/m.exec(text)?.[1];
      const ctx = { ...RENDER_CTX, ...(ctxLine ? JSON.parse(ctxLine) : {}) };
      const unit = renderUnit(validApp(text, `/etc/berth/recipes/${file}`), ctx);
      // The app's unit as <fixture>.service; companions (health check units) as e.g. <fixture>.health.timer.
      const files = [
        { suffix: '.service', text: unit.text },
        ...unit.companions.map((c) => ({ suffix: c.name.slice(c.name.indexOf('.')), text: c.text })),
      ];
      for (const f of files) {
        const expectedFile = join(dir, file.replace(/\.yaml$/, f.suffix));
        const missing = !existsSync(expectedFile);
        if (updateGolden || missing) writeFileSync(expectedFile, f.text);
        // A fixture without its expected unit is a failure: review the file written, then commit it.
        expect(missing && !updateGolden ? `${expectedFile} was missing` : '').toBe('');
        expect(f.text).toBe(readFileSync(expectedFile, 'utf8'));
      }
    });
  }
});
