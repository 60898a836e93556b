// The QEMU stages tell an emulator crash (a guest kernel oops or panic, QEMU dying) from a
// berth failure (test/os-image/qemu-crash.sh): only the first is booted once more.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const HELPER = join(import.meta.dirname, '../os-image/qemu-crash.sh');
const work = mkdtempSync(join(tmpdir(), 'berth-qemu-crash-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function crash(consoleText: string, rc: number, qemuErr = ''): string {
  writeFileSync(join(work, 'serial.log'), consoleText);
  writeFileSync(join(work, 'qemu.err'), qemuErr);
  const r = spawnSync(
    'bash',
    ['-c', `. "$1"; emulator_crash "$2/serial.log" "$2/qemu.err" "$3"`, 'x', HELPER, work, String(rc)],
    { encoding: 'utf8' },
  );
  expect(r.status).toBe(0);
  return r.stdout.trim();
}

const BOOT =
  '[    3.120000] virtio_blk virtio1: [vda] 16777216 512-byte logical blocks\r\nberth: ready, 2 apps running, 0 failed\r\n';

describe('emulator crashes on the console', () => {
  it.each([
    [
      'a panic',
      '[  210.551201] Kernel panic - not syncing: Fatal exception in interrupt\r\n',
      /guest kernel crashed: Kernel panic/,
    ],
    [
      'an oops',
      '[   88.000001] Oops: general protection fault, probably for non-canonical address 0xdead: 0000 [#1] PREEMPT SMP NOPTI\r\n',
      /guest kernel crashed: Oops: general protection fault/,
    ],
    [
      'a kernel BUG',
      '[   12.5] BUG: unable to handle page fault for address: ffff\r\n',
      /guest kernel crashed: BUG: unable to handle/,
    ],
    ['an invalid opcode', '[   40.000000] invalid opcode: 0000 [#1] SMP\r\n', /invalid opcode/],
  ])('%s is an emulator crash', (_n, line, want) => expect(crash(BOOT + line, 0)).toMatch(want));

  it('QEMU dying of a signal, or saying it hit a fatal error, is one too', () => {
    expect(crash(BOOT, 139)).toBe('QEMU died of signal 11');
    expect(crash(BOOT, 1, 'qemu-system-x86_64: ../tcg/tcg.c:3950: tcg fatal error\n')).toMatch(
      /^QEMU crashed: .*tcg fatal error/,
    );
  });

  it.each([
    ['a failed self-test', BOOT + 'berth-selftest: FAIL: berth.service active\r\n', 0],
    ['no power-off within the limit', BOOT, 124],
    [
      'berth printing the word Oops in its own line',
      BOOT + 'berth: Oops: the recipe web.yaml:3 has no image\r\n',
      0,
    ],
    [
      'a health gate that reboots',
      BOOT + 'berth-os: version 0.1.0.3 is not healthy: berth.service did not start; rebooting\r\n',
      0,
    ],
  ])('%s is a berth outcome, not retried', (_n, text, rc) => expect(crash(text, rc)).toBe(''));
});
