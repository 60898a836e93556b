// berth os's facts and commands on temp files: the full facts are the quick ones plus the
// slots (one IMAGE_ID check), one plain error from `berth os status`, an update refused while
// this version's boot state is unknown, `berth os apps` naming apps as berth's loader does,
// and the executor's handler map (complete by its type).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { runCli } from '../../src/cli/run.js';
import type { OsStepHandlers } from '../../src/os/execute.js';
import { OsFactsError, readOsFacts, readOsFactsQuick } from '../../src/os/facts.js';

let work: string;
const env = () => ({
  BERTH_OS_RELEASE: join(work, 'os-release'),
  BERTH_ESP_DIR: join(work, 'esp'),
  BERTH_DATA_DIR: join(work, 'data'),
  BERTH_RECIPES_DIR: join(work, 'recipes'),
  BERTH_OS_PUBRING: join(work, 'none.gpg'),
  PATH: process.env.PATH,
});

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(
    argv,
    COMMANDS,
    { out: (t) => out.push(t), err: (t) => err.push(t), isTty: false },
    env(),
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const sources = (release: string) => ({
  release: join(work, release),
  espDir: join(work, 'esp'),
  stateDir: join(work, 'data', 'os'),
  run: async () => ({ code: 0, stdout: '{"partitiontable":{"partitions":[]}}', stderr: '' }),
  disk: async () => '/dev/vda',
  pubring: join(work, 'none.gpg'),
});

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'berth-os-cli-'));
  await mkdir(join(work, 'esp', 'EFI', 'Linux'), { recursive: true });
  await mkdir(join(work, 'recipes'));
  await writeFile(join(work, 'esp', 'EFI', 'Linux', 'berth_0.1.0.efi'), '');
  await writeFile(join(work, 'berth-release'), 'ID=debian\nIMAGE_ID=berth\nIMAGE_VERSION=0.1.0\n');
  await writeFile(join(work, 'other-release'), 'ID=debian\nIMAGE_ID=other\nIMAGE_VERSION=4.2\n');
});
afterAll(() => rm(work, { recursive: true, force: true }));

describe('OS facts', () => {
  it('the full facts are the quick ones plus the slots and the key', async () => {
    const quick = await readOsFactsQuick(sources('berth-release'));
    const full = await readOsFacts(sources('berth-release'));
    expect(full).toEqual({ ...quick, slots: [], signed: false });
  });

  it('an image that is not berth (IMAGE_ID) is not one for the full facts either', async () => {
    expect(await readOsFactsQuick(sources('other-release'))).toBeUndefined();
    await expect(readOsFacts(sources('other-release'))).rejects.toThrow(OsFactsError);
  });
});

describe('berth os', () => {
  it('status without os-release says so once, plainly', async () => {
    const r = await cli(['os', 'status']);
    expect(r.code).not.toBe(0);
    expect(r.err).toBe(
      `berth: cannot read ${join(work, 'os-release')} (ENOENT): this is not a berth appliance image (berth os works there)`,
    );
  });

  it('update is refused when the boot state cannot be read', async () => {
    await mkdir(join(work, 'usb'), { recursive: true });
    const r = await cli(['os', 'update', '--from', join(work, 'usb'), '--no-verify']);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(
      /^berth: berth cannot tell whether this version was kept \(cannot read .*os-release/,
    );
  });

  it('apps lists what berth runs: .yml recipes too, by their name: field', async () => {
    await writeFile(join(work, 'recipes', 'web.yml'), 'name: web\nimage: localhost/x:1\n');
    await writeFile(join(work, 'recipes', 'media.yaml'), 'name: jellyfin\nimage: localhost/x:1\n');
    const r = await cli(['os', 'apps']);
    expect(r).toMatchObject({ code: 0, out: 'jellyfin\nweb' });
  });
});

describe('the OS executor', () => {
  it('needs a handler for every step kind (checked by the compiler)', () => {
    const reboot: OsStepHandlers['reboot'] = async () => {};
    // @ts-expect-error -- a map without every kind's handler does not compile
    const partial: OsStepHandlers = { reboot };
    expect(partial).toBeDefined();
  });
});

describe('berth os definitions', () => {
  it('refuses --no-verify for a URL, plainly', async () => {
    const r = await cli([
      'os',
      'definitions',
      '--out',
      join(work, 'defs'),
      '--from',
      'http://192.0.2.1/os',
      '--no-verify',
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      'berth: a URL source is always verified (Verify=yes): --no-verify is for update folders only',
    );
  });
});
