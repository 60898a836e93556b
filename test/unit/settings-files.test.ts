// notify.yaml and disks.yaml on the BERTH partition: checked like the machine's own, copied
// beside the recipes dir (only root reads notify.yaml: it may hold tokens), taken again only
// when changed there; one with a mistake is reported at its line and changes nothing.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { parseDisksSettings } from '../../src/disks/settings.js';
import { NotifySettingsSchema } from '../../src/notify/settings.js';
import type { SettingsSystem } from '../../src/settings/execute.js';
import { importSettings } from '../../src/settings/import.js';
import { parseSettingsYaml } from '../../src/yamlfile/parse.js';

let dir: string;
let part: string;
const system = (): SettingsSystem => ({
  root: join(dir, 'root'),
  live: false,
  randomPassword: () => 'one-time-pw',
  runner: async () => ({ code: 0, stdout: '', stderr: '' }),
});
const config = () =>
  resolveConfig({}, { BERTH_RECIPES_DIR: join(dir, 'etc/recipes'), BERTH_DATA_DIR: join(dir, 'data') });
const importNow = () =>
  importSettings({
    folderDir: part,
    config: config(),
    system: system(),
    now: new Date('2026-12-07T10:00:00Z'),
  });

/** The settings files' lines (a first import also makes a one-time password). */
const taken = (done: string[]) => done.filter((l) => l.includes(' taken as '));

const NOTIFY =
  'channels:\n  phone: {type: ntfy, url: "https://ntfy.example", topic: berth-x, token: tk_secret}\n';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-settings-files-'));
  part = join(dir, 'BERTH', 'berth');
  mkdirSync(part, { recursive: true });
  mkdirSync(join(dir, 'etc/recipes'), { recursive: true });
  mkdirSync(join(dir, 'root', 'etc'), { recursive: true });
  writeFileSync(join(dir, 'root/etc/shadow'), 'root:*:20000:0:99999:7:::\n');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('settings files from the BERTH partition', () => {
  it('copies a good notify.yaml and disks.yaml beside the recipes dir, notify.yaml for root only', async () => {
    writeFileSync(join(part, 'notify.yaml'), NOTIFY);
    writeFileSync(join(part, 'disks.yaml.txt'), 'disks:\n  sda: {spindown: 20m}\n');
    const out = await importNow();
    expect(out.problems).toEqual([]);
    expect(taken(out.done)).toEqual([
      `berth/notify.yaml: taken as ${join(dir, 'etc/notify.yaml')}`,
      `berth/disks.yaml.txt: taken as ${join(dir, 'etc/disks.yaml')}`,
    ]);
    expect(readFileSync(join(dir, 'etc/notify.yaml'), 'utf8')).toBe(NOTIFY);
    expect(statSync(join(dir, 'etc/notify.yaml')).mode & 0o777).toBe(0o600);
    // Unchanged on the partition: a change made on the machine since is not undone.
    writeFileSync(join(dir, 'etc/notify.yaml'), 'channels: {}\n');
    const again = await importNow();
    expect(taken(again.done)).toEqual([]);
    expect(again.unchanged).toContain('berth/notify.yaml');
    expect(readFileSync(join(dir, 'etc/notify.yaml'), 'utf8')).toBe('channels: {}\n');
  });

  it('reports a mistake at its line, and the machine keeps what it had', async () => {
    writeFileSync(join(dir, 'etc/notify.yaml'), 'channels: {}\n');
    writeFileSync(
      join(part, 'notify.yaml'),
      'channels:\n  phone:\n    type: ntfy\n    url: ftp://x\n    topic: t\n',
    );
    const out = await importNow();
    expect(taken(out.done)).toEqual([]);
    expect(out.problems).toEqual([
      expect.objectContaining({ file: 'berth/notify.yaml', line: 4, message: expect.stringMatching(/http/) }),
    ]);
    expect(readFileSync(join(dir, 'etc/notify.yaml'), 'utf8')).toBe('channels: {}\n');
    expect(existsSync(join(dir, 'etc/disks.yaml'))).toBe(false);
  });

  it('ships examples that are valid once renamed', () => {
    const shipped = join(import.meta.dirname, '../../image-build/settings/berth');
    const n = readFileSync(join(shipped, 'notify.yaml.example'), 'utf8');
    expect(parseSettingsYaml('notify.yaml', n, NotifySettingsSchema).diagnostics).toEqual([]);
    const d = readFileSync(join(shipped, 'disks.yaml.example'), 'utf8');
    expect(parseDisksSettings('disks.yaml', d).diagnostics).toEqual([]);
  });
});
