import { describe, expect, it } from 'vitest';
import { parseDisksSettings, spindownWanted } from '../../src/disks/settings.js';
import { planSpindown, spindownArgs, standbyCode, standbyText } from '../../src/disks/spindown.js';

const MIN = 60_000;

describe('hdparm -S counts', () => {
  it.each([
    [0, 0, 'never'],
    [1000, 1, '5s'],
    [5 * MIN, 60, '5m'],
    [20 * MIN, 240, '20m'],
    [21 * MIN, 241, '30m'], // rounded up: a disk never sleeps sooner than asked
    [60 * MIN, 242, '1h'],
    [330 * MIN, 251, '5h30m'],
  ])('%i ms → %i (%s)', (ms, code, text) => {
    expect(standbyCode(ms)).toBe(code);
    expect(standbyText(code)).toBe(text);
  });
  it('refuses more than 5h30m', () => expect(standbyCode(331 * MIN)).toBeUndefined());
});

const disks = [
  { name: 'sda', aliases: ['WD-123', 'ata-WDC_WD40-WD-123'], path: '/dev/sda', rotational: true },
  { name: 'nvme0n1', aliases: [], path: '/dev/nvme0n1', rotational: false },
];

describe('planSpindown', () => {
  it('sets each named spinning disk, by kernel name, serial or by-id name', () => {
    const plan = planSpindown(
      new Map([
        ['sda', 20 * MIN],
        ['WD-123', 0],
      ]),
      disks,
    );
    expect(plan.steps.map((s) => [s.disk, s.code, s.shown])).toEqual([
      ['sda', 240, '20m'],
      ['sda', 0, 'never'],
    ]);
    expect(spindownArgs(plan.steps[0]!)).toEqual(['-S', '240', '/dev/sda']);
  });
  it('says what it cannot do and sets nothing for it', () => {
    const plan = planSpindown(
      new Map([
        ['sdz', MIN],
        ['nvme0n1', MIN],
        ['sda', 400 * MIN],
      ]),
      disks,
    );
    expect(plan.steps).toEqual([]);
    expect(plan.notes.join('\n')).toMatch(/no disk sdz[\s\S]*not a spinning disk[\s\S]*at most 5h30m/);
  });
});

describe('disks.yaml', () => {
  it('takes kernel names, serials and by-id paths', () => {
    const r = parseDisksSettings(
      'disks.yaml',
      'disks:\n  sda: {spindown: 20m}\n  /dev/disk/by-id/ata-X: {spindown: "off"}\n',
    );
    expect(r.diagnostics).toEqual([]);
    expect([...spindownWanted(r.value!)]).toEqual([
      ['sda', 20 * MIN],
      ['ata-X', 0],
    ]);
  });
  it('names the file, line and field of a mistake', () => {
    const r = parseDisksSettings('disks.yaml', 'disks:\n  sda:\n    spindown: soon\n');
    expect(r.value).toBeUndefined();
    expect(r.diagnostics[0]).toMatchObject({ file: 'disks.yaml', line: 3 });
    expect(r.diagnostics[0]!.message).toMatch(/not a duration/);
  });
  it('refuses an unknown key', () => {
    const r = parseDisksSettings('disks.yaml', 'disks:\n  sda: {spindwn: 20m}\n');
    expect(r.diagnostics[0]!.message).toMatch(/unknown key 'spindwn'/);
  });
});
