// Pulls from a registry, for real: a registry on loopback (test/harness/registry.ts)
// serving image versions built from the local busybox image, sent slowly so a pull takes
// seconds. An app pinned from it is updated when its tag moves upstream, with a progress
// line (bytes, rate, time left) drawn in place on a terminal, and plain lines otherwise.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecord } from '../../src/updates/record.js';
import { type Appliance, ensureTestImages, httpGet, repoRoot, startAppliance } from '../harness/appliance.js';
import { startRegistry, type TestRegistry } from '../harness/registry.js';

const run = promisify(execFile);
let box: Appliance;
let reg: TestRegistry;
let layout: string;
let ref: string;
const ids: Record<string, string> = {};

/** A version with a 2 MB layer of its own (random, so it does not compress), pushed under a tag. */
async function version(v: string, dir: string): Promise<void> {
  const ctx = await mkdtemp(join(dir, `ctx-${v}-`));
  await run('sh', ['-c', `head -c 2000000 /dev/urandom > "${ctx}/blob"`]);
  await writeFile(
    join(ctx, 'Containerfile'),
    `FROM localhost/berth/busybox:1.35.0\nCOPY blob /blob\nCMD ["sh", "-c", "mkdir -p /www; echo ${v} > /www/v; exec httpd -f -p 80 -h /www"]\n`,
  );
  const tag = `localhost/berth-test/reg-src:${v}`;
  await run('podman', ['build', '--pull=never', '--quiet', `--tag=${tag}`, ctx]);
  await run('podman', ['push', '--quiet', tag, `oci:${layout}:${v}`]);
  // Gone from the local store, so that a pull downloads its layer.
  await run('podman', ['rmi', tag]);
  // The ID a pull gives: the digest of the config the registry serves.
  const entry = (await index()).manifests.find((m) => m.annotations?.[REF] === v)!;
  const manifest = JSON.parse(await readFile(blob(entry.digest), 'utf8')) as { config: { digest: string } };
  ids[v] = manifest.config.digest.replace('sha256:', '');
}

const REF = 'org.opencontainers.image.ref.name';
interface Index {
  manifests: { digest: string; annotations?: Record<string, string> }[];
}
const index = async () =>
  JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as Index & Record<string, unknown>;
const blob = (digest: string) => join(layout, 'blobs', ...digest.split(':'));

/** The upstream tag 'live' moves to version v (as a push to the registry would do). */
async function moveUpstream(v: string): Promise<void> {
  const i = await index();
  const entry = i.manifests.find((m) => m.annotations?.[REF] === v)!;
  i.manifests = [
    ...i.manifests.filter((m) => m.annotations?.[REF] !== 'live'),
    { ...entry, annotations: { [REF]: 'live' } },
  ];
  await writeFile(join(layout, 'index.json'), JSON.stringify(i));
}
const served = async () => (await httpGet('http://127.0.0.1:18601/v', 20_000)).body.trim();

beforeAll(async () => {
  await ensureTestImages();
  const dir = await mkdtemp(join(tmpdir(), 'berth-reg-'));
  layout = join(dir, 'layout');
  await version('v1', dir);
  await version('v2', dir);
  await version('v3', dir);
  reg = await startRegistry({ bytesPerSecond: 800_000 });
  reg.serve('berth-test/reg', layout);
  const conf = join(dir, 'registries.conf');
  await reg.writeConf(conf);
  process.env.CONTAINERS_REGISTRIES_CONF = conf;
  ref = `${reg.host}/berth-test/reg:live`;
  await moveUpstream('v1');
  box = await startAppliance('rg', { CONTAINERS_REGISTRIES_CONF: conf });
  await box.writeRecipe(
    'a.yaml',
    `name: rg-a\nimage: ${ref}\ninit: true\nports: ["127.0.0.1:18601:80"]\nstop_timeout: 2s\nupdate: {stable_for: 2s}\n`,
  );
  await box.berth(['apply']);
}, 240_000);

afterAll(async () => {
  // Removing the recipe releases the pulled image (a registry image no other app uses).
  await box?.removeRecipe('a.yaml');
  await box?.berth(['apply'], { allowFail: true });
  await box?.stop();
  await reg?.close();
});

describe('an app pinned from a registry', () => {
  it('is pulled on first start and runs the pinned ID', async () => {
    expect(await served()).toBe('v1');
    expect(readRecord(box.config.dataDir, 'rg-a').current).toMatchObject({ ref, id: ids.v1 });
  });

  it('berth update pulls the moved tag with a progress line drawn in place on a terminal', async () => {
    await moveUpstream('v2');
    // script(1) gives berth a terminal.
    const cli = join(repoRoot(), 'dist', 'cli', 'main.js');
    const r = await run('script', ['-qfec', `${process.execPath} ${cli} update rg-a`, '/dev/null'], {
      env: { ...process.env, ...box.env },
    });
    expect(r.stdout).toMatch(
      /\r\x1b\[Krg-a: pulling \S+ {2}\[[#.]+\] {2}[\d.]+ \w+ \/ [\d.]+ MiB {2}[\d.]+ \w+\/s {2}\d+ s left/,
    );
    expect(r.stdout).toContain('rg-a: updated');
    expect(await served()).toBe('v2');
    expect(readRecord(box.config.dataDir, 'rg-a').current?.id).toBe(ids.v2);
  });

  it('off a terminal, --check pulls with plain progress lines and changes nothing', async () => {
    await moveUpstream('v3');
    const r = await box.berth(['update', '--check', 'rg-a']);
    expect(r.stdout).toContain(`rg-a: update available ${ids.v2!.slice(0, 12)} → ${ids.v3!.slice(0, 12)}`);
    expect(r.stderr).not.toContain('\r');
    expect(r.stderr).toMatch(/^rg-a: pulled \S+: [\d.]+ \w+ in [\d.]+ s$/m);
    expect(await served()).toBe('v2');
  });
});
