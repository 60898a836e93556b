// What a pass tells, as a table: recipes that stop and start validating, updates applied or
// rolled back, and the data disk crossing its low-space line (each once, not every pass).
import { describe, expect, it } from 'vitest';
import type { Step } from '../../src/plan/steps.js';
import type { ParsedRecipe } from '../../src/recipe/parse.js';
import { FIRST_PASS, type PassFacts, type PassMemory, passEvents } from '../../src/supervisor/tell.js';

const GiB = 1024 ** 3;
const ok = (file: string) => ({ file, app: {}, diagnostics: [] }) as unknown as ParsedRecipe;
const bad = (file: string) =>
  ({
    file,
    diagnostics: [{ file, line: 3, col: 1, length: 6, message: "unknown key 'volume'" }],
  }) as unknown as ParsedRecipe;
const endUpdate = (app: string, result: string, reason?: string) =>
  ({
    kind: 'end-update',
    app,
    entry: { result, to: { ref: 'x', id: 'y' }, ...(reason ? { reason } : {}) },
  }) as Step;
const disk = (freeGiB: number, totalGiB = 100) => ({
  path: '/var/lib/berth',
  freeBytes: freeGiB * GiB,
  totalBytes: totalGiB * GiB,
});
const facts = (f: Partial<PassFacts>): PassFacts => ({ recipes: [], done: [], ...f });

describe('passEvents', () => {
  const cases: [string, PassMemory, PassFacts, unknown[]][] = [
    ['nothing to tell', FIRST_PASS, facts({ recipes: [ok('a.yaml')], disk: disk(50) }), []],
    [
      'a recipe stops validating',
      FIRST_PASS,
      facts({ recipes: [ok('a.yaml'), bad('b.yaml')] }),
      [{ kind: 'recipe-invalid', subject: 'b.yaml', detail: "3:1: unknown key 'volume'" }],
    ],
    [
      'still broken: not told again',
      { invalid: new Set(['b.yaml']), lowSpace: false },
      facts({ recipes: [bad('b.yaml')] }),
      [],
    ],
    [
      'fixed',
      { invalid: new Set(['b.yaml']), lowSpace: false },
      facts({ recipes: [ok('b.yaml')] }),
      [{ kind: 'recipe-valid', subject: 'b.yaml' }],
    ],
    [
      'removed',
      { invalid: new Set(['b.yaml']), lowSpace: false },
      facts({ recipes: [] }),
      [{ kind: 'recipe-valid', subject: 'b.yaml', detail: 'removed' }],
    ],
    [
      'updates',
      FIRST_PASS,
      facts({
        done: [
          endUpdate('web', 'updated'),
          endUpdate('db', 'rolled-back', 'health check failed'),
          endUpdate('x', 'pinned'),
        ],
      }),
      [
        { kind: 'update-applied', subject: 'web' },
        { kind: 'update-rolled-back', subject: 'db', detail: 'health check failed' },
      ],
    ],
    [
      'under 10 % free',
      FIRST_PASS,
      facts({ disk: disk(9) }),
      [{ kind: 'disk-nearly-full', subject: '/var/lib/berth', detail: '9.0 GiB free of 100.0 GiB' }],
    ],
    [
      'under 2 GiB free on a small disk',
      FIRST_PASS,
      facts({ disk: disk(1.5, 10) }),
      [{ kind: 'disk-nearly-full', subject: '/var/lib/berth', detail: '1.5 GiB free of 10.0 GiB' }],
    ],
    ['still low: not told again', { invalid: new Set(), lowSpace: true }, facts({ disk: disk(5) }), []],
    [
      'room again',
      { invalid: new Set(), lowSpace: true },
      facts({ disk: disk(40) }),
      [{ kind: 'disk-space-ok', subject: '/var/lib/berth', detail: '40.0 GiB free of 100.0 GiB' }],
    ],
    ['disk unreadable: nothing changes', { invalid: new Set(), lowSpace: true }, facts({}), []],
  ];
  it.each(cases)('%s', (_, prev, f, told) => {
    expect(passEvents(prev, f).told).toEqual(told);
  });

  it('remembers what it told', () => {
    const first = passEvents(FIRST_PASS, facts({ recipes: [bad('b.yaml')], disk: disk(1) }));
    expect(first.memory).toEqual({ invalid: new Set(['b.yaml']), lowSpace: true });
    expect(passEvents(first.memory, facts({ recipes: [bad('b.yaml')], disk: disk(1) })).told).toEqual([]);
  });
});
