// Update figures for `npm run bench`: the downtime of an update of a bridge web app (time
// with no HTTP answer) against `podman stop` + `podman run` of the new image, the time a
// rollback takes, and snapshot throughput against plain `tar | zstd` of the same directory.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { takeSnapshot } from '../../src/updates/snapshot.js';
import type { Appliance } from '../harness/appliance.js';

const run = promisify(execFile);
const BASE = 'localhost/berth/busybox:1.35.0';
const REPO = 'localhost/berth-bench/upd';
const PORT = 19500;
const FLOOR_PORT = 19501;
const ROUNDS = Math.max(1, Number(process.env.BENCH_UPDATE_RUNS ?? 3));

export interface UpdateFigures {
  downtime: { berth: number; floor: number };
  rollback: { auto: number; manual: number };
  snapshot: { berthMBs: number; floorMBs: number; mb: number };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function build(tag: string, script: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-bench-img-'));
  await writeFile(
    join(dir, 'Containerfile'),
    `FROM ${BASE}\nLABEL v=${tag}\nCMD ${JSON.stringify(['sh', '-c', script])}\n`,
  );
  await run('podman', ['build', '--format=docker', '--pull=never', '--quiet', `--tag=${REPO}:${tag}`, dir]);
  await rm(dir, { recursive: true, force: true });
  return (await run('podman', ['image', 'inspect', '--format={{.Id}}', `${REPO}:${tag}`])).stdout.trim();
}

const web = (v: string) => `mkdir -p /www; echo ${v} > /www/v; exec httpd -f -p 80 -h /www`;

/** Probes a port every 10 ms while work() runs; returns the longest time with no answer (ms). */
async function downtimeDuring(port: number, work: () => Promise<unknown>): Promise<number> {
  let done = false;
  let longest = 0;
  let downSince: number | undefined;
  const probe = (async () => {
    while (!done) {
      const ok = await fetch(`http://127.0.0.1:${port}/v`, { signal: AbortSignal.timeout(300) })
        .then((r) => r.ok)
        .catch(() => false);
      const now = performance.now();
      if (!ok && downSince === undefined) downSince = now;
      if (ok && downSince !== undefined) {
        longest = Math.max(longest, now - downSince);
        downSince = undefined;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  await work();
  // Until it answers again (bounded).
  const end = performance.now() + 30_000;
  while (downSince !== undefined && performance.now() < end) await new Promise((r) => setTimeout(r, 10));
  done = true;
  await probe;
  return longest;
}

async function answers(port: number, want: string): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const body = await fetch(`http://127.0.0.1:${port}/v`, { signal: AbortSignal.timeout(300) })
      .then((r) => r.text())
      .catch(() => '');
    if (body.trim() === want) return performance.now() - t0;
    if (performance.now() - t0 > 60_000) throw new Error(`port ${port} never answered ${want}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function updateFigures(box: Appliance): Promise<UpdateFigures> {
  const ids = {
    a: await build('a', web('a')),
    b: await build('b', web('b')),
    bad: await build('bad', 'exit 1'),
  };
  const live = `${REPO}:live`;
  await box.podman(['tag', ids.a, live]);
  await box.writeRecipe(
    'upd.yaml',
    `name: bench-upd\nimage: ${live}\ninit: true\nports: ["127.0.0.1:${PORT}:80"]\nstop_timeout: 1s\nupdate: {stable_for: 1s}\n`,
  );
  await box.berth(['apply']);
  await answers(PORT, 'a');
  const floorRun = (id: string) =>
    box.podman(['run', '-d', '--init', '--name=floor-upd', `--publish=127.0.0.1:${FLOOR_PORT}:80`, id]);
  await floorRun(ids.a);
  await answers(FLOOR_PORT, 'a');

  const berthDown: number[] = [];
  const floorDown: number[] = [];
  let next: 'a' | 'b' = 'b';
  for (let i = 0; i < ROUNDS; i++, next = next === 'a' ? 'b' : 'a') {
    await box.podman(['tag', ids[next], live]);
    berthDown.push(await downtimeDuring(PORT, () => box.berth(['update', 'bench-upd'])));
    floorDown.push(
      await downtimeDuring(FLOOR_PORT, async () => {
        await box.podman(['stop', '-t', '1', 'floor-upd']);
        await box.podman(['rm', '-f', 'floor-upd']);
        await floorRun(ids[next]);
      }),
    );
  }
  await box.podman(['rm', '-f', '-t', '1', 'floor-upd']);

  // Rollback: an update to an image that exits at once, from the command to the old version
  // answering again; and a manual rollback, from the command to the previous version answering.
  const current = next === 'a' ? 'b' : 'a';
  await box.podman(['tag', ids.bad, live]);
  const t0 = performance.now();
  await box.berth(['update', 'bench-upd'], { allowFail: true });
  const auto = performance.now() - t0 + (await answers(PORT, current));
  const t1 = performance.now();
  await box.berth(['rollback', 'bench-upd']);
  const manual = performance.now() - t1 + (await answers(PORT, next));
  await box.removeRecipe('upd.yaml');
  await box.berth(['apply']);

  // Snapshot throughput: 200 MB of half-compressible files.
  const dataDir = await mkdtemp(join(tmpdir(), 'berth-bench-snap-'));
  const vol = join(dataDir, 'apps', 'snap', 'data');
  await mkdir(vol, { recursive: true });
  const chunk = Buffer.concat([randomBytes(64 * 1024), Buffer.alloc(64 * 1024, 'a')]);
  for (let i = 0; i < 1600; i++) await writeFile(join(vol, `f${i}`), chunk);
  const mb = (1600 * chunk.length) / 1e6;
  const berthMs: number[] = [];
  const floorMs: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    let t = performance.now();
    await takeSnapshot(dataDir, 'snap', [vol], 'f'.repeat(64));
    berthMs.push(performance.now() - t);
    t = performance.now();
    await run('sh', ['-c', `tar -C / -cf - "${vol.slice(1)}" | zstd -q -o "${dataDir}/floor-${i}.tar.zst"`]);
    floorMs.push(performance.now() - t);
    await stat(`${dataDir}/floor-${i}.tar.zst`);
  }
  await rm(dataDir, { recursive: true, force: true });
  return {
    downtime: { berth: median(berthDown), floor: median(floorDown) },
    rollback: { auto, manual },
    snapshot: { berthMBs: mb / (median(berthMs) / 1000), floorMBs: mb / (median(floorMs) / 1000), mb },
  };
}
