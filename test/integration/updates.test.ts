// Updates, for real, with no registry: image versions built from the local busybox image
// with podman build, moved under the recipe's tag with podman tag. A real user manager,
// real containers, real snapshots; berth killed with SIGKILL at the points an update can
// be cut short.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceOf, pinRef } from '../../src/render/paths.js';
import type { AppStatus } from '../../src/status.js';
import { readHistory, readRecord } from '../../src/updates/record.js';
import {
  type Appliance,
  ensureTestImages,
  httpGet,
  startAppliance,
  webRecipe,
} from '../harness/appliance.js';

const run = promisify(execFile);
let box: Appliance;
const REPO = 'localhost/berth-test/upd';
const LIVE = `${REPO}:live`;
const ids: Record<string, string> = {};

/**
 * The app serves /version and refuses to start on data of a schema it does not know; a
 * version writes /www/healthy unless it is the one that fails its check.
 */
const versions: Record<string, string> = {
  v1: 'test -f /data/schema || echo schema=1 > /data/schema; grep -qx schema=1 /data/schema || exit 3; mkdir -p /www; echo v1 > /www/version; touch /www/healthy; exec httpd -f -p 80 -h /www',
  v2: 'test -f /data/schema || echo schema=1 > /data/schema; grep -qx schema=1 /data/schema || exit 3; mkdir -p /www; echo v2 > /www/version; touch /www/healthy; exec httpd -f -p 80 -h /www',
  'v2-crash': 'echo v2-crash cannot start; exit 1',
  'v2-unhealthy': 'mkdir -p /www; echo v2-unhealthy > /www/version; exec httpd -f -p 80 -h /www',
  'v2-migrate': 'echo schema=2 > /data/schema; echo migrated, then failed; exit 1',
};

const recipe = `name: upd-a
image: ${LIVE}
init: true
ports: ["127.0.0.1:18501:80"]
stop_timeout: 2s
volumes:
  data: {target: /data}
health: {cmd: test -f /www/healthy, interval: 1s, retries: 2}
update: {stable_for: 3s, gate: 40s}
`;

const dataDir = () => box.config.dataDir;
const schema = async () =>
  (await readFile(join(dataDir(), 'apps', 'upd-a', 'data', 'schema'), 'utf8')).trim();
const version = async () => (await httpGet('http://127.0.0.1:18501/version', 20_000)).body.trim();
const record = () => readRecord(dataDir(), 'upd-a');
const snapshots = async () =>
  (await readdir(join(dataDir(), 'apps', 'upd-a', '.snapshots')).catch(() => [] as string[])).filter((f) =>
    f.endsWith('.tar.zst'),
  );
const moveTag = (v: string) => box.podman(['tag', ids[v]!, LIVE]);
const neighbour = async () => {
  const [c] = JSON.parse(await box.podman(['container', 'inspect', 'berth-upd-n'])) as {
    Id: string;
    State: { StartedAt: string };
  }[];
  return `${c!.Id} ${c!.State.StartedAt}`;
};
/** The app runs exactly one recorded image: record, pin tag and container agree, and no update is under way. */
const onOneImage = async () => {
  const r = record();
  expect(r.transition).toBeUndefined();
  const pin = (await box.podman(['image', 'inspect', '--format={{.Id}}', pinRef(dataDir(), 'upd-a')])).trim();
  const [c] = JSON.parse(await box.podman(['container', 'inspect', 'berth-upd-a'])) as { Image: string }[];
  expect(pin).toBe(r.current!.id);
  expect(c!.Image).toBe(r.current!.id);
  const all = JSON.parse(
    await box.podman(['ps', '-a', '--format=json', '--filter=label=berth.app=upd-a']),
  ) as unknown[];
  expect(all).toHaveLength(1);
  return r.current!.id;
};

beforeAll(async () => {
  await ensureTestImages();
  const ctx = await mkdtemp(join(tmpdir(), 'berth-upd-img-'));
  for (const [v, script] of Object.entries(versions)) {
    await writeFile(
      join(ctx, `Containerfile.${v}`),
      `FROM localhost/berth/busybox:1.35.0\nLABEL berth.test.version=${v}\nCMD ${JSON.stringify(['sh', '-c', script])}\n`,
    );
    await run('podman', [
      'build',
      '--format=docker',
      '--pull=never',
      '--quiet',
      `--tag=${REPO}:${v}`,
      `--file=${join(ctx, `Containerfile.${v}`)}`,
      ctx,
    ]);
    ids[v] = (await run('podman', ['image', 'inspect', '--format={{.Id}}', `${REPO}:${v}`])).stdout.trim();
  }
  box = await startAppliance('upd');
  await box.podman(['tag', ids.v1!, LIVE]);
  await box.writeRecipe('a.yaml', recipe);
  await box.writeRecipe('n.yaml', webRecipe('upd', 'n', 18502));
  await box.berth(['apply']);
}, 240_000);

afterAll(async () => {
  await box?.stop();
});

describe('pinned images', () => {
  it('an app runs the image ID berth recorded; status shows the reference and the short ID', async () => {
    expect(await version()).toBe('v1');
    expect(record().current?.id).toBe(ids.v1);
    const st = (JSON.parse((await box.berth(['status', '--json'])).stdout) as AppStatus[]).find(
      (a) => a.app === 'upd-a',
    );
    expect(st?.image).toBe(LIVE);
    expect(st?.imageId).toBe(ids.v1!.slice(0, 12));
  });

  it('a moved tag changes nothing until an update says so; --check reports it and changes nothing', async () => {
    await moveTag('v2');
    const r = await box.berth(['apply']);
    expect(r.stdout).not.toMatch(/upd-a/);
    expect(await version()).toBe('v1');
    const check = await box.berth(['update', '--check', 'upd-a']);
    expect(check.stdout).toContain(
      `upd-a: update available ${ids.v1!.slice(0, 12)} → ${ids.v2!.slice(0, 12)}`,
    );
    expect(await version()).toBe('v1');
    expect(record().current?.id).toBe(ids.v1);
    expect(await snapshots()).toHaveLength(0);
  });
});

describe('berth update', () => {
  it('a good version: snapshot, switch, gate passed; the neighbour is not touched', async () => {
    const before = await neighbour();
    const r = await box.berth(['update', 'upd-a']);
    expect(r.stdout).toContain(`upd-a: updated ${ids.v1!.slice(0, 12)} → ${ids.v2!.slice(0, 12)}`);
    expect(r.code).toBe(0);
    expect(await version()).toBe('v2');
    expect(await onOneImage()).toBe(ids.v2);
    expect(record().previous?.id).toBe(ids.v1);
    expect(await snapshots()).toHaveLength(1);
    expect(readHistory(dataDir(), 'upd-a').map((h) => h.result)).toEqual(['updated']);
    expect(await neighbour()).toBe(before);
    expect((await box.berth(['update', 'upd-a'])).stdout).toContain('upd-a: up to date');
  });

  it('a version that exits at once is rolled back', async () => {
    const before = await neighbour();
    await moveTag('v2-crash');
    const r = await box.berth(['update', 'upd-a'], { allowFail: true });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /upd-a: rolled back to [0-9a-f]{12}: .*(restarted|activating|failed|not running)/,
    );
    expect(await version()).toBe('v2');
    expect(await onOneImage()).toBe(ids.v2);
    expect(await snapshots()).toHaveLength(2);
    expect(record().rejected).toContain(ids['v2-crash']);
    const h = readHistory(dataDir(), 'upd-a');
    expect(h.at(-1)).toMatchObject({
      result: 'rolled-back',
      to: { id: ids.v2 },
      from: { id: ids['v2-crash'] },
    });
    expect(await readFile(h.at(-1)!.log!, 'utf8')).toContain('v2-crash cannot start');
    expect(await neighbour()).toBe(before);
  });

  it('a version that runs but fails its health check is rolled back', async () => {
    await moveTag('v2-unhealthy');
    const r = await box.berth(['update', 'upd-a'], { allowFail: true });
    expect(r.stdout).toMatch(/upd-a: rolled back to [0-9a-f]{12}: .*health/);
    expect(await version()).toBe('v2');
    expect(await onOneImage()).toBe(ids.v2);
  });

  it('a version that migrates the data and then fails: the data is back at schema=1, the new data moved aside', async () => {
    await moveTag('v2-migrate');
    const r = await box.berth(['update', 'upd-a'], { allowFail: true });
    expect(r.stdout).toContain('upd-a: rolled back');
    expect(await schema()).toBe('schema=1');
    expect(await version()).toBe('v2');
    expect(await onOneImage()).toBe(ids.v2);
    const aside = join(dataDir(), 'apps', 'upd-a', '.aside');
    const moved = (await readdir(aside)).sort().at(-1);
    expect((await readFile(join(aside, moved!, 'data', 'schema'), 'utf8')).trim()).toBe('schema=2');
    // keep: 3 (the default)
    expect(await snapshots()).toHaveLength(3);
    expect(readHistory(dataDir(), 'upd-a').map((h) => h.result)).toEqual([
      'updated',
      'rolled-back',
      'rolled-back',
      'rolled-back',
    ]);
  });

  it('berth rollback goes back to the previous image; history and snapshots list it', async () => {
    const r = await box.berth(['rollback', 'upd-a']);
    expect(r.stdout).toContain('upd-a: back on');
    expect(await version()).toBe('v1');
    expect(await onOneImage()).toBe(ids.v1);
    expect((await box.berth(['history', 'upd-a'])).stdout).toMatch(
      /→ [0-9a-f]{12}\s+rolled-back: berth rollback/,
    );
    expect((await box.berth(['snapshots', 'upd-a'])).stdout.trim().split('\n')).toHaveLength(3);
  });
});

describe('interrupted updates converge', () => {
  // Each: the live tag names v2, berth update is killed at the point, then a pass (berth
  // apply) leaves the app on exactly one recorded image with its data intact.
  const points = [
    ['after the pull', 'step:begin-update'],
    ['during the snapshot', 'snapshot-written'],
    ['after the re-pin', 'step:start'],
    ['during the gate', 'step:gate'],
  ] as const;
  it.each(points)('killed %s', async (_label, point) => {
    await moveTag('v2');
    const killed = await box.berth(['update', 'upd-a'], {
      allowFail: true,
      env: { BERTH_FAULT_KILL_AT: point },
    });
    expect(killed.code).not.toBe(0);
    await box.berth(['apply'], { allowFail: true });
    const id = await onOneImage();
    expect([ids.v1, ids.v2]).toContain(id);
    expect(await schema()).toBe('schema=1');
    expect(await version()).toBe(id === ids.v1 ? 'v1' : 'v2');
    const leftovers = (await readdir(join(dataDir(), 'apps', 'upd-a', '.snapshots'))).filter((f) =>
      f.endsWith('.tmp'),
    );
    // A half-written snapshot never counts: it is never listed, and the next snapshot removes it.
    expect((await box.berth(['snapshots', 'upd-a'])).stdout).not.toContain('.tmp');
    expect(leftovers.length).toBeLessThanOrEqual(1);
    // Back on v1 for the next point.
    if (id === ids.v2) await box.berth(['rollback', 'upd-a']);
  });
});

describe('build: recipes, remove and prune', () => {
  const ctxDir = () => join(box.root, 'recipes', 'upd-b-src');
  const containerfile = (v: string, extra = '') =>
    `FROM localhost/berth/busybox:1.35.0\nLABEL berth.test.build=${v}\n${extra}CMD ["sh", "-c", "mkdir -p /www; echo ${v} > /www/version; exec httpd -f -p 80 -h /www"]\n`;
  const builtVersion = async () => (await httpGet('http://127.0.0.1:18503/version', 20_000)).body.trim();
  // "name id" per name (a format, not JSON: a store with many images lists megabytes of it).
  const imageNames = async () =>
    (await box.podman(['images', '--no-trunc', '--format={{.Repository}}:{{.Tag}} {{.ID}}']))
      .split('\n')
      .filter(Boolean);
  const builds: string[] = [];

  it('an app built from its Containerfile runs; --check is up to date until the Containerfile changes', async () => {
    await mkdir(ctxDir(), { recursive: true });
    await writeFile(join(ctxDir(), 'Containerfile'), containerfile('b1'));
    await box.writeRecipe(
      'b.yaml',
      'name: upd-b\nbuild: upd-b-src\ninit: true\nports: ["127.0.0.1:18503:80"]\nstop_timeout: 2s\nupdate: {stable_for: 2s}\n',
    );
    await box.berth(['apply']);
    expect(await builtVersion()).toBe('b1');
    builds.push(readRecord(dataDir(), 'upd-b').current!.id);
    expect((await box.berth(['update', '--check', 'upd-b'])).stdout).toContain('upd-b: up to date');

    await writeFile(join(ctxDir(), 'Containerfile'), containerfile('b2'));
    expect((await box.berth(['update', '--check', 'upd-b'])).stdout).toContain('upd-b: update available');
    expect(await builtVersion()).toBe('b1');
    expect((await box.berth(['update', 'upd-b'])).stdout).toContain('upd-b: updated');
    expect(await builtVersion()).toBe('b2');
    builds.push(readRecord(dataDir(), 'upd-b').current!.id);
    expect((await box.berth(['update', '--check', 'upd-b'])).stdout).toContain('upd-b: up to date');
  });

  it('a failing build leaves the running app untouched and says where it failed', async () => {
    await writeFile(join(ctxDir(), 'Containerfile'), containerfile('b3', 'COPY no-such-file /x\n'));
    const r = await box.berth(['update', 'upd-b'], { allowFail: true });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/upd-b: error: building .* failed at STEP \d+\/\d+: COPY no-such-file/);
    expect(r.stdout).toContain('keeps running its pinned image');
    expect(await builtVersion()).toBe('b2');
  });

  it('prune removes the images berth built and no longer needs, and says the space freed; remove leaves none of the app', async () => {
    await writeFile(join(ctxDir(), 'Containerfile'), containerfile('b3'));
    await box.berth(['update', 'upd-b']);
    builds.push(readRecord(dataDir(), 'upd-b').current!.id);
    // b1 lost its last name when b3 became current and b2 previous.
    const pruned = await box.berth(['prune']);
    expect(pruned.stdout).toMatch(/freed \d/);
    expect(await imageNames()).toEqual(expect.arrayContaining([expect.stringContaining(builds[1]!)]));
    const existing = (await box.podman(['images', '-a', '--format={{.ID}}'])).split('\n');
    // Gone, unless another berth's names hold it (a build cache gives equal builds one ID;
    // a test run killed earlier on this machine leaves such names behind).
    if (existing.includes(builds[0]!.slice(0, 12)))
      expect(
        (await imageNames()).filter(
          (n) => n.endsWith(builds[0]!) && !n.includes(`/${instanceOf(dataDir())}/`),
        ),
      ).not.toEqual([]);
    // Images berth did not make are untouched.
    expect(await box.podman(['image', 'exists', `${REPO}:v1`])).toBe('');

    await box.berth(['remove', 'upd-b']);
    expect((await imageNames()).filter((n) => n.includes(`/${instanceOf(dataDir())}/upd-b:`))).toEqual([]);
    const left = (await box.podman(['images', '-a', '--format={{.ID}}'])).split('\n');
    // Gone, unless another berth's names hold it (a build cache gives equal builds one ID).
    const named = await imageNames();
    for (const id of builds)
      if (left.includes(id.slice(0, 12))) expect(named.some((n) => n.endsWith(id))).toBe(true);
  });
});

describe('update policy (berth-update.timer runs berth update --automatic)', () => {
  it('manual apps are left alone, notify apps show "update available", auto apps are updated; a rejected candidate is skipped', async () => {
    const recipeWith = (name: string, port: number, policy: string) =>
      `name: ${name}\nimage: ${LIVE}\ninit: true\nports: ["127.0.0.1:${port}:80"]\nstop_timeout: 2s\nvolumes:\n  data: {target: /data}\nupdate: {policy: ${policy}, stable_for: 2s}\n`;
    await moveTag('v1');
    await box.writeRecipe('pm.yaml', recipeWith('upd-pm', 18511, 'manual'));
    await box.writeRecipe('pn.yaml', recipeWith('upd-pn', 18512, 'notify'));
    await box.writeRecipe('pa.yaml', recipeWith('upd-pa', 18513, 'auto'));
    await box.berth(['apply']);
    await moveTag('v2');
    const r = await box.berth(['update', '--automatic', 'upd-pm', 'upd-pn', 'upd-pa']);
    expect(r.stdout).toContain('upd-pm: skipped: policy: manual');
    expect(r.stdout).toContain('upd-pn: update available');
    expect(r.stdout).toContain('upd-pa: updated');
    expect(readRecord(dataDir(), 'upd-pn').current?.id).toBe(ids.v1);
    expect(readRecord(dataDir(), 'upd-pa').current?.id).toBe(ids.v2);
    const status = JSON.parse((await box.berth(['status', '--json'])).stdout) as AppStatus[];
    expect(status.find((a) => a.app === 'upd-pn')?.updateAvailable).toBe(
      `${ids.v1!.slice(0, 12)} → ${ids.v2!.slice(0, 12)}`,
    );
    expect((await box.berth(['status'])).stdout).toMatch(
      /^upd-pn: update available [0-9a-f]{12} → [0-9a-f]{12}/m,
    );

    // A candidate that failed its gate is not tried again automatically.
    await moveTag('v2-crash');
    expect((await box.berth(['update', '--automatic', 'upd-pa'], { allowFail: true })).stdout).toContain(
      'upd-pa: rolled back',
    );
    const again = await box.berth(['update', '--automatic', 'upd-pa']);
    expect(again.stdout).toContain('upd-pa: skipped: this candidate failed its gate before');
    expect(readRecord(dataDir(), 'upd-pa').current?.id).toBe(ids.v2);
  });
});

describe('berth rollback --data', () => {
  it('puts back the data as it was before the update; what was written since is moved aside', async () => {
    await moveTag('v1');
    await box.writeRecipe(
      'r.yaml',
      `name: upd-r\nimage: ${LIVE}\ninit: true\nports: ["127.0.0.1:18521:80"]\nstop_timeout: 2s\nvolumes:\n  data: {target: /data}\nupdate: {stable_for: 2s}\n`,
    );
    await box.berth(['apply']);
    const data = join(dataDir(), 'apps', 'upd-r', 'data');
    await writeFile(join(data, 'before'), 'written on v1\n');
    await moveTag('v2');
    expect((await box.berth(['update', 'upd-r'])).stdout).toContain('upd-r: updated');
    await writeFile(join(data, 'after'), 'written on v2\n');

    const refused = await box.berth(['rollback', 'upd-r', '--data'], { allowFail: true });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/what it wrote since is moved aside\. Add --yes/);

    const r = await box.berth(['rollback', 'upd-r', '--data', '--yes']);
    expect(r.stdout).toContain('upd-r: back on');
    expect(readRecord(dataDir(), 'upd-r').current?.id).toBe(ids.v1);
    expect(await readdir(data)).toEqual(expect.arrayContaining(['before', 'schema']));
    expect(await readdir(data)).not.toContain('after');
    const aside = join(dataDir(), 'apps', 'upd-r', '.aside');
    const moved = (await readdir(aside)).sort().at(-1)!;
    expect(await readFile(join(aside, moved, 'data', 'after'), 'utf8')).toBe('written on v2\n');
    expect(readHistory(dataDir(), 'upd-r').at(-1)).toMatchObject({
      result: 'rolled-back',
      reason: 'berth rollback --data',
    });
  });
});

describe('a rollback whose data restore fails', () => {
  it('a truncated snapshot: the old data stays, the app is kept stopped and says why until berth rollback', async () => {
    await moveTag('v1');
    await box.writeRecipe(
      'h.yaml',
      `name: upd-h\nimage: ${LIVE}\ninit: true\nports: ["127.0.0.1:18531:80"]\nstop_timeout: 2s\nvolumes:\n  data: {target: /data}\nupdate: {stable_for: 2s}\n`,
    );
    await box.berth(['apply']);
    const data = join(dataDir(), 'apps', 'upd-h', 'data');
    const unit = () => box.runtime.systemd.state('berth-upd-h.service');
    // An update cut short after the switch: its snapshot is then damaged (a full disk's work).
    await moveTag('v2');
    const killed = await box.berth(['update', 'upd-h'], {
      allowFail: true,
      env: { BERTH_FAULT_KILL_AT: 'step:start' },
    });
    expect(killed.code).not.toBe(0);
    const snap = readRecord(dataDir(), 'upd-h').transition!.snapshot!;
    await writeFile(join(data, 'written-since'), 'the data as it is now\n');
    await truncate(snap, Math.floor((await stat(snap)).size / 2));
    const before = (await readdir(data)).sort();

    // The pass rolls back; the restore fails: the data is as it was, the app stays stopped.
    await box.berth(['apply'], { allowFail: true });
    expect((await readdir(data)).sort()).toEqual(before);
    expect(await readFile(join(data, 'schema'), 'utf8')).toBe('schema=1\n');
    expect((await unit()).activeState).not.toBe('active');
    expect((await unit()).unitFileState).toBe('disabled');
    const why =
      /the rollback could not restore the data: the snapshot .* cannot be read.*upd-h is kept stopped/;
    const st = (JSON.parse((await box.berth(['status', '--json'])).stdout) as AppStatus[]).find(
      (a) => a.app === 'upd-h',
    )!;
    expect(st.keptStopped).toMatch(why);
    expect((await box.berth(['status'])).stdout).toMatch(why);
    expect((await box.berth(['history', 'upd-h'])).stdout).toMatch(/failed: the rollback could not restore/);
    expect(readHistory(dataDir(), 'upd-h').at(-1)).toMatchObject({ result: 'failed' });
    // No later pass starts it.
    await box.berth(['apply'], { allowFail: true });
    expect((await unit()).activeState).not.toBe('active');
    expect((await readdir(data)).sort()).toEqual(before);

    // Trying the restore again with the snapshot still damaged: held again, nothing moved.
    const again = await box.berth(['rollback', 'upd-h', '--data', '--yes'], { allowFail: true });
    expect(again.stdout).toMatch(why);
    expect(readRecord(dataDir(), 'upd-h').transition?.held).toBeDefined();
    expect((await unit()).activeState).not.toBe('active');
    expect((await readdir(data)).sort()).toEqual(before);

    // berth rollback finishes it: the good image on the data as it is.
    expect((await box.berth(['rollback', 'upd-h'])).stdout).toContain('upd-h: back on');
    expect(readRecord(dataDir(), 'upd-h').transition).toBeUndefined();
    expect(readRecord(dataDir(), 'upd-h').current?.id).toBe(ids.v1);
    expect((await httpGet('http://127.0.0.1:18531/version', 20_000)).body.trim()).toBe('v1');
    expect((await readdir(data)).sort()).toEqual(before);
    expect((await unit()).unitFileState).toBe('enabled');
    // Nothing left to do: no pass enables it again.
    expect((await box.berth(['plan'])).stdout).not.toContain('upd-h');
  });
});
