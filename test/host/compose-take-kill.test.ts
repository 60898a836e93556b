// --move-data killed half-way (SIGKILL at several points of a real move, in its own process):
// the data is always whole in one place, the source folder or the app's volume, never split;
// what a kill leaves (a stage, a set-aside source) is removed by the next import. Bounded: a
// fixed list of kill times. Runs the built module (npm test builds before this tier).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clearLeftovers } from '../../src/compose/take-data.js';

const built = join(import.meta.dirname, '..', '..', 'dist', 'compose', 'take-data.js');
const work = mkdtempSync(join(tmpdir(), 'berth-take-kill-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Every entry's path, kind, mode and content (or link target), as one text. */
function tree(root: string): string {
  const out: string[] = [];
  const walk = (rel: string) => {
    const p = join(root, rel);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) out.push(`${rel} l ${readlinkSync(p)}`);
    else if (st.isDirectory()) {
      out.push(`${rel} d ${st.mode & 0o777}`);
      for (const e of readdirSync(p).sort()) walk(join(rel, e));
    } else
      out.push(`${rel} f ${st.mode & 0o777} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
  };
  walk('.');
  return out.join('\n');
}

function pristine(): string {
  const dir = join(work, 'pristine');
  for (let d = 0; d < 20; d++)
    for (let f = 0; f < 20; f++) {
      const p = join(dir, `d${d}`, `f${f}.bin`);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, Buffer.alloc(16 * 1024, (d * 20 + f) % 251));
    }
  writeFileSync(join(dir, 'secret.db'), 'keep me', { mode: 0o600 });
  symlinkSync('d0/f0.bin', join(dir, 'latest'));
  return dir;
}

/** The built takeData in a process of its own. */
const spawnTake = (from: string, to: string, move: boolean) =>
  spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(built)}); await m.takeData(${JSON.stringify({ from, to, move })});`,
    ],
    { stdio: 'ignore' },
  );

/** A whole take, not killed (a copy of `source` at `from` taken to `to`). */
async function takeIn(source: string, from: string, to: string, how: 'copy'): Promise<void> {
  cpSync(source, from, { recursive: true, verbatimSymlinks: true });
  const child = spawnTake(from, to, how !== 'copy');
  const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  expect(code).toBe(0);
}

describe('--move-data, killed half-way', () => {
  it('leaves the data whole in the source or in the volume, never split, at every kill time', async () => {
    if (!existsSync(built)) throw new Error(`${built} is missing: npm run build first (npm test does)`);
    const source = pristine();
    const want = tree(source);
    const seen = new Set<string>();
    // Kill times spread over one whole take's duration, measured here first (process start included).
    const t0 = Date.now();
    await takeIn(source, join(work, 'timed', 'data'), join(work, 'timed-to'), 'copy');
    const whole = Date.now() - t0;
    const delays = [0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 1.5].map((f) => Math.round(f * whole));
    for (const [k, delay] of delays.entries()) {
      const from = join(work, `t${k}`, 'compose', 'data');
      const to = join(work, `t${k}`, 'berth', 'apps', 'kuma', 'data');
      cpSync(source, from, { recursive: true, verbatimSymlinks: true });
      mkdirSync(dirname(to), { recursive: true });
      const child = spawnTake(from, to, true);
      const ended = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
      await new Promise((res) => setTimeout(res, delay));
      child.kill('SIGKILL');
      const code = await ended;
      const inSource = existsSync(from) && tree(from) === want;
      const inVolume = existsSync(to) && tree(to) === want;
      seen.add(code === 0 ? 'finished' : inVolume ? 'killed after the rename' : 'killed before the rename');
      expect(inSource || inVolume, `kill after ${delay} ms: the data is whole nowhere`).toBe(true);
      // The next import clears what the kill left: no stage, and no set-aside source once the volume is whole.
      await clearLeftovers({ from, to, move: true });
      const left = readdirSync(join(work, `t${k}`, 'berth', 'apps', 'kuma')).filter((f) => f !== 'data');
      expect(left).toEqual([]);
      if (inVolume)
        expect(readdirSync(dirname(from)).filter((f) => f.includes('moved-to-berth'))).toEqual([]);
    }
    // The two leftovers a kill can leave, made by hand: a partial stage beside a whole source,
    // and a partly removed set-aside source beside a whole volume.
    const from = join(work, 'by-hand', 'compose', 'data');
    const to = join(work, 'by-hand', 'berth', 'data');
    cpSync(source, from, { recursive: true, verbatimSymlinks: true });
    mkdirSync(join(dirname(to), '.data.import-stage', 'd0'), { recursive: true });
    await clearLeftovers({ from, to, move: true });
    expect(readdirSync(dirname(to))).toEqual([]);
    expect(tree(from)).toBe(want);
    cpSync(source, to, { recursive: true, verbatimSymlinks: true });
    mkdirSync(join(dirname(from), '.data.moved-to-berth', 'd3'), { recursive: true });
    rmSync(from, { recursive: true });
    await clearLeftovers({ from, to, move: true });
    expect(readdirSync(dirname(from))).toEqual([]);
    expect(tree(to)).toBe(want);
    // The kill times reach more than one point of the move (not all before it, not all after).
    expect(seen.size, [...seen].join(', ')).toBeGreaterThan(1);
  }, 120_000);
});
