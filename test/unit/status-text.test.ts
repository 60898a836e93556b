// What `berth status` and the status page print of text that comes from apps, podman and
// recipes: masked where it may hold a secret, unable to drive a terminal, in aligned columns,
// and a recipe error that says what became of its app.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { displayWidth, printDetail, printTable } from '../../src/cli/commands/status.js';
import type { Config } from '../../src/config.js';
import { parseTemplate, type TemplatePart } from '../../src/recipe/template.js';
import type { AppStatus } from '../../src/status.js';
import { appStatus } from './status-fixtures.js';
import { cleanText, terminalText } from '../../src/status/reason.js';
import { MASK, redact, redactorFor } from '../../src/status/redact.js';

const app = (over: Partial<AppStatus> = {}): AppStatus =>
  appStatus({ imageId: 'abc123', uptimeSec: 100, ...over });
const config = { recipesDir: '/etc/berth/recipes' } as Config;

function table(apps: AppStatus[]): string[] {
  const lines: string[] = [];
  printTable(apps, config, { out: (l) => lines.push(l), err: () => {}, isTty: false });
  return lines;
}

const bad = (over: Partial<AppStatus> = {}) =>
  app({
    app: 'bad',
    state: 'not-installed',
    subState: '',
    enabled: false,
    pending: true,
    ports: [],
    errors: [
      {
        file: '/etc/berth/recipes/bad.yaml',
        line: 3,
        col: 8,
        message: 'bad port',
        field: 'ports',
        length: 1,
      },
    ],
    ...over,
  });

describe('redaction', () => {
  it.each([
    [
      'env value',
      'connect to db failed: pw hunter2hunter2 rejected',
      `connect to db failed: pw ${MASK} rejected`,
    ],
    [
      'URL credentials',
      'GET https://bob:s3cr3t@example.com/x failed',
      `GET https://${MASK}@example.com/x failed`,
    ],
    ['password=', 'login failed password=abc123 user=x', `login failed password=${MASK} user=x`],
    ['token= in a query', 'GET /api?token=zzz&x=1 401', `GET /api?token=${MASK}&x=1 401`],
    ['DB_PASSWORD=', 'DB_PASSWORD="a b" missing', `DB_PASSWORD=${MASK} missing`],
    ['JSON', '{"api_key": "k-123", "n": 1}', `{"api_key": ${MASK}, "n": 1}`],
    ['bearer', 'Authorization: Bearer abcdefgh12345 refused', `Authorization: Bearer ${MASK} refused`],
    ['the longer value whole', 'x=secretvalue-long', `x=${MASK}`],
    ['an error that names a token is kept', 'token: expired', 'token: expired'],
  ])('%s', (_, text, want) => {
    expect(redact(text, ['hunter2hunter2', 'secretvalue', 'secretvalue-long', '1'])).toBe(want);
  });

  it("masks the app's secrets and its env values with them substituted", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'berth-redact-'));
    try {
      const dir = join(dataDir, 'apps', 'db', '.secrets');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'pw'), 'Zq8secretZq8\n');
      const env = [
        {
          name: 'URL',
          value: parseTemplate('postgres://app@db/${secret:pw}/x') as TemplatePart[],
          secret: true,
        },
        { name: 'MODE', value: parseTemplate('production-mode') as TemplatePart[], secret: false },
      ];
      const hide = await redactorFor({ name: 'db', env }, 'db', dataDir, 'nas');
      expect(hide('bad Zq8secretZq8 in production-mode')).toBe(`bad ${MASK} in ${MASK}`);
      expect(hide('cannot open postgres://app@db/Zq8secretZq8/x')).not.toContain('Zq8');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('terminal text', () => {
  it('strips 7- and 8-bit escape sequences and control characters', () => {
    const text = '\u001b[31mred\u001b[0m \u001b]0;title\u0007t\u009b2Jx\u009d8;;http://e\u009cy\u0085z\r!';
    expect(terminalText(text)).toBe('red txyz!');
    expect(cleanText(' \u001b[1m a \t b ')).toBe('a   b');
  });

  it("berth status prints no escape sequence from an app's, podman's or a recipe's text", () => {
    const esc = '\u001b[2J\u001b]52;c;AAAA\u0007\u009b1m';
    const out = [
      ...table([
        app({
          applyError: `pull failed ${esc}`,
          lastUpdate: { at: 'now', result: 'rolled-back', reason: esc },
        }),
        bad({ errors: [{ file: 'b.yaml', line: 1, col: 1, message: `bad ${esc}`, field: 'x', length: 1 }] }),
      ]),
    ];
    const lines: string[] = [];
    printDetail(app({ lastError: `x${esc}` }), [`line ${esc}`], {
      out: (l) => lines.push(l),
      err: () => {},
      isTty: false,
    });
    for (const l of [...out, ...lines]) expect(l).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });
});

describe('berth status table', () => {
  it('keeps its columns when a recipe with errors declares a name with a tab, wide characters or escapes', () => {
    const lines = table([app(), bad({ app: 'b\tad' }), bad({ app: '写真' }), bad({ app: 'e\u001b[1mx' })]);
    const rows = lines.slice(0, 5);
    // The STATE column starts at the same terminal column on every row.
    const stateAt = (l: string) => displayWidth(l.slice(0, l.search(/STATE|active|not-installed/)));
    expect(rows.map(stateAt)).toEqual(Array(5).fill(6));
  });

  it("says a new recipe with errors never ran, and an installed one's last good version still runs", () => {
    const lines = table([bad(), bad({ app: 'old', state: 'active', subState: 'running' })]);
    expect(lines).toContain(
      'bad: recipe error: /etc/berth/recipes/bad.yaml:3:8: bad port — not started: fix the recipe and save it',
    );
    expect(lines).toContain(
      'old: recipe error: /etc/berth/recipes/bad.yaml:3:8: bad port — still running its last good version',
    );
  });

  it('says why an app waits for its data disk, in the table and in the detail', () => {
    const waiting = app({
      app: 'photos',
      state: 'inactive',
      subState: 'dead',
      waiting: 'waiting for its data disk media (not connected)',
    });
    expect(table([waiting])).toContain('photos: waiting for its data disk media (not connected)');
    const lines: string[] = [];
    printDetail(waiting, [], { out: (l) => lines.push(l), err: () => {}, isTty: false });
    expect(lines.join('\n')).toMatch(/waiting: +waiting for its data disk media \(not connected\)/);
  });
});
