// Directories and disks as a fresh or full machine has them: a user unit dir that does not
// exist yet, and a data dir whose file system is full (a real tmpfs of a few MiB).
import { execFile } from 'node:child_process';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Appliance,
  ensureTestImages,
  httpGet,
  startAppliance,
  webRecipe,
} from '../harness/appliance.js';

const run = promisify(execFile);
let box: Appliance;

beforeAll(async () => {
  await ensureTestImages();
  box = await startAppliance('disk');
}, 180_000);

afterAll(async () => {
  await box?.stop().catch(() => undefined);
  await run('umount', [box.config.dataDir]).catch(() => undefined);
});

const page = (text: string) => `files:\n  page:\n    target: /www/page.txt\n    content: |\n      ${text}\n`;

describe('directories and disk space', () => {
  it('applies with --user to a unit dir that does not exist yet', async () => {
    await rm(box.config.unitDir, { recursive: true, force: true });
    await box.writeRecipe('a.yaml', webRecipe('disk', 'a', 18301));
    const r = await box.berth(['--user', 'apply']);
    expect(r.stdout).not.toMatch(/FAILED/);
    expect((await stat(join(box.config.unitDir, 'berth-disk-a.service'))).isFile()).toBe(true);
    expect((await httpGet('http://127.0.0.1:18301/name.txt')).body.trim()).toBe('a');
  });

  it('a full data dir: a clear message, the old files intact, no half-written file, the app untouched', async () => {
    // The data dir on its own small file system (this test runs in a private mount namespace).
    await run('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', box.config.dataDir]);
    await box.writeRecipe('b.yaml', webRecipe('disk', 'b', 18302, page('first')));
    await box.berth(['apply']);
    const cfg = join(box.config.dataDir, 'apps', 'disk-b', '.config');
    expect(await readFile(join(cfg, 'page'), 'utf8')).toBe('first\n');
    const before = (await box.podman(['inspect', '--format={{.Id}}', 'berth-disk-b'])).trim();

    // Fill it: dd stops at "No space left on device".
    await run('dd', ['if=/dev/zero', `of=${join(box.config.dataDir, 'filler')}`, 'bs=64k']).catch(
      () => undefined,
    );
    await box.writeRecipe('b.yaml', webRecipe('disk', 'b', 18302, page('x'.repeat(60_000))));
    const r = await box.berth(['apply'], { allowFail: true });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `no space left to write ${join(cfg, 'page')}; free some space on that file system`,
    );
    expect(r.stderr).not.toMatch(/internal error/);
    // The reason reaches status, though the data disk is full (it is kept in the runtime dir).
    expect((await box.berth(['status'])).stdout).toMatch(
      /^disk-b: last apply failed: .*no space left to write .*\/\.config\/page; free some space on that file system$/m,
    );
    expect(await readFile(join(cfg, 'page'), 'utf8')).toBe('first\n');
    expect((await readdir(cfg)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect((await box.podman(['inspect', '--format={{.Id}}', 'berth-disk-b'])).trim()).toBe(before);

    // Room again: the next apply converges.
    await rm(join(box.config.dataDir, 'filler'));
    await box.berth(['apply']);
    expect((await readFile(join(cfg, 'page'), 'utf8')).length).toBe(60_001);
  });
});
