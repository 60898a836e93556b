// A data disk: `berth disks add` planned from lsblk facts (refusals, what is erased, the
// steps), its units (golden files), the executor's handlers, and recipes' `disk:` volumes.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeApp } from '../../src/catalog/add.js';
import { disksAdd, eraseTable } from '../../src/cli/commands/disks-add.js';
import { UsageError } from '../../src/cli/command.js';
import type { Config } from '../../src/config.js';
import { type AddFacts, planAdd } from '../../src/disks/add.js';
import { diskHandlers, runDiskSteps } from '../../src/disks/execute.js';
import { type BlockDevice, parseLsblk, parseWipefs } from '../../src/disks/lsblk.js';
import { renderDeviceTimeout, renderMountUnit } from '../../src/disks/mount-unit.js';
import { diskWait } from '../../src/disks/waiting.js';
import { DiskMissingError, makeDirs } from '../../src/exec/files.js';
import { renderKube } from '../../src/export/kube.js';
import { renderQuadlet } from '../../src/export/quadlet.js';
import { parseRecipeText } from '../../src/recipe/parse.js';
import { pathUnitName } from '../../src/render/escape.js';
import { renderUnit } from '../../src/render/unit.js';
import { desiredApp } from '../../src/state/desired.js';
import { CHECK_CTX, RENDER_CTX, updateGolden, validApp } from '../helpers.js';

const work = mkdtempSync(join(tmpdir(), 'berth-datadisk-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// What `lsblk -J -b -o NAME,PATH,TYPE,SIZE,FSTYPE,LABEL,MOUNTPOINTS,MODEL` prints (util-linux 2.38).
const LSBLK = JSON.stringify({
  blockdevices: [
    {
      name: 'sda',
      path: '/dev/sda',
      type: 'disk',
      size: 32212254720,
      fstype: null,
      label: null,
      mountpoints: [null],
      model: 'QEMU HARDDISK',
      children: [
        {
          name: 'sda1',
          path: '/dev/sda1',
          type: 'part',
          size: 268435456,
          fstype: 'vfat',
          label: 'ESP',
          mountpoints: ['/efi'],
          model: null,
        },
        {
          name: 'sda2',
          path: '/dev/sda2',
          type: 'part',
          size: 4294967296,
          fstype: 'ext4',
          label: 'root-a',
          mountpoints: ['/'],
          model: null,
        },
        {
          name: 'sda4',
          path: '/dev/sda4',
          type: 'part',
          size: 20000000000,
          fstype: 'ext4',
          label: null,
          mountpoints: ['/var'],
          model: null,
        },
      ],
    },
    {
      name: 'sdb',
      path: '/dev/sdb',
      type: 'disk',
      size: 2000398934016,
      fstype: null,
      label: null,
      mountpoints: [null],
      model: 'WDC WD20EFRX  ',
      children: [
        {
          name: 'sdb1',
          path: '/dev/sdb1',
          type: 'part',
          size: 2000397795328,
          fstype: 'ntfs',
          label: 'Photos',
          mountpoints: [null],
          model: null,
        },
      ],
    },
    {
      name: 'sdc',
      path: '/dev/sdc',
      type: 'disk',
      size: 1000204886016,
      fstype: null,
      label: null,
      mountpoints: [null],
      model: 'Blank',
    },
    {
      name: 'sdd',
      path: '/dev/sdd',
      type: 'disk',
      size: 500107862016,
      fstype: 'ext4',
      label: 'films',
      mountpoints: ['/mnt/films'],
      model: 'USB',
    },
    {
      name: 'sde',
      path: '/dev/sde',
      type: 'disk',
      size: 1000204886016,
      fstype: 'LVM2_member',
      label: null,
      mountpoints: [null],
      model: 'Old',
      children: [
        {
          name: 'vg-data',
          path: '/dev/mapper/vg-data',
          type: 'lvm',
          size: 1000000000000,
          fstype: null,
          label: null,
          mountpoints: [null],
          model: null,
        },
      ],
    },
    {
      name: 'sr0',
      path: '/dev/sr0',
      type: 'rom',
      size: 1073741312,
      fstype: null,
      label: null,
      mountpoints: [null],
      model: 'DVD',
    },
  ],
});

const facts = (device: string, more: Partial<AddFacts> = {}): AddFacts => ({
  devices: parseLsblk(LSBLK, true),
  device,
  srvInUse: new Set(['shared']),
  berthDisks: new Set(['backup']),
  // What wipefs reads on the devices themselves.
  signatures: new Map([
    ['/dev/sdb', [{ type: 'dos' }]],
    ['/dev/sdb1', [{ type: 'ntfs', label: 'Photos' }]],
    ['/dev/sdc', []],
  ]),
  ...more,
});

describe('berth disks add: planning', () => {
  it('reads lsblk: lists of mount points, trimmed models, children', () => {
    const [sda, sdb] = parseLsblk(LSBLK, true) as [BlockDevice, BlockDevice];
    expect(sda.children.map((c) => c.mounts)).toEqual([['/efi'], ['/'], ['/var']]);
    expect(sdb.model).toBe('WDC WD20EFRX');
    expect(sdb.mounts).toEqual([]);
  });

  it('reads wipefs --no-act --json, and no output as no signature', () => {
    expect(parseWipefs('')).toEqual([]);
    const json = '{"signatures": [{"device":"sdb","offset":"0x1fe","type":"dos","uuid":null,"label":null}]}';
    expect(parseWipefs(json)).toEqual([{ type: 'dos' }]);
  });

  it.each([
    ['/dev/sdz', 'media', false, /\/dev\/sdz is not a block device this machine has/],
    [
      '/dev/sda',
      'media',
      true,
      /\/dev\/sda is the system disk \(it holds \/efi, \/, \/var\): berth never formats it/,
    ],
    ['/dev/sda4', 'media', true, /\/dev\/sda4 is on the system disk/],
    ['/dev/sdd', 'media', true, /\/dev\/sdd is in use: mounted at \/mnt\/films; unmount it/],
    ['/dev/sde', 'media', true, /\/dev\/sde is in use: \/dev\/mapper\/vg-data \(lvm\) runs on it/],
    ['/dev/sr0', 'media', true, /\/dev\/sr0 is a rom, not a disk or a partition/],
    ['/dev/sdc', 'Media', true, /the label 'Media' is not one berth takes/],
    ['/dev/sdc', 'a-very-long-label-x', true, /at most 16/],
    ['/dev/sdc', 'films', true, /\/dev\/sdd has the label films already/],
    ['/dev/sdc', 'shared', true, /\/srv\/shared already holds data/],
    ['/dev/sdc', 'backup', true, /berth has a data disk labelled backup already/],
    ['/dev/sdb', 'media', false, /\/dev\/sdb holds file systems or partitions, .*run again with --yes/],
  ])('refuses %s labelled %s (--yes: %s)', (device, label, yes, message) => {
    const plan = planAdd(facts(device), { label, yes });
    expect(plan.ok).toBe(false);
    if (!plan.ok) expect(plan.message).toMatch(message);
  });

  it('says what would be erased: partitions, file systems, labels, sizes', () => {
    const plan = planAdd(facts('/dev/sdb'), { label: 'media', yes: false });
    expect(plan.erase).toEqual([
      { path: '/dev/sdb', type: 'disk', size: '1863.0 GiB', fstype: 'dos', label: '-' },
      { path: '/dev/sdb1', type: 'part', size: '1863.0 GiB', fstype: 'ntfs', label: 'Photos' },
    ]);
  });

  it('with --yes: wipes, formats with the label, writes the units and mounts it', () => {
    const plan = planAdd(facts('/dev/sdb'), { label: 'media', yes: true });
    if (!plan.ok) throw new Error(plan.message);
    expect(plan.steps.map((s) => s.kind)).toEqual([
      'wipe-and-format',
      'write-mount-unit',
      'write-device-timeout-dropin',
      'enable-and-start-mount',
    ]);
    expect(plan.steps[0]).toMatchObject({
      commands: [
        ['wipefs', '-a', '/dev/sdb1'],
        ['wipefs', '-a', '/dev/sdb'],
        ['mkfs.ext4', '-q', '-F', '-L', 'media', '/dev/sdb'],
      ],
    });
    expect(plan.steps[3]).toEqual({ kind: 'enable-and-start-mount', unit: 'srv-media.mount' });
    expect(plan.mountPoint).toBe('/srv/media');
    expect(plan.recipeLine).toBe('volumes: {media: {target: /media, disk: media}}');
  });

  it('sees what udev does not know yet: a signature wipefs reads on a disk lsblk shows blank', () => {
    const signatures = new Map([['/dev/sdc', [{ type: 'ext4', label: 'old' }]]]);
    const plan = planAdd(facts('/dev/sdc', { signatures }), { label: 'media', yes: false });
    expect(plan.ok).toBe(false);
    expect(plan.erase).toEqual([
      { path: '/dev/sdc', type: 'disk', size: '931.5 GiB', fstype: 'ext4', label: 'old' },
    ]);
  });

  it('takes an empty disk without --yes: nothing is erased', () => {
    const plan = planAdd(facts('/dev/sdc'), { label: 'data', yes: false });
    expect(plan.ok).toBe(true);
    expect(plan.erase).toEqual([]);
  });
});

describe('a data disk’s units', () => {
  it.each([
    ['/srv/media', 'mount', 'srv-media.mount'],
    ['/srv/my-disk', 'mount', 'srv-my\\x2ddisk.mount'],
    ['/dev/disk/by-label/my-disk', 'device', 'dev-disk-by\\x2dlabel-my\\x2ddisk.device'],
    ['/srv/.x/é b', 'mount', 'srv-.x-\\xc3\\xa9\\x20b.mount'],
    ['//srv//x/', 'mount', 'srv-x.mount'],
    ['/', 'mount', '-.mount'],
  ] as const)('names %s as systemd-escape --path does', (path, suffix, want) => {
    expect(pathUnitName(path, suffix)).toBe(want);
  });

  // Set UPDATE_GOLDEN=1 to rewrite them after an intended change (then review the diff).
  it.each([
    ['srv-media-2.mount', renderMountUnit('media-2').text],
    ['media-2.device.conf', renderDeviceTimeout('media-2').text],
  ])('renders %s as the golden file says', (file, text) => {
    const path = join(import.meta.dirname, '..', 'fixtures', 'disks', file);
    const missing = !existsSync(path);
    if (updateGolden || missing) writeFileSync(path, text);
    // A golden file that was missing is a failure: review the file written, then commit it.
    expect(missing && !updateGolden ? `${path} was missing` : '').toBe('');
    expect(text).toBe(readFileSync(path, 'utf8'));
  });

  it('puts the drop-in in the device unit’s folder, under a name the OS update carries', () => {
    expect(renderDeviceTimeout('media-2').path).toBe(
      'dev-disk-by\\x2dlabel-media\\x2d2.device.d/berth-disk-timeout.conf',
    );
    expect(renderMountUnit('media-2').path).toBe('srv-media\\x2d2.mount');
  });
});

describe('berth disks add: the executor', () => {
  const plan = planAdd(facts('/dev/sdc'), { label: 'media', yes: false });
  if (!plan.ok) throw new Error(plan.message);
  const fake = (code = 0, job: 'done' | 'failed' = 'done') => {
    const calls: string[] = [];
    const deps = {
      run: async (argv: readonly string[]) => {
        calls.push(argv.join(' '));
        return { code, stdout: '', stderr: code ? 'mkfs.ext4: Device or resource busy\n' : '' };
      },
      systemd: {
        reload: async () => void calls.push('daemon-reload'),
        enable: async (u: string[]) => void calls.push(`enable ${u.join(' ')}`),
        start: async (u: string) => (calls.push(`start ${u}`), job),
      },
      unitDir: mkdtempSync(join(work, 'units-')),
    };
    return { calls, deps };
  };

  it('has a handler for every step kind', () => {
    expect(Object.keys(diskHandlers(fake().deps)).sort()).toEqual(
      ['enable-and-start-mount', 'wipe-and-format', 'write-device-timeout-dropin', 'write-mount-unit'].sort(),
    );
  });

  it("formats, writes both units, enables (the device's wants link), reloads and starts the mount, in that order", async () => {
    const { calls, deps } = fake();
    const done = await runDiskSteps(plan.steps, deps);
    expect(calls).toEqual([
      'wipefs -a /dev/sdc',
      'mkfs.ext4 -q -F -L media /dev/sdc',
      'enable srv-media.mount',
      'daemon-reload',
      'start srv-media.mount',
    ]);
    expect(readFileSync(join(deps.unitDir, 'srv-media.mount'), 'utf8')).toBe(renderMountUnit('media').text);
    expect(
      existsSync(join(deps.unitDir, 'dev-disk-by\\x2dlabel-media.device.d/berth-disk-timeout.conf')),
    ).toBe(true);
    expect(done.at(-1)).toMatch(/mounted it \(srv-media\.mount\)/);
  });

  it('stops at a failed format, saying what the program said, and writes no unit', async () => {
    const { calls, deps } = fake(1);
    await expect(runDiskSteps(plan.steps, deps)).rejects.toThrow(
      /wipefs failed \(exit status 1\): mkfs.ext4: Device or resource busy/,
    );
    expect(calls).toEqual(['wipefs -a /dev/sdc']);
    expect(existsSync(join(deps.unitDir, 'srv-media.mount'))).toBe(false);
  });

  it('says so when the mount does not start', async () => {
    const { deps } = fake(0, 'failed');
    await expect(runDiskSteps(plan.steps, deps)).rejects.toThrow(
      /starting srv-media.mount: failed; 'systemctl status srv-media.mount'/,
    );
  });
});

describe('a recipe volume on a data disk', () => {
  const recipe = `name: photos
image: docker.io/library/busybox:1.36
volumes:
  library: {target: /photos, disk: media, owner: "1000"}
  cache: {target: /cache}
`;
  const app = validApp(recipe);

  it('lives in /srv/<label>/<app>/<volume>, without the disk being there', () => {
    expect(app.volumes.find((v) => v.name === 'library')).toMatchObject({
      disk: 'media',
      host: '/srv/media/photos/library',
    });
  });

  it.each([
    ['{target: /p, disk: media, host: /srv/x}', /give host or disk, not both/],
    ['{target: /p, disk: Media}', /must be a data disk label/],
    ['{target: /p, disk: ../etc}', /must be a data disk label/],
  ])('refuses %s', (volume, message) => {
    const r = parseRecipeText(
      't.yaml',
      `name: a\nimage: docker.io/library/busybox:1.36\nvolumes:\n  v: ${volume}\n`,
      CHECK_CTX,
    );
    expect(r.app).toBeUndefined();
    expect(r.diagnostics.map((d) => d.message).join('\n')).toMatch(message);
  });

  it('waits for the disk in the unit and both exports', () => {
    const unit = renderUnit(app, RENDER_CTX).text;
    expect(unit).toContain('--volume=/srv/media/photos/library:/photos');
    expect(unit).toContain('RequiresMountsFor=/srv/media/photos/library');
    expect(unit).toMatch(/^WantedBy=srv-media\.mount$/m);
    const quadlet = renderQuadlet(app, { dataDir: '/var/lib/berth', hostname: 'h' })[0]!.text;
    expect(quadlet).toContain('Volume=/srv/media/photos/library:/photos');
    expect(quadlet).toMatch(/^RequiresMountsFor=\/srv\/media$/m);
    expect(quadlet).toMatch(/^WantedBy=srv-media\.mount$/m);
    const kube = renderKube(app, { hostname: 'h', secret: () => undefined });
    expect(JSON.stringify(kube.manifests)).toContain(
      '{"path":"/srv/media/photos/library","type":"Directory"}',
    );
    expect(kube.warnings.join('\n')).toMatch(/volume library is on the data disk media/);
  });

  it('is made with its owner, and only while the disk is mounted', async () => {
    const dir = desiredApp(app, RENDER_CTX).dirs.find((d) => d.disk);
    expect(dir).toEqual({
      path: '/srv/media/photos/library',
      mode: 0o755,
      owner: { uid: 1000 },
      disk: 'media',
    });
    const path = join(work, 'srv', 'media', 'photos', 'library');
    await expect(makeDirs([{ ...dir!, owner: undefined, path }], async () => false)).rejects.toThrow(
      DiskMissingError,
    );
    expect(existsSync(path)).toBe(false);
    await makeDirs([{ path, mode: 0o755, disk: 'media' }], async () => true);
    expect(existsSync(path)).toBe(true);
  });

  it('is said to live on the data disk when a catalog app is added', () => {
    expect(describeApp(app, '/var/lib/berth')).toContain(
      '  data disk media: /srv/media/photos/library → /photos',
    );
  });

  it('says why the app waits, naming each missing disk', () => {
    const two = validApp(`${recipe}  more: {target: /more, disk: spare}\n`);
    expect(diskWait(two, () => true)).toBeUndefined();
    expect(diskWait(two, (l) => l !== 'media')).toBe('waiting for its data disk media (not connected)');
    expect(diskWait(two, () => false)).toBe('waiting for its data disks media, spare (not connected)');
  });
});

describe('berth disks add: the command', () => {
  const ctx = (positionals: string[], user = false) => ({
    config: { user, unitDir: join(work, 'cli-units') } as Config,
    positionals,
    options: {},
    io: { out: () => {}, err: () => {}, isTty: false },
  });

  it('prints what will be erased as a table', () => {
    const plan = planAdd(facts('/dev/sdb'), { label: 'media', yes: false });
    expect(eraseTable(plan.erase)).toEqual([
      'DEVICE     TYPE  SIZE        FILE SYSTEM  LABEL',
      '/dev/sdb   disk  1863.0 GiB  dos          -',
      '/dev/sdb1  part  1863.0 GiB  ntfs         Photos',
    ]);
  });

  it('wants exactly one device, and the system manager', async () => {
    await expect(disksAdd(ctx([]))).rejects.toThrow(UsageError);
    await expect(disksAdd(ctx(['/dev/sdb', '/dev/sdc']))).rejects.toThrow(UsageError);
    await expect(disksAdd(ctx(['/dev/sdb'], true))).rejects.toThrow(/mounted by the system manager/);
  });
});
