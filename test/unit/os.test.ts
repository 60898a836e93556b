// The OS update pipeline's pure parts, as tables: versions, kernel image names with boot
// counters, the partition table, the status, the plans, and the sysupdate definitions
// (golden files in test/fixtures/os, UPDATE_GOLDEN=1 rewrites them).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEntry, parseSlots } from '../../src/os/entries.js';
import { nothingNewer } from '../../src/os/execute.js';
import { planOsRollback, planOsUpdate, type UpdateRequest } from '../../src/os/plan.js';
import { NO_REASON, type OsFacts, osStatus, osStatusLine, renderOsStatus } from '../../src/os/status.js';
import { renderTransfers, type TransferOptions } from '../../src/os/transfers.js';
import { compareVersions, parseOsRelease } from '../../src/os/version.js';

describe('versions', () => {
  const cases: [string, string, number][] = [
    ['0.1.0', '0.1.0', 0],
    ['0.1.0', '0.1.1', -1],
    ['0.1.0', '0.1.0.2', -1],
    ['0.1.10', '0.1.9', 1],
    ['1.0~rc1', '1.0', -1],
    ['2.0', '10.0', -1],
    ['1.0a', '1.0', 1],
  ];
  it.each(cases)('%s vs %s', (a, b, want) => {
    expect(Math.sign(compareVersions(a, b))).toBe(want);
    expect(Math.sign(compareVersions(b, a)) || 0).toBe(-want || 0);
  });
  it('reads IMAGE_VERSION from os-release, quoted or not', () => {
    expect(
      parseOsRelease('PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nIMAGE_ID=berth\nIMAGE_VERSION="0.1.0"\n'),
    ).toEqual({
      prettyName: 'Debian GNU/Linux 13 (trixie)',
      imageId: 'berth',
      imageVersion: '0.1.0',
    });
  });
});

describe('kernel image names (systemd-boot boot counting)', () => {
  const cases: [string, ReturnType<typeof parseEntry>][] = [
    ['berth_0.1.0.efi', { version: '0.1.0', file: 'berth_0.1.0.efi', state: 'good' }],
    [
      'berth_0.2.0+3.efi',
      { version: '0.2.0', file: 'berth_0.2.0+3.efi', state: 'trying', triesLeft: 3, triesDone: 0 },
    ],
    [
      'berth_0.2.0+2-1.efi',
      { version: '0.2.0', file: 'berth_0.2.0+2-1.efi', state: 'trying', triesLeft: 2, triesDone: 1 },
    ],
    [
      'berth_0.3.0+0-3.efi',
      { version: '0.3.0', file: 'berth_0.3.0+0-3.efi', state: 'bad', triesLeft: 0, triesDone: 3 },
    ],
    ['berth_1.0~rc1.efi', { version: '1.0~rc1', file: 'berth_1.0~rc1.efi', state: 'good' }],
    ['other_0.1.0.efi', undefined],
    ['berth_.efi', undefined],
    ['.#sysupdateberth_0.2.0+3-0.efi1234', undefined],
  ];
  it.each(cases)('%s', (file, want) => expect(parseEntry(file)).toEqual(want));
});

const SFDISK = JSON.stringify({
  partitiontable: {
    label: 'gpt',
    sectorsize: 512,
    partitions: [
      {
        node: '/dev/vda1',
        start: 2048,
        size: 524288,
        type: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
        name: 'esp',
      },
      {
        node: '/dev/vda3',
        start: 657408,
        size: 4194304,
        type: '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709',
        name: 'berth-root_0.1.0',
      },
      {
        node: '/dev/vda4',
        start: 4851712,
        size: 4194304,
        type: '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709',
        name: '_empty',
      },
      {
        node: '/dev/vda5',
        start: 9046016,
        size: 1839104,
        type: '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
        name: 'berth-var',
      },
    ],
  },
});

describe('root slots from the partition table', () => {
  it('lists the root-type partitions with their versions', () => {
    expect(parseSlots(SFDISK)).toEqual([
      { node: '/dev/vda3', label: 'berth-root_0.1.0', version: '0.1.0', sizeBytes: 4194304 * 512 },
      { node: '/dev/vda4', label: '_empty', sizeBytes: 4194304 * 512 },
    ]);
  });
});

const e = (file: string) => parseEntry(file)!;
const facts = (f: Partial<OsFacts>): OsFacts => ({ version: '0.2.0', entries: [], failures: {}, ...f });

describe('berth os status', () => {
  const cases: [string, OsFacts, Partial<ReturnType<typeof osStatus>>][] = [
    [
      'the factory version, good, other slot empty',
      facts({ version: '0.1.0', entries: [e('berth_0.1.0.efi')], slots: parseSlots(SFDISK) }),
      {
        boot: { state: 'good' },
        otherSlot: { node: '/dev/vda4' },
      },
    ],
    [
      'a new version on trial',
      facts({ entries: [e('berth_0.1.0.efi'), e('berth_0.2.0+2-1.efi')] }),
      {
        boot: { state: 'trying', triesLeft: 2 },
      },
    ],
    [
      'installed, not booted yet',
      facts({ version: '0.1.0', entries: [e('berth_0.1.0.efi'), e('berth_0.2.0+3-0.efi')] }),
      {
        boot: { state: 'good' },
        next: '0.2.0',
      },
    ],
    [
      "rolled back, with the gate's reason",
      facts({
        entries: [e('berth_0.2.0.efi'), e('berth_0.3.0+0-3.efi')],
        failures: { '0.3.0': 'berth.service did not start' },
      }),
      {
        boot: { state: 'good' },
        rolledBack: { from: '0.3.0', reason: 'berth.service did not start' },
      },
    ],
    [
      'rolled back from a version that never got as far as the gate',
      facts({ entries: [e('berth_0.2.0.efi'), e('berth_0.3.0+0-3.efi')] }),
      {
        rolledBack: { from: '0.3.0', reason: NO_REASON },
      },
    ],
    [
      'an older failed version is no rollback',
      facts({ entries: [e('berth_0.1.0+0-3.efi'), e('berth_0.2.0.efi')] }),
      {
        boot: { state: 'good' },
      },
    ],
  ];
  it.each(cases)('%s', (_n, f, want) => {
    const s = osStatus(f);
    expect(s).toMatchObject(want);
    if (!('rolledBack' in want)) expect(s.rolledBack).toBeUndefined();
    expect(renderOsStatus(s).length).toBeGreaterThan(2);
  });
  it('an image built without a signing key says "unsigned updates"; a signed one does not', () => {
    const unsigned = renderOsStatus(osStatus(facts({ entries: [e('berth_0.2.0.efi')], signed: false })));
    expect(unsigned.join('\n')).toMatch(/^Updates: +unsigned updates \(/m);
    const signed = renderOsStatus(osStatus(facts({ entries: [e('berth_0.2.0.efi')], signed: true })));
    expect(signed.join('\n')).not.toMatch(/unsigned/);
  });
  it('says the rollback on one line a person and the update test read', () => {
    const s = osStatus(
      facts({
        entries: [e('berth_0.2.0.efi'), e('berth_0.3.0+0-1.efi')],
        failures: { '0.3.0': 'the app samba did not start again within 900 s (failed)' },
      }),
    );
    expect(renderOsStatus(s)).toContain(
      'Rolled back from 0.3.0: the app samba did not start again within 900 s (failed)',
    );
  });
});

describe('the OS line of berth status', () => {
  const cases: [string, OsFacts, string | undefined][] = [
    ['nothing to say on a good version', facts({ entries: [e('berth_0.2.0.efi')] }), undefined],
    [
      'a rollback, with its reason',
      facts({
        entries: [e('berth_0.2.0.efi'), e('berth_0.3.0+0-3.efi')],
        failures: { '0.3.0': 'berth did not report ready within 900 s' },
      }),
      'OS: running 0.2.0; rolled back from 0.3.0: berth did not report ready within 900 s (berth os status)',
    ],
    [
      'a version on trial',
      facts({ entries: [e('berth_0.1.0.efi'), e('berth_0.2.0+1-2.efi')] }),
      'OS: 0.2.0 is on trial (1 try left); it is kept once berth and the apps are up (berth os status)',
    ],
  ];
  it.each(cases)('%s', (_n, f, want) => expect(osStatusLine(osStatus(f))).toBe(want));
});

describe('plans', () => {
  const STAGING = '/var/lib/berth/os/staging';
  const base: UpdateRequest = {
    source: { kind: 'dir', path: '/media/usb/os-update-0.2.0' },
    checkOnly: false,
    reboot: false,
    verify: true,
    hasKey: true,
    tries: 3,
    boot: 'good',
    stagingDir: STAGING,
  };
  const kinds = (r: Partial<UpdateRequest>) =>
    planOsUpdate({ ...base, ...r }).steps.map((s) => (s.kind === 'install' ? `install ${s.part}` : s.kind));
  // Check first; the kernel image last, once the root is written and the settings carried.
  const INSTALL = ['remember-apps', 'install root', 'carry-over', 'install kernel'];
  const FROM_DIR = ['write-definitions', 'stage', 'check-new', ...INSTALL, 'clear-staging'];
  const URL = { kind: 'url', url: 'https://example.org/berth' } as const;
  const cases: [string, Partial<UpdateRequest>, string[] | RegExp][] = [
    ['from a directory: berth copies it and checks the copy', {}, FROM_DIR],
    ['from a URL: sysupdate checks it', { source: URL }, ['write-definitions', 'check-new', ...INSTALL]],
    ['--check only looks', { checkOnly: true }, ['write-definitions', 'stage', 'check-new', 'clear-staging']],
    ['--reboot reboots last', { reboot: true }, [...FROM_DIR, 'reboot']],
    ['no source at all', { source: undefined }, /no update source/],
    [
      'not while this version is on trial: the other slot holds the last good one',
      { boot: 'trying' },
      /still on trial/,
    ],
    [
      'not when this version is unknown (no kernel image)',
      { boot: 'unknown' },
      /cannot tell\s+that it was kept/,
    ],
    [
      'not when the boot state could not be read',
      { boot: { unreadable: 'no /efi' } },
      /cannot tell.*no \/efi/,
    ],
    ['not when this version was set aside', { boot: 'set-aside' }, /set aside/],
    [
      '--check while on trial only looks',
      { boot: 'trying', checkOnly: true },
      ['write-definitions', 'stage', 'check-new', 'clear-staging'],
    ],
    ['no key in the image and no --no-verify', { hasKey: false }, /no key to check update signatures/],
    ['no key, --no-verify', { hasKey: false, verify: false }, FROM_DIR],
    ['--no-verify from a URL', { source: URL, verify: false }, /--no-verify is refused for a URL/],
    [
      'http:// with --no-verify',
      { source: { kind: 'url', url: 'http://192.168.1.5/os' }, verify: false },
      /refused for a URL \(http:\/\//,
    ],
    [
      'http:// on an image without a key',
      { source: { kind: 'url', url: 'http://192.168.1.5/os' }, hasKey: false },
      /URL is taken only with signatures checked/,
    ],
    [
      'http:// signed',
      { source: { kind: 'url', url: 'http://192.168.1.5/os' } },
      ['write-definitions', 'check-new', ...INSTALL],
    ],
  ];
  it.each(cases)('%s', (_n, r, want) => {
    if (want instanceof RegExp) expect(() => kinds(r)).toThrow(want);
    else expect(kinds(r)).toEqual(want);
  });
  it('--no-verify is said, and the staged copy is then checked against SHA256SUMS only', () => {
    const p = planOsUpdate({ ...base, verify: false });
    expect(p.notes.join()).toMatch(/not checked/);
    expect(p.steps[1]).toEqual({
      kind: 'stage',
      from: '/media/usb/os-update-0.2.0',
      to: STAGING,
      signature: false,
    });
  });
  it('sysupdate reads only the staged copy of a folder, never the folder itself', () => {
    const sources = planOsUpdate(base).steps.flatMap((s) => ('source' in s ? [s.source] : []));
    expect(sources.length).toBe(4);
    for (const src of sources) expect(src).toEqual({ kind: 'dir', path: STAGING });
  });

  const slots = parseSlots(SFDISK.replace('"_empty"', '"berth-root_0.2.0"'));
  const rb: [string, OsFacts, string[] | RegExp][] = [
    [
      'back to the good older version',
      facts({ slots, entries: [e('berth_0.1.0.efi'), e('berth_0.2.0.efi')] }),
      ['carry-over', 'mark-failed'],
    ],
    [
      'never to a version that failed',
      facts({ version: '0.1.0', slots, entries: [e('berth_0.1.0.efi'), e('berth_0.2.0+0-3.efi')] }),
      /failed when it was tried/,
    ],
    [
      'never to a version that was installed but never kept',
      facts({ version: '0.1.0', slots, entries: [e('berth_0.1.0.efi'), e('berth_0.2.0+3-0.efi')] }),
      /never kept/,
    ],
    [
      'nothing in the other slot',
      facts({ version: '0.1.0', slots: parseSlots(SFDISK), entries: [e('berth_0.1.0.efi')] }),
      /nothing to go back to/,
    ],
  ];
  it.each(rb)('rollback: %s', (_n, f, want) => {
    const run = () => planOsRollback(osStatus(f), false).map((s) => s.kind);
    if (want instanceof RegExp) expect(run).toThrow(want);
    else expect(run()).toEqual(want);
  });
});

describe('sysupdate definitions (golden)', () => {
  const cases: [string, TransferOptions][] = [
    ['dir', { source: { kind: 'dir', path: '/media/usb' }, tries: 3, verify: true }],
    [
      'url',
      { source: { kind: 'url', url: 'https://updates.example.org/berth/100%/' }, tries: 3, verify: true },
    ],
    [
      'url-http-one-try',
      { source: { kind: 'url', url: 'http://192.168.1.5:8000/os' }, tries: 1, verify: true },
    ],
    [
      'image-file',
      {
        source: { kind: 'dir', path: '/x' },
        tries: 2,
        verify: false,
        disk: '/work/disk.img',
        ukiDir: '/work/esp/EFI/Linux',
      },
    ],
  ];
  it.each(cases)('%s', (name, o) => {
    const files = renderTransfers(o);
    const text = Object.entries(files)
      .map(([n, t]) => `=== ${n}\n${t}`)
      .join('');
    const golden = join(import.meta.dirname, '../fixtures/os', `${name}.transfers`);
    if (process.env.UPDATE_GOLDEN === '1' || !existsSync(golden)) writeFileSync(golden, text);
    expect(text).toBe(readFileSync(golden, 'utf8'));
  });
  const bad: [string, TransferOptions, RegExp][] = [
    [
      'a newline in the URL cannot add a directive',
      { source: { kind: 'url', url: 'https://x.org/a\nVerify=no' }, tries: 3, verify: true },
      /not a URL|control/,
    ],
    [
      'a space in the URL',
      { source: { kind: 'url', url: 'https://x.org/a b' }, tries: 3, verify: true },
      /spaces|not a URL/,
    ],
    [
      'file:// is not a source',
      { source: { kind: 'url', url: 'file:///etc' }, tries: 3, verify: true },
      /not supported/,
    ],
    [
      'a query string',
      { source: { kind: 'url', url: 'https://x.org/os?x=1' }, tries: 3, verify: true },
      /directory/,
    ],
    ['tries out of range', { source: { kind: 'dir', path: '/x' }, tries: 0, verify: true }, /1 to 9/],
    [
      'a URL without verification',
      { source: { kind: 'url', url: 'http://192.168.1.5:8000/os' }, tries: 1, verify: false },
      /always verified/,
    ],
    [
      'a relative disk',
      { source: { kind: 'dir', path: '/x' }, tries: 3, verify: true, disk: 'disk.img' },
      /absolute/,
    ],
  ];
  it.each(bad)('refused: %s', (_n, o, re) => expect(() => renderTransfers(o)).toThrow(re));
});

describe("sysupdate check-new's exit 1: nothing newer or a failure", () => {
  const PROGRESS =
    'Discovering installed instances…\nDiscovering available instances…\nDetermining installed update sets…\nDetermining available update sets…\n';
  // What trixie's sysupdate 257 printed here for a signed URL offering the installed version.
  const URL_NOTHING =
    'Discovering installed instances…\nDiscovering available instances…\n⤵️ Acquiring manifest file http://127.0.0.1:42607/0.1.0.7/SHA256SUMS…\nPulling \'http://127.0.0.1:42607/0.1.0.7/SHA256SUMS\'.\nAcquired 176B.\nDownload of http://127.0.0.1:42607/0.1.0.7/SHA256SUMS complete.\nAcquired 119B.\nDownload of http://127.0.0.1:42607/0.1.0.7/SHA256SUMS.gpg complete.\ngpg: Signature made Mon Dec  7 18:55:44 2026 UTC\ngpg:                using EDDSA key 3BF74E2A59CA92864F2EA8D415C3216E790357F3\ngpg: Good signature from "berth test <test@berth.invalid>" [unknown]\ngpg: WARNING: Using untrusted key!\nSignature verification succeeded.\nOperation completed successfully.\nExiting.\nDetermining installed update sets…\nDetermining available update sets…\n';
  const URL_404 =
    "Discovering installed instances…\nDiscovering available instances…\n⤵️ Acquiring manifest file http://127.0.0.1:41519/0.1.0.7/SHA256SUMS…\nPulling 'http://127.0.0.1:41519/0.1.0.7/SHA256SUMS'.\nHTTP request to http://127.0.0.1:41519/0.1.0.7/SHA256SUMS failed with code 404.\nFailed to retrieve image file. (Wrong URL?)\nExiting.\n(sd-pull) failed with exit status 1.\n";
  const BAD_SIG = URL_NOTHING.replace('Signature verification succeeded.', 'Signature verification failed.');
  it.each([
    ['only progress lines', PROGRESS, true],
    ['a signed URL with nothing newer', URL_NOTHING, true],
    ['a URL that answers 404', URL_404, false],
    ['a bad signature', BAD_SIG, false],
    ['an error after discovery', `${PROGRESS}Failed to read partition table: No such device\n`, false],
  ])('%s', (_n, stderr, want) => expect(nothingNewer(stderr)).toBe(want));
});
