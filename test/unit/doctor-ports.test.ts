// Host ports the recipes need: the kernel's socket tables, the process holding each, and
// whether it is the app itself. A fake /proc for faults, and a real listening socket.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AdvertiserChoice } from '../../src/advertise/choose.js';
import { makeFacts } from '../../src/doctor/checks.js';
import { portNeeds } from '../../src/doctor/needs.js';
import { checkPorts } from '../../src/doctor/ports.js';
import { formatAddress, overlaps, parseProcNet } from '../../src/doctor/procnet.js';
import type { DoctorDeps } from '../../src/doctor/types.js';
import { validApp } from '../helpers.js';
import { fakeDeps, link, put, recipe, tempDir } from './doctor-fixtures.js';

const CIAO: AdvertiserChoice = { kind: 'ciao', reason: '' };
const AVAHI: AdvertiserChoice = { kind: 'avahi', reason: '' };

const HEADER =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const row = (local: string, st: string, inode: number) =>
  `   0: ${local} 00000000:0000 ${st} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;
const hexPort = (p: number) => p.toString(16).toUpperCase().padStart(4, '0');
const V4_ANY = '00000000';
const V6_ANY = '0'.repeat(32);

interface FakeProc {
  pid: number;
  comm: string;
  ppid?: number;
  argv?: string[];
  cgroup?: string;
  sockets?: number[];
}

async function fakeProc(
  dir: string,
  tables: Partial<Record<'tcp' | 'tcp6' | 'udp' | 'udp6', string[]>>,
  procs: FakeProc[],
) {
  const proc = join(dir, 'proc');
  for (const t of ['tcp', 'tcp6', 'udp', 'udp6'] as const)
    await put(join(proc, 'net', t), HEADER + (tables[t] ?? []).join(''));
  for (const p of procs) {
    const base = join(proc, String(p.pid));
    await put(join(base, 'comm'), `${p.comm}\n`);
    await put(join(base, 'status'), `Name:\t${p.comm}\nPPid:\t${p.ppid ?? 1}\n`);
    await put(join(base, 'cmdline'), `${(p.argv ?? [p.comm]).join('\0')}\0`);
    await put(join(base, 'cgroup'), p.cgroup ?? '0::/system.slice/other.service\n');
    for (const [i, inode] of (p.sockets ?? []).entries())
      await link(join(base, 'fd', String(i + 3)), `socket:[${inode}]`);
  }
  return proc;
}

async function depsWith(dir: string, recipes: string[], over: Partial<DoctorDeps> = {}) {
  for (const [i, text] of recipes.entries()) await put(join(dir, 'recipes', `r${i}.yaml`), text);
  return fakeDeps({ dir, ...over });
}

const samba = recipe('samba', 'network: host\nadvertise:\n  - {type: _smb._tcp, port: 445}\n').replace(
  'busybox:1.35.0',
  'samba:12',
);
const minidlna = `name: media
image: localhost/berth/minidlna:12
network: host
files:
  minidlna.conf:
    target: /etc/minidlna.conf
    content: |
      port=8201
`;
const web = (port: number, bind = '') => recipe('web', `ports: ["${bind}${port}:80"]\n`);

describe('the kernel socket tables', () => {
  it('reads addresses in host word order, IPv4 and IPv6', () => {
    expect(formatAddress('0100007F')).toBe('127.0.0.1');
    expect(formatAddress(V6_ANY)).toBe('::');
    expect(formatAddress('00000000000000000000000001000000')).toBe('::1');
    expect(formatAddress('0000000000000000FFFF00000100007F')).toBe('::ffff:127.0.0.1');
    expect(formatAddress('B80D0120000000000000000001000000')).toBe('2001:db8::1');
  });

  it('keeps listening TCP sockets and every bound UDP socket', () => {
    const tcp = HEADER + row(`${V4_ANY}:${hexPort(80)}`, '0A', 11) + row(`0100007F:${hexPort(81)}`, '01', 12);
    expect(parseProcNet(tcp, 'tcp')).toEqual([{ protocol: 'tcp', address: '0.0.0.0', port: 80, inode: 11 }]);
    expect(parseProcNet(HEADER + row(`${V4_ANY}:${hexPort(5353)}`, '07', 13), 'udp')).toHaveLength(1);
  });

  it('knows which bound addresses keep a bind from working', () => {
    expect(overlaps(undefined, '127.0.0.1')).toBe(true);
    expect(overlaps('127.0.0.1', '0.0.0.0')).toBe(true);
    expect(overlaps('127.0.0.1', '::')).toBe(true);
    expect(overlaps('127.0.0.1', '127.0.0.2')).toBe(false);
    expect(overlaps('::1', '0.0.0.0')).toBe(false);
    expect(overlaps('0.0.0.0', '::1')).toBe(false);
  });
});

describe('which ports the recipes need', () => {
  it('published ports of bridge apps; advertised and well-known ports of host apps; mDNS for berth', () => {
    const apps = [validApp(web(8080, '127.0.0.1:')), validApp(samba), validApp(minidlna)];
    const needs = portNeeds(apps, CIAO).map((n) => `${n.app} ${n.bind ?? '*'} ${n.port}/${n.protocol}`);
    expect(needs).toEqual([
      'web 127.0.0.1 8080/tcp',
      'samba * 445/tcp',
      'samba * 139/tcp',
      'samba * 137/udp',
      'samba * 138/udp',
      'media * 1900/udp',
      'media * 8201/tcp',
      'berth * 5353/udp',
    ]);
    expect(portNeeds(apps, { kind: 'off', reason: '' }).some((n) => n.port === 5353)).toBe(false);
    expect(portNeeds([validApp(recipe('off', 'enabled: false\nports: ["9000:80"]'))], CIAO)).toEqual([]);
  });
});

describe('ports held by other processes (fake /proc)', () => {
  async function scene(advertiser: AdvertiserChoice, withSmbd = true) {
    const dir = await tempDir();
    const procRoot = await fakeProc(
      dir,
      {
        tcp: [
          ...(withSmbd ? [row(`${V4_ANY}:${hexPort(445)}`, '0A', 1001)] : []),
          row(`${V4_ANY}:${hexPort(8201)}`, '0A', 1005),
        ],
        tcp6: [row(`${V6_ANY}:${hexPort(8080)}`, '0A', 1004)],
        udp: [row(`${V4_ANY}:${hexPort(5353)}`, '07', 1002), row(`${V4_ANY}:${hexPort(1900)}`, '07', 1003)],
      },
      [
        { pid: 100, comm: 'smbd', argv: ['/usr/sbin/smbd', '--foreground'], sockets: withSmbd ? [1001] : [] },
        { pid: 200, comm: 'avahi-daemon', sockets: [1002] },
        // media is already running: its minidlnad descends from the conmon of container berth-media
        { pid: 300, comm: 'conmon', argv: ['/usr/bin/conmon', '--api-version', '1', '-n', 'berth-media'] },
        { pid: 301, comm: 'catatonit', ppid: 300 },
        { pid: 302, comm: 'minidlnad', ppid: 301, sockets: [1003, 1005] },
        // web's published port, held from inside its unit's cgroup
        {
          pid: 400,
          comm: 'conmon',
          cgroup: '1:name=systemd:/system.slice/berth-web.service\n',
          sockets: [1004],
        },
      ],
    );
    const deps = await depsWith(dir, [web(8080), samba, minidlna], { procRoot });
    const facts = { ...makeFacts(deps), advertiser: async () => advertiser };
    return checkPorts(deps, facts);
  }

  it("names the foreign holder; the app's own processes and avahi-daemon (with the avahi advertiser) are fine", async () => {
    const results = await scene(AVAHI);
    expect(results).toEqual([
      {
        id: 'port-445-tcp-samba',
        status: 'fail',
        summary: 'port 445/tcp, which samba needs (advertised _smb._tcp), is held by smbd (pid 100)',
        fix: "Stop smbd (pid 100), or change samba's recipe so it does not need 445/tcp.",
      },
    ]);
  });

  it('held only by the apps themselves (and avahi-daemon for mDNS): one ok line that says so', async () => {
    expect(await scene(AVAHI, false)).toEqual([
      {
        id: 'ports',
        status: 'ok',
        summary:
          "8 host ports the recipes need: none held by another program; 3 held by the apps' own running processes",
      },
    ]);
  });

  it('with ciao, avahi-daemon on 5353 is a warning that says to use it', async () => {
    const results = await scene(CIAO);
    const mdns = results.find((r) => r.id === 'port-5353-udp-berth');
    expect(mdns).toMatchObject({
      status: 'warn',
      summary: 'port 5353/udp, which berth needs (mDNS), is held by avahi-daemon (pid 200)',
      fix: 'Set BERTH_ADVERTISER=avahi so berth publishes through avahi-daemon instead of answering mDNS itself.',
    });
  });

  it("another app's container holding the port is named as such", async () => {
    const dir = await tempDir();
    const procRoot = await fakeProc(dir, { tcp: [row(`0100007F:${hexPort(8080)}`, '0A', 7)] }, [
      { pid: 50, comm: 'conmon', argv: ['/usr/bin/conmon', '-n', 'berth-old'], sockets: [7] },
    ]);
    const deps = await depsWith(dir, [web(8080, '127.0.0.1:')], { procRoot });
    const [r] = await checkPorts(deps, makeFacts(deps));
    expect(r!.summary).toBe(
      'port 127.0.0.1:8080/tcp, which web needs (published to 80/tcp), is held by conmon (pid 50, container berth-old) on 127.0.0.1',
    );
  });

  it("the status page's port counts (port 80 by default for the system service)", async () => {
    const dir = await tempDir();
    const procRoot = await fakeProc(dir, {}, []);
    const deps = await depsWith(dir, [web(8080)], { procRoot, env: {} });
    expect((await checkPorts(deps, makeFacts(deps)))[0]?.summary).toBe(
      '2 host ports the recipes need: none held by another program',
    );
  });

  it('all free is one ok line', async () => {
    const dir = await tempDir();
    const procRoot = await fakeProc(dir, {}, []);
    const deps = await depsWith(dir, [web(8080)], { procRoot });
    expect(await checkPorts(deps, makeFacts(deps))).toEqual([
      {
        id: 'ports',
        status: 'ok',
        summary: '1 host port the recipes need: none held by another program',
      },
    ]);
  });
});

describe('a port held by a real listening socket', () => {
  it('names this very process', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const dir = await tempDir();
      const deps = await depsWith(dir, [web(port, '127.0.0.1:')], { procRoot: '/proc' });
      const results = await checkPorts(deps, makeFacts(deps));
      const comm = readFileSync('/proc/self/comm', 'utf8').trim();
      expect(results).toHaveLength(1);
      expect(results[0]).toMatchObject({
        id: `port-${port}-tcp-web`,
        status: 'fail',
        summary: `port 127.0.0.1:${port}/tcp, which web needs (published to 80/tcp), is held by ${comm} (pid ${process.pid}) on 127.0.0.1`,
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
