// The supervisor sets disks.yaml's spin-down once per change of the file: setting a drive's
// timer wakes it, so an unchanged file is never applied again. A fake runner stands in for
// lsblk and hdparm.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Runner } from '../../src/process/run.js';
import { spindownKeeper } from '../../src/supervisor/spindown.js';

let dir: string;
let calls: string[][];
const LSBLK = JSON.stringify({
  blockdevices: [
    {
      name: 'sda',
      path: '/dev/sda',
      size: 4e12,
      type: 'disk',
      tran: 'sata',
      rota: true,
      serial: 'WD-1',
      mountpoints: [null],
    },
    {
      name: 'nvme0n1',
      path: '/dev/nvme0n1',
      size: 5e11,
      type: 'disk',
      tran: 'nvme',
      rota: false,
      mountpoints: ['/'],
    },
  ],
});
const run: Runner = async (argv) => {
  calls.push([...argv]);
  return argv[0] === 'lsblk' ? { code: 0, stdout: LSBLK, stderr: '' } : { code: 0, stdout: '', stderr: '' };
};
const hdparmCalls = () => calls.filter((c) => c[0] === '/usr/sbin/hdparm');

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-spindown-'));
  calls = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('applies the file once, again only when it changed, and nothing without one', async () => {
  const file = join(dir, 'disks.yaml');
  const keep = spindownKeeper(file, run, pino({ level: 'silent' }));
  await keep();
  expect(calls).toEqual([]);
  writeFileSync(file, 'disks:\n  WD-1: {spindown: 20m}\n');
  await keep();
  await keep();
  expect(hdparmCalls()).toEqual([['/usr/sbin/hdparm', '-S', '240', '/dev/sda']]);
  writeFileSync(file, 'disks:\n  sda: {spindown: 1h}\n');
  await keep();
  expect(hdparmCalls().at(-1)).toEqual(['/usr/sbin/hdparm', '-S', '242', '/dev/sda']);
  expect(hdparmCalls()).toHaveLength(2);
});

it('a file with a mistake sets nothing', async () => {
  const file = join(dir, 'disks.yaml');
  writeFileSync(file, 'disks:\n  sda: {spindown: soon}\n');
  await spindownKeeper(file, run, pino({ level: 'silent' }))();
  expect(calls).toEqual([]);
});
