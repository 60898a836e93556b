// berth disks and the SMART check, with smartctl's and lsblk's JSON as fixtures: SMART read
// from the exit bitmask and the JSON, only with -n standby and -d TYPE, never from a disk that
// holds no berth data; one incident start and one end however the readings flap.
import { describe, expect, it } from 'vitest';
import { incidentOf } from '../../src/events/types.js';
import { NO_SMARTCTL, readDiskFacts } from '../../src/disks/facts.js';
import { parseLsblk } from '../../src/disks/lsblk.js';
import { parseSmart, type SmartReading, smartQuery } from '../../src/disks/smart.js';
import { berthPlaces } from '../../src/disks/places.js';
import { diskRows, diskTable } from '../../src/disks/view.js';
import { watchSmart } from '../../src/disks/watch.js';
import type { Runtime } from '../../src/runtime.js';
import { smartWatch } from '../../src/supervisor/smart.js';
import { diskMetricFacts } from '../../src/metrics/disks.js';
import { renderMetrics } from '../../src/metrics/render.js';
import type { Runner } from '../../src/process/run.js';
import type { App } from '../../src/recipe/app.js';

const smartctl = (exit: number, body: object = {}, messages: string[] = []) =>
  JSON.stringify({
    json_format_version: [1, 0],
    smartctl: {
      version: [7, 3],
      messages: messages.map((string) => ({ string, severity: 'error' })),
      exit_status: exit,
    },
    ...body,
  });

const ATA_OK = smartctl(0, {
  smart_support: { available: true, enabled: true },
  smart_status: { passed: true },
  temperature: { current: 34 },
});
const ATA_FAILING = smartctl(8 | 64, {
  smart_status: { passed: false },
  temperature: { current: 51 },
});
const NVME_MEDIA = smartctl(0, {
  smart_status: { passed: true, nvme: { value: 0 } },
  nvme_smart_health_information_log: { critical_warning: 0, media_errors: 7 },
  temperature: { current: 40 },
});
const VIRTIO = smartctl(1, {}, ['/dev/vda: Unable to detect device type']);

describe('parseSmart', () => {
  const cases: [string, { code: number; stdout: string }, SmartReading][] = [
    ['ATA, all well', { code: 0, stdout: ATA_OK }, { health: 'ok', temperatureC: 34, reasons: [] }],
    [
      'ATA failing, with error log entries',
      { code: 8 | 64, stdout: ATA_FAILING },
      {
        health: 'failing',
        temperatureC: 51,
        reasons: ['SMART overall health: FAILING', "the disk's error log has entries"],
      },
    ],
    [
      'a pre-failure attribute at its threshold, a failed self-test',
      { code: 16 | 128, stdout: ATA_OK },
      {
        health: 'failing',
        temperatureC: 34,
        reasons: [
          'a pre-failure attribute is at or below its threshold now',
          'the self-test log reports errors',
        ],
      },
    ],
    ['asleep: -n standby,3 skipped it', { code: 3, stdout: smartctl(3) }, { health: 'asleep', reasons: [] }],
    [
      'NVMe with media errors',
      { code: 0, stdout: NVME_MEDIA },
      { health: 'failing', temperatureC: 40, reasons: ['7 media errors'] },
    ],
    [
      'NVMe critical warning',
      {
        code: 8,
        stdout: smartctl(8, {
          smart_status: { passed: false },
          nvme_smart_health_information_log: { critical_warning: 4 },
        }),
      },
      { health: 'failing', reasons: ['SMART overall health: FAILING', 'NVMe critical warning 0x4'] },
    ],
    [
      'virtio: no device type',
      { code: 1, stdout: VIRTIO },
      { health: 'unsupported', reasons: ['no SMART on this device'] },
    ],
    [
      'SMART not available on the device',
      { code: 4, stdout: smartctl(4, { smart_support: { available: false } }) },
      { health: 'unsupported', reasons: ['no SMART on this device'] },
    ],
    [
      'not root',
      { code: 2, stdout: smartctl(2, {}, ['Smartctl open device: /dev/sda failed: Permission denied']) },
      { health: 'unknown', reasons: ['Smartctl open device: /dev/sda failed: Permission denied'] },
    ],
    ['no JSON at all', { code: 1, stdout: 'garbage' }, { health: 'unknown', reasons: ['smartctl exited 1'] }],
  ];
  it.each(cases)('%s', (_, result, want) => expect(parseSmart(result)).toEqual(want));
});

describe('smartQuery', () => {
  it.each([
    ['sda', 'sata', { ask: true, type: 'sat', virtual: false }],
    ['sdb', 'usb', { ask: true, type: 'sat', virtual: false }],
    ['nvme0n1', 'nvme', { ask: true, type: 'nvme', virtual: false }],
    ['vda', undefined, { ask: true, virtual: true }],
    ['mmcblk0', undefined, { ask: false, virtual: false }],
  ] as const)('%s (%s)', (name, tran, want) =>
    expect(smartQuery({ name, ...(tran ? { tran } : {}) })).toEqual(want),
  );
});

const LSBLK = JSON.stringify({
  blockdevices: [
    { name: 'zram0', path: '/dev/zram0', size: 0, type: 'disk', rota: false, mountpoints: [null] },
    {
      name: 'sda',
      path: '/dev/sda',
      model: 'WDC WD40EFRX ',
      serial: 'WD-1',
      size: 4000787030016,
      type: 'disk',
      tran: 'sata',
      rota: true,
      mountpoints: [null],
      children: [
        {
          name: 'sda1',
          path: '/dev/sda1',
          size: 4e12,
          type: 'part',
          rota: true,
          mountpoints: ['/srv/media'],
          label: 'media',
          fstype: 'ext4',
        },
      ],
    },
    {
      name: 'sdb',
      path: '/dev/sdb',
      model: 'Backup',
      size: 2e12,
      type: 'disk',
      tran: 'usb',
      rota: true,
      mountpoints: [null],
      children: [{ name: 'sdb1', path: '/dev/sdb1', size: 2e12, type: 'part', mountpoints: ['/mnt/backup'] }],
    },
    {
      name: 'nvme0n1',
      path: '/dev/nvme0n1',
      model: 'Samsung SSD 980',
      size: 5e11,
      type: 'disk',
      tran: 'nvme',
      rota: false,
      mountpoints: [null],
      children: [
        { name: 'nvme0n1p1', path: '/dev/nvme0n1p1', size: 5e8, type: 'part', mountpoints: ['/efi'] },
        { name: 'nvme0n1p2', path: '/dev/nvme0n1p2', size: 4e11, type: 'part', mountpoints: ['/', '/var'] },
      ],
    },
    { name: 'loop0', path: '/dev/loop0', size: 1e6, type: 'loop', mountpoints: [null] },
  ],
});

/** A runner that answers lsblk and smartctl from tables, and records every call. */
function fakeRunner(smart: Record<string, { code: number; stdout: string }>, calls: string[][] = []): Runner {
  return async (argv) => {
    calls.push([...argv]);
    if (argv[0] === 'lsblk') return { code: 0, stdout: LSBLK, stderr: '' };
    const r = smart[argv.at(-1)!];
    return r ? { ...r, stderr: '' } : { code: 127, stdout: '', stderr: 'spawn smartctl ENOENT' };
  };
}

const app = (name: string, volumes: { name: string; host?: string }[], enabled = true) =>
  ({
    name,
    enabled,
    volumes: volumes.map((v) => ({ target: '/x', readonly: false, ...v })),
  }) as unknown as App;
const APPS = [
  app('samba', [{ name: 'share', host: '/srv/media/share' }, { name: 'state' }]),
  app('minidlna', [{ name: 'media', host: '/srv/media' }, { name: 'db' }]),
];
const PLACES = berthPlaces('/var/lib/berth', APPS);

describe('disk facts and rows', () => {
  it('lists whole real disks with their partitions; no zram, no loop', () => {
    const disks = parseLsblk(LSBLK);
    expect(disks.map((d) => d.name)).toEqual(['sda', 'sdb', 'nvme0n1']);
    expect(disks[0]).toMatchObject({ model: 'WDC WD40EFRX', rotational: true, tran: 'sata' });
    expect(disks[0]!.children[0]).toMatchObject({ mounts: ['/srv/media'], label: 'media', fstype: 'ext4' });
  });

  it('asks smartctl with -n standby,3 and -d TYPE; a missing smartctl is a fact', async () => {
    const calls: string[][] = [];
    const facts = await readDiskFacts(
      { runner: fakeRunner({ '/dev/sda': { code: 0, stdout: ATA_OK } }, calls) },
      (d) => d.name !== 'nvme0n1',
    );
    expect(calls.filter((c) => c[0] === 'smartctl')).toEqual([
      ['smartctl', '-j', '-a', '-n', 'standby,3', '-d', 'sat', '/dev/sda'],
      ['smartctl', '-j', '-a', '-n', 'standby,3', '-d', 'sat', '/dev/sdb'],
    ]);
    expect(facts.map((f) => f.smart)).toEqual([
      { health: 'ok', temperatureC: 34, reasons: [] },
      { health: 'unknown', reasons: [NO_SMARTCTL] },
      { health: 'unknown', reasons: ['not asked'] },
    ]);
  });

  it('says per disk what berth keeps there, its health and whether it sleeps', async () => {
    const runner = fakeRunner({
      '/dev/sda': { code: 0, stdout: ATA_OK },
      '/dev/sdb': { code: 3, stdout: smartctl(3) },
      '/dev/nvme0n1': { code: 0, stdout: NVME_MEDIA },
    });
    const rows = diskRows(await readDiskFacts({ runner }), PLACES);
    expect(rows.map((r) => [r.name, r.mounts, r.berth, r.healthText, r.power, r.temperatureC])).toEqual([
      ['sda', ['/srv/media'], ['app data (minidlna, samba)'], 'ok', 'spinning', 34],
      ['sdb', ['/mnt/backup'], [], 'asleep (not read)', 'asleep', undefined],
      [
        'nvme0n1',
        ['/efi', '/', '/var'],
        ["berth's data dir", 'app data (minidlna, samba)'],
        'FAILING',
        'awake',
        40,
      ],
    ]);
    const table = diskTable(rows);
    expect(table[0]).toMatch(/^DISK +MODEL +SIZE +HEALTH +TEMP +POWER +MOUNTS +BERTH KEEPS$/);
    expect(table[1]).toMatch(
      /^sda +WDC WD40EFRX +3726\.0 GiB +ok +34 °C +spinning +\/srv\/media +app data \(minidlna, samba\)$/,
    );
    expect(table.at(-1)).toBe('nvme0n1: 7 media errors');
  });

  it('says a virtual disk has no SMART', async () => {
    const runner: Runner = async (argv) =>
      argv[0] === 'lsblk'
        ? {
            code: 0,
            stderr: '',
            stdout: JSON.stringify({
              blockdevices: [
                { name: 'vda', path: '/dev/vda', size: 2.7e11, type: 'disk', rota: true, mountpoints: ['/'] },
              ],
            }),
          }
        : { code: 1, stdout: VIRTIO, stderr: '' };
    const [row] = diskRows(await readDiskFacts({ runner }), berthPlaces('/var/lib/berth', []));
    expect(row).toMatchObject({
      health: 'unsupported',
      healthText: 'no SMART (virtual disk)',
      power: 'unknown',
    });
    expect(row!.berth).toEqual(["berth's data dir"]);
  });
});

describe('the SMART check', () => {
  const events: [string, string][] = [];
  /** sda's readings, one a check. */
  const sda: { code: number; stdout: string }[] = [];
  const calls: string[][] = [];
  const nvmeOk = smartctl(0, { smart_status: { passed: true }, temperature: { current: 40 } });
  const base = fakeRunner({ '/dev/nvme0n1': { code: 0, stdout: nvmeOk } }, calls);
  const runner: Runner = async (argv, o) =>
    argv.at(-1) === '/dev/sda' ? (calls.push([...argv]), { ...sda.shift()!, stderr: '' }) : base(argv, o);
  const watch = watchSmart({
    facts: { runner },
    // samba's data is on sda (/srv/media/share) and in the data dir (nvme0n1); sdb holds nothing of berth's.
    places: () => berthPlaces('/var/lib/berth', [APPS[0]!]),
    emit: (kind, subject) => void events.push([kind, subject]),
  });

  it('tells one start and one end however the readings flap, and never asks a disk without berth data', async () => {
    const readings = [
      ATA_OK,
      ATA_FAILING,
      ATA_FAILING,
      smartctl(3),
      'garbage',
      ATA_FAILING,
      ATA_OK,
      smartctl(3),
      ATA_OK,
    ];
    const codes = [0, 72, 72, 3, 1, 72, 0, 3, 0];
    for (const [i, stdout] of readings.entries()) {
      sda.push({ code: codes[i]!, stdout });
      await watch.check();
    }
    expect(events).toEqual([
      ['disk-smart-bad', '/dev/sda'],
      ['disk-smart-ok', '/dev/sda'],
    ]);
    const asked = calls.filter((c) => c[0] === 'smartctl').map((c) => c.at(-1));
    expect(asked).toContain('/dev/sda');
    expect(asked).toContain('/dev/nvme0n1');
    expect(asked).not.toContain('/dev/sdb');
    for (const c of calls.filter((x) => x[0] === 'smartctl')) expect(c).toContain('standby,3');
  });

  it('keeps the last readings for /metrics: a sleeping disk keeps its health, loses its temperature', async () => {
    sda.push({ code: 3, stdout: smartctl(3) });
    await watch.check();
    expect(watch.disks().find((d) => d.disk === 'sda')).toEqual({
      disk: 'sda',
      path: '/dev/sda',
      model: 'WDC WD40EFRX',
      health: 'ok',
      asleep: true,
      mounts: ['/srv/media'],
    });
    const smart = await diskMetricFacts(watch.disks(), async (p) => ({
      bavail: p === '/srv/media' ? 10 : 1,
      bsize: 4096,
    }));
    const text = renderMetrics({
      apps: [],
      disks: [],
      passes: { total: 0, failed: 0 },
      channels: [],
      invalidRecipes: 0,
      smart,
    });
    expect(text).toContain('berth_disk_smart_healthy{disk="sda"} 1\n');
    expect(text).toContain('berth_disk_asleep{disk="sda"} 1\n');
    expect(text).toContain('berth_disk_mount_free_bytes{disk="sda",mount="/srv/media"} 40960\n');
    expect(text).toContain('berth_disk_mount_free_bytes{disk="nvme0n1",mount="/var"} 4096\n');
    expect(text).toContain('berth_disk_temperature_celsius{disk="nvme0n1"} 40\n');
    expect(text).not.toContain('berth_disk_temperature_celsius{disk="sda"}');
  });

  it('checks at start and then on the interval it is given, one check at a time', async () => {
    let tick: (() => void) | undefined;
    let stopped = false;
    let lsblk = 0;
    const w = watchSmart({
      facts: { runner: async (argv, o) => (argv[0] === 'lsblk' && lsblk++, base(argv, o)) },
      places: () => [],
      emit: () => {},
      intervalMs: 1234,
      every: (fn, ms) => {
        expect(ms).toBe(1234);
        tick = fn;
        return () => (stopped = true);
      },
    });
    const stop = w.start();
    tick!();
    await w.check();
    expect(lsblk).toBe(1);
    tick!();
    await w.check();
    expect(lsblk).toBe(2);
    stop();
    expect(stopped).toBe(true);
  });

  it('is an incident: bad starts it, ok ends it', () => {
    expect(incidentOf({ kind: 'disk-smart-bad', subject: '/dev/sda' })).toEqual({
      key: 'disk-smart:/dev/sda',
      phase: 'start',
    });
    expect(incidentOf({ kind: 'disk-smart-ok', subject: '/dev/sda' })).toEqual({
      key: 'disk-smart:/dev/sda',
      phase: 'end',
    });
  });

  it("in the supervisor: a disabled app's disk is not asked", async () => {
    const calls: string[][] = [];
    const rt = { config: { dataDir: '/var/lib/berth' } } as Runtime;
    const log = { warn: () => {} } as unknown as Parameters<typeof smartWatch>[1];
    const apps = [APPS[0]!, app('backup', [{ name: 'dump', host: '/mnt/backup/dump' }], false)];
    const w = smartWatch(rt, log, { emit: async () => {} }, () => apps, {
      facts: { runner: fakeRunner({}, calls) },
    });
    await w.check();
    const asked = calls.filter((c) => c[0] === 'smartctl').map((c) => c.at(-1));
    expect(asked.sort()).toEqual(['/dev/nvme0n1', '/dev/sda']);
  });
});
