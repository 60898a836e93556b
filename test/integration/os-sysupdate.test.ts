// OS updates without a VM: trixie's own systemd-sysupdate (from the tree the image build
// caches), run in a chroot by berth's OS steps against a copy of the built disk image file
// and a directory standing in for the ESP. Checks the slots and their labels, the bytes
// written, the kernel images' boot counters, vacuuming, that the running version is never
// overwritten, and that a damaged or unsigned update folder is refused before anything is
// written. The QEMU test (test/os-update) does the same on a booted machine.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { appendFile, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSlots } from '../../src/os/entries.js';
import { type OsDeps, type OsRunState, runOsStep } from '../../src/os/execute.js';
import { planOsUpdate } from '../../src/os/plan.js';
import { runTool } from '../../src/os/run.js';
import type { OsSource } from '../../src/os/transfers.js';

const repo = join(import.meta.dirname, '..', '..');
const cache = process.env.BERTH_IMAGE_CACHE ?? join(repo, 'image-build', 'cache');
const VERSION = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version as string;
const image = join(repo, 'out', `berth-${VERSION}-amd64.img`);
const payload = join(repo, 'out', `os-update-${VERSION}`);
const SYSUPDATE = '/usr/lib/systemd/systemd-sysupdate';

let work: string;
let tree: string;
const logs: string[] = [];

const sha = async (stream: NodeJS.ReadableStream) => {
  const h = createHash('sha256');
  for await (const c of stream) h.update(c as Buffer);
  return h.digest('hex');
};

function deps(extra: Partial<OsDeps> = {}): OsDeps {
  const tool = runTool();
  return {
    // sysupdate runs inside the tree; the paths berth gives it are the tree's own.
    run: (argv) =>
      argv[0] === SYSUPDATE
        ? tool(['chroot', tree, SYSUPDATE, ...argv.slice(1).map((a) => a.replace(tree, ''))])
        : tool(argv),
    sysupdate: SYSUPDATE,
    definitionsDir: join(tree, 'defs'),
    espDir: join(tree, 'esp'),
    stateDir: join(work, 'state'),
    apps: async () => [],
    root: '/',
    mountDir: join(work, 'mnt'),
    disk: async () => join(tree, 'disk.img'),
    pubring: join(work, 'pubring.gpg'),
    log: (l) => logs.push(l),
    target: { disk: '/disk.img', ukiDir: '/esp/EFI/Linux' },
    ...extra,
  };
}

/** A version's update folder, as npm run os-image writes one, made from the built version. */
async function folder(version: string, damage?: 'bytes' | 'unlisted'): Promise<string> {
  const dir = join(tree, 'updates', version + (damage ? `-${damage}` : ''));
  await mkdir(dir, { recursive: true });
  const root = `berth_${version}.root.raw.gz`;
  const uki = `berth_${version}.efi`;
  await copyFile(join(payload, `berth_${VERSION}.root.raw.gz`), join(dir, root));
  await copyFile(join(payload, `berth_${VERSION}.efi`), join(dir, uki));
  const sums = [];
  for (const f of [root, uki]) sums.push(`${await sha(createReadStream(join(dir, f)))}  ${f}\n`);
  await writeFile(join(dir, 'SHA256SUMS'), sums.join(''));
  if (damage === 'bytes') await appendFile(join(dir, uki), 'x');
  if (damage === 'unlisted') await writeFile(join(dir, `berth_${version}.extra`), 'x');
  return dir;
}

async function setRunning(version: string) {
  const rel = join(tree, 'usr/lib/os-release');
  const text = readFileSync(rel, 'utf8').replace(/^IMAGE_VERSION=.*\n/m, '');
  await writeFile(rel, `${text}IMAGE_VERSION=${version}\n`);
}

async function update(version: string, opts: { verify?: boolean; dir?: string } = {}): Promise<OsRunState> {
  const dir = opts.dir ?? (await folder(version));
  return install({ kind: 'dir', path: dir }, opts.verify ?? false);
}

/** berth's update steps from any source (the carry-over mounts a slot: the QEMU test does that, and os-carry.test.ts the files). */
async function install(source: OsSource, verify: boolean): Promise<OsRunState> {
  const st: OsRunState = {};
  for (const s of plan(source, verify).filter((x) => x.kind !== 'carry-over' && x.kind !== 'remember-apps'))
    await runOsStep(deps(), s, st);
  return st;
}

/** berth's update plan, staging a folder in the tree (sysupdate reads it there, in the chroot). */
const plan = (source: OsSource, verify: boolean) =>
  planOsUpdate({
    source,
    checkOnly: false,
    reboot: false,
    verify,
    hasKey: true,
    tries: 2,
    boot: 'good',
    stagingDir: join(tree, 'staging'),
  }).steps;

let gpgHome: string;
const gpg = (...a: string[]) =>
  execFileSync('gpg', ['--homedir', gpgHome, '--batch', '--quiet', ...a], { stdio: 'pipe' });

const slots = () =>
  parseSlots(execFileSync('sfdisk', ['--json', join(tree, 'disk.img')], { encoding: 'utf8' }));
const labels = () => slots().map((s) => s.label);
const esp = () => readdirSync(join(tree, 'esp/EFI/Linux')).sort();

beforeAll(async () => {
  const base = existsSync(cache)
    ? readdirSync(cache).find((f) => /^trixie-base-.*\.tar$/.test(f))
    : undefined;
  if (!base || !existsSync(image) || !existsSync(payload))
    throw new Error(
      `needs the built image, its update folder and the cached trixie tree: run 'npm run os-image' (npm test does first)`,
    );
  work = await mkdtemp(join(tmpdir(), 'berth-sysupdate-'));
  tree = join(work, 'tree');
  await mkdir(tree);
  execFileSync('tar', ['-C', tree, '--exclude=./usr/share/*', '-xf', join(cache, base)]);
  execFileSync('cp', ['--sparse=always', image, join(tree, 'disk.img')]);
  await mkdir(join(tree, 'esp/EFI/Linux'), { recursive: true });
  await copyFile(join(payload, `berth_${VERSION}.efi`), join(tree, 'esp/EFI/Linux', `berth_${VERSION}.efi`));
  await setRunning(VERSION);
  execFileSync('mount', ['-t', 'proc', 'proc', join(tree, 'proc')]);
  // A signing key, as the image build's BERTH_OS_SIGNING_KEY; its public half is the image's.
  gpgHome = join(work, 'gnupg');
  await mkdir(gpgHome, { mode: 0o700 });
  gpg('--passphrase', '', '--quick-gen-key', 'berth test <test@berth.invalid>', 'ed25519', 'sign', 'never');
  await writeFile(join(work, 'pubring.gpg'), gpg('--export'));
}, 120_000);

afterAll(async () => {
  if (tree) execFileSync('umount', [join(tree, 'proc')], { stdio: 'ignore' });
  if (work) await rm(work, { recursive: true, force: true });
});

describe('systemd-sysupdate against the disk image', () => {
  it('the built image has slot A with its version, slot B empty, and the factory kernel image without a counter', () => {
    expect(labels()).toEqual([`berth-root_${VERSION}`, '_empty']);
    expect(esp()).toEqual([`berth_${VERSION}.efi`].sort());
  });

  it('installs the next version into the empty slot, byte for byte, with a counted kernel image', async () => {
    const v2 = `${VERSION}.2`;
    const st = await update(v2);
    expect(st.found).toBe(v2);
    expect(labels()).toEqual([`berth-root_${VERSION}`, `berth-root_${v2}`]);
    expect(esp()).toEqual([`berth_${VERSION}.efi`, `berth_${v2}+2-0.efi`].sort());
    // The slot holds exactly the payload's filesystem.
    const want = createReadStream(join(payload, `berth_${VERSION}.root.raw.gz`)).pipe(createGunzip());
    let size = 0;
    const h = createHash('sha256');
    for await (const c of want) {
      h.update(c as Buffer);
      size += (c as Buffer).length;
    }
    const slot = slots()[1]!;
    const start =
      Number(
        JSON.parse(
          execFileSync('sfdisk', ['--json', join(tree, 'disk.img')], { encoding: 'utf8' }),
        ).partitiontable.partitions.find((p: { name: string }) => p.name === slot.label).start,
      ) * 512;
    const got = await sha(createReadStream(join(tree, 'disk.img'), { start, end: start + size - 1 }));
    expect(got).toBe(h.digest('hex'));
  }, 180_000);

  it('running the new version, the next update vacuums the oldest one (slot and kernel image)', async () => {
    const [v2, v3] = [`${VERSION}.2`, `${VERSION}.3`];
    await setRunning(v2);
    await update(v3);
    expect(labels()).toEqual([`berth-root_${v3}`, `berth-root_${v2}`]);
    expect(esp()).toEqual([`berth_${v2}+2-0.efi`, `berth_${v3}+2-0.efi`].sort());
  }, 180_000);

  it('the running version is never overwritten, even when it is the oldest', async () => {
    const [v2, v4] = [`${VERSION}.2`, `${VERSION}.4`];
    await update(v4); // still running v2, the oldest installed
    expect(labels()).toEqual([`berth-root_${v4}`, `berth-root_${v2}`]);
    expect(esp()).toEqual([`berth_${v2}+2-0.efi`, `berth_${v4}+2-0.efi`].sort());
  }, 180_000);

  it('an update cut short after the root (no kernel image yet) is finished by the next one', async () => {
    const v6 = `${VERSION}.6`;
    const dir = await folder(v6);
    const steps = plan({ kind: 'dir', path: dir }, false);
    const st: OsRunState = {};
    // Stopped right after the root was written: the version cannot boot yet.
    for (const s of steps.slice(0, steps.findIndex((x) => x.kind === 'install') + 1))
      if (s.kind !== 'remember-apps') await runOsStep(deps(), s, st);
    expect(labels()).toContain(`berth-root_${v6}`);
    expect(esp().some((f) => f.startsWith(`berth_${v6}`))).toBe(false);
    expect((await update(v6, { dir })).found).toBe(v6);
    expect(esp()).toContain(`berth_${v6}+2-0.efi`);
    expect(labels()).toContain(`berth-root_${VERSION}.2`); // the running version, still there
  }, 180_000);

  it('finds nothing newer when the folder holds the running version', async () => {
    await setRunning(`${VERSION}.6`);
    const st = await update(`${VERSION}.6`);
    expect(st.found).toBeUndefined();
    await setRunning(`${VERSION}.2`);
  }, 60_000);

  it('a file swapped in the folder after berth checked it is not what sysupdate installs', async () => {
    const v10 = `${VERSION}.6.5`; // older than the URL tests' versions below
    const dir = await folder(v10);
    // Running v2: the other slot (v6) is the one written.
    const st: OsRunState = {};
    for (const s of plan({ kind: 'dir', path: dir }, false)) {
      if (s.kind === 'carry-over' || s.kind === 'remember-apps') continue;
      await runOsStep(deps(), s, st);
      // Whoever controls the share swaps the root and the kernel image once the check passed.
      if (s.kind === 'stage') {
        await writeFile(join(dir, `berth_${v10}.root.raw.gz`), 'not the checked root');
        await writeFile(join(dir, `berth_${v10}.efi`), 'not the checked kernel image');
      }
    }
    expect(st.found).toBe(v10);
    expect(labels()).toContain(`berth-root_${v10}`);
    const efi = join(tree, 'esp/EFI/Linux', `berth_${v10}+2-0.efi`);
    expect(await sha(createReadStream(efi))).toBe(
      await sha(createReadStream(join(payload, `berth_${VERSION}.efi`))),
    );
    expect(existsSync(join(tree, 'staging'))).toBe(false);
  }, 180_000);
});

describe('update folders that must not be installed', () => {
  it.each([
    ['bytes', /does not match its SHA256SUMS line/],
    ['unlisted', /is not listed in SHA256SUMS/],
  ] as const)(
    'a folder with a %s problem is refused and nothing is written',
    async (damage, re) => {
      const before = { labels: labels(), esp: esp() };
      await expect(update(`${VERSION}.9`, { dir: await folder(`${VERSION}.9`, damage) })).rejects.toThrow(re);
      expect({ labels: labels(), esp: esp() }).toEqual(before);
    },
    60_000,
  );

  it('with a key in the image, a signed SHA256SUMS passes and a changed one is refused', async () => {
    const dir = await folder(`${VERSION}.5`);
    gpg('--detach-sign', '--output', join(dir, 'SHA256SUMS.gpg'), join(dir, 'SHA256SUMS'));
    const before = labels();
    const check = () =>
      runOsStep(deps(), { kind: 'stage', from: dir, to: join(tree, 'staging'), signature: true }, {});
    await expect(check()).resolves.toBeUndefined();
    await appendFile(join(dir, 'SHA256SUMS'), '\n');
    await expect(check()).rejects.toThrow(/signature check/);
    await rm(join(dir, 'SHA256SUMS.gpg'));
    await expect(check()).rejects.toThrow(/signature check/);
    expect(labels()).toEqual(before);
  }, 60_000);
});

describe('from a URL (sysupdate downloads and checks the signature itself)', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    // A plain static server on loopback, serving the signed update folders.
    server = createServer((req, res) => {
      const file = join(tree, 'updates', decodeURIComponent((req.url ?? '/').split('?')[0]!));
      if (!file.startsWith(join(tree, 'updates') + '/') || !existsSync(file)) return res.writeHead(404).end();
      res.writeHead(200);
      createReadStream(file).pipe(res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // The image's key, where sysupdate (systemd-pull) looks for it.
    await copyFile(join(work, 'pubring.gpg'), join(tree, 'etc/systemd/import-pubring.gpg'));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const fromUrl = async (dir: string): Promise<OsRunState> => {
    return install({ kind: 'url', url: `${url}/${dir.split('/').pop()}` }, true);
  };

  it('installs a signed version over HTTP, verified by sysupdate', async () => {
    const v7 = `${VERSION}.7`;
    const dir = await folder(v7);
    gpg('--detach-sign', '--output', join(dir, 'SHA256SUMS.gpg'), join(dir, 'SHA256SUMS'));
    expect((await fromUrl(dir)).found).toBe(v7);
    expect(labels()).toContain(`berth-root_${v7}`);
    expect(esp()).toContain(`berth_${v7}+2-0.efi`);
  }, 180_000);

  it('finds nothing newer at a URL that offers the installed version, and says no error', async () => {
    const dir = join(tree, 'updates', `${VERSION}.7`);
    expect((await fromUrl(dir)).found).toBeUndefined();
  }, 60_000);

  it('refuses a version whose SHA256SUMS does not match its signature, and writes nothing', async () => {
    const v8 = `${VERSION}.8`;
    const dir = await folder(v8);
    gpg('--detach-sign', '--output', join(dir, 'SHA256SUMS.gpg'), join(dir, 'SHA256SUMS'));
    await appendFile(join(dir, 'SHA256SUMS'), '\n');
    const before = { labels: labels(), esp: esp() };
    await expect(fromUrl(dir)).rejects.toThrow(/failed/);
    expect({ labels: labels(), esp: esp() }).toEqual(before);
  }, 180_000);
});
