// An app's output in files (no journald): read back, merged, followed, and kept bounded.
import { appendFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appPaths } from '../../src/render/paths.js';
import { boundLogFile, followAppFiles, readAppOutput, tailLines } from '../../src/status/output.js';
import type { OutputLine } from '../../src/status/reason.js';

let dir: string;
const ID = 'a9f4e07af00705c3e0804b8216d5fb3d66bf9577c89853a6cdb482c5f345c932';

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-output-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('log files', () => {
  it("reads the unit's and the container's files as one list, oldest first", async () => {
    const p = appPaths(dir, 'web');
    await mkdir(p.logDir, { recursive: true });
    await writeFile(p.unitLog, `Error: first try failed\n${ID}\n`);
    await writeFile(
      p.containerLog,
      '2026-11-26T03:12:15.5+00:00 stdout F starting\n2026-11-26T03:12:15.6+00:00 stderr F cannot open db\n',
    );
    const src = { target: 'file' as const, dataDir: dir };
    expect(await readAppOutput('web', src)).toEqual([
      { text: 'Error: first try failed', source: 'podman' },
      { text: ID, source: 'podman' },
      { text: 'starting', source: 'app', stream: 'stdout' },
      { text: 'cannot open db', source: 'app', stream: 'stderr' },
    ]);
    expect(await readAppOutput('web', src, 2)).toHaveLength(2);
    expect(await readAppOutput('nothing-here', src)).toEqual([]);
  });

  it('reads only whole lines from the end of a large file', async () => {
    const f = join(dir, 'big.log');
    await writeFile(f, Array.from({ length: 1000 }, (_, i) => `line ${i}`).join('\n') + '\n');
    const lines = await tailLines(f, 100);
    expect(lines.at(-1)).toBe('line 999');
    expect(lines.every((l) => /^line \d+$/.test(l))).toBe(true);
  });

  it('cuts a file past its bound back to its last whole lines, in place', async () => {
    const f = join(dir, 'unit.log');
    await writeFile(f, Array.from({ length: 2000 }, (_, i) => `line ${i}`).join('\n') + '\n');
    const before = (await stat(f)).ino;
    expect(await boundLogFile(f, 100_000)).toBe(false);
    expect(await boundLogFile(f, 10_000, 1000)).toBe(true);
    const text = await readFile(f, 'utf8');
    expect(text.length).toBeLessThanOrEqual(1000);
    expect(text.endsWith('line 1999\n')).toBe(true);
    expect(text.split('\n')[0]).toMatch(/^line \d+$/);
    // The same file, so systemd's and conmon's open (O_APPEND) descriptors stay valid.
    expect((await stat(f)).ino).toBe(before);
    expect(await boundLogFile(join(dir, 'missing.log'))).toBe(false);
  });

  it('follows both files from their ends, including files that appear later', async () => {
    const p = appPaths(dir, 'web');
    await mkdir(p.logDir, { recursive: true });
    await writeFile(p.unitLog, 'old line\n');
    const seen: OutputLine[] = [];
    const stop = new AbortController();
    const following = followAppFiles('web', dir, (l) => seen.push(l), stop.signal, 20);
    await new Promise((r) => setTimeout(r, 60));
    await appendFile(p.unitLog, 'Error: new\n');
    await appendFile(p.containerLog, '2026-11-26T03:12:15.6+00:00 stderr F from the app\n');
    for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    stop.abort();
    await following;
    expect(seen).toEqual([
      { text: 'Error: new', source: 'podman' },
      { text: 'from the app', source: 'app', stream: 'stderr' },
    ]);
  });
});
