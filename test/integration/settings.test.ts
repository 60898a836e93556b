// Importing a BERTH partition's folder into a scratch root with the system's real tools
// (chpasswd hashes, chage expires, ssh-keygen makes the key): what a person puts there at
// flash time, and the mistakes they make, against what lands on the machine.
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers.js';
import { ONE_TIME_ISSUE, KEYS_FILE, PASSWORD_LOGIN_CONF } from '../../src/settings/execute.js';
import { settingsStatusLine } from '../../src/settings/record.js';

const REPO = join(import.meta.dirname, '../..');
let dir: string;
let root: string;
let part: string;
let env: NodeJS.ProcessEnv;
let key: string;

const berth = (...argv: string[]) => runBerth(argv, env);
const read = (p: string) => readFileSync(p, 'utf8');
const shadowRoot = () => read(join(root, 'etc/shadow')).split('\n')[0]!.split(':');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-settings-'));
  root = join(dir, 'root');
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\n');
  writeFileSync(join(root, 'etc/shadow'), 'root:*:20000:0:99999:7:::\n', { mode: 0o600 });
  writeFileSync(join(root, 'etc/hosts'), '127.0.0.1\tlocalhost\n127.0.1.1\tberth\n');
  cpSync('/usr/share/zoneinfo/Europe/Berlin', join(root, 'usr/share/zoneinfo/Europe/Berlin'), {
    recursive: true,
  });
  mkdirSync(join(dir, 'recipes'));
  cpSync(join(REPO, 'recipes/samba.yaml'), join(dir, 'recipes/samba.yaml'));
  part = join(dir, 'BERTH', 'berth');
  cpSync(join(REPO, 'image-build/settings/berth'), part, { recursive: true });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'me@laptop', '-f', join(dir, 'id')]);
  key = read(join(dir, 'id.pub')).trim();
  env = {
    PATH: process.env.PATH,
    BERTH_SETTINGS_DIR: part,
    BERTH_RECIPES_DIR: join(dir, 'recipes'),
    BERTH_DATA_DIR: join(dir, 'data'),
    BERTH_HOSTNAME: 'berth',
  };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('berth settings import', () => {
  it('the shipped examples alone change nothing but give the console a one-time password', async () => {
    const r = await berth('settings', 'import', '--root', root);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/one-time root password/);
    const issue = read(join(root, ONE_TIME_ISSUE));
    const otp = /password {2}(\S+)/.exec(issue)![1]!;
    expect(otp).toMatch(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
    const [, hash, lastchg] = shadowRoot();
    expect(hash).toMatch(/^\$y\$/); // yescrypt, by chpasswd
    expect(lastchg).toBe('0'); // to be changed at the first login
    expect(existsSync(join(root, 'etc/hostname'))).toBe(false); // no name given: left alone
    expect(read(join(root, KEYS_FILE))).not.toMatch(/^ssh-/m); // the example has none
    const report = read(join(part, 'REPORT.txt'));
    expect(report).toContain('one-time password shown on the screen');
    expect(report).not.toContain(otp);
    // A second boot with nothing changed: nothing new, the one-time password stays.
    const again = await berth('settings', 'import', '--root', root);
    expect(again.out).toMatch(/nothing new/);
    expect(read(join(root, ONE_TIME_ISSUE))).toBe(issue);
  });

  it('takes a key, a name, a time zone, a password and a good recipe; reports the bad ones by file:line', async () => {
    writeFileSync(join(part, 'authorized_keys'), `# mine\r\n${key}\r\n`);
    writeFileSync(join(part, 'hostname.txt'), 'nas-test\r\n'); // Notepad adds .txt
    rmSync(join(part, 'hostname'));
    writeFileSync(join(part, 'timezone'), 'Europe/Berlin\n');
    writeFileSync(join(part, 'password'), '# mine\ncorrect horse battery\n');
    writeFileSync(join(part, 'hostnme'), 'typo\n');
    writeFileSync(
      join(part, 'recipes/whoami.yaml'),
      'name: whoami\nimage: localhost/berth/samba:12\nentrypoint: [sleep, infinity]\nnetwork: none\n',
    );
    // Port 445 is samba's already: the same cross-check as `berth validate` keeps it out.
    writeFileSync(
      join(part, 'recipes/clash.yaml'),
      'name: clash\nimage: localhost/x:1\nports:\n  - "445:445"\n',
    );
    writeFileSync(join(part, 'recipes/typo.yaml'), 'name: typo\nimage: localhost/x:1\nrestrat: always\n');
    writeFileSync(join(part, 'recipes/evil\u001b[2J.yaml'), 'name: evil\nimage: localhost/x:1\n');

    const r = await berth('settings', 'import', '--root', root);
    expect(r.code).toBe(1); // something was not taken
    expect(read(join(root, 'etc/hostname'))).toBe('nas-test\n');
    expect(read(join(root, 'etc/hosts'))).toContain('127.0.1.1\tnas-test');
    expect(readlinkSync(join(root, 'etc/localtime'))).toBe('/usr/share/zoneinfo/Europe/Berlin');
    expect(read(join(root, KEYS_FILE))).toContain(key);
    const [, hash, lastchg] = shadowRoot();
    expect(hash).toMatch(/^\$y\$/);
    expect(lastchg).not.toBe('0');
    expect(existsSync(join(root, ONE_TIME_ISSUE))).toBe(false);
    // The clear text is gone from the partition, and from everything berth keeps.
    expect(read(join(part, 'password'))).not.toContain('correct horse');
    const kept = readdirSync(join(dir, 'data'), { recursive: true, withFileTypes: true }).filter((e) =>
      e.isFile(),
    );
    expect(kept.length).toBeGreaterThan(0);
    for (const e of kept) expect(read(join(e.parentPath, e.name))).not.toContain('correct horse');
    expect(read(join(dir, 'recipes/whoami.yaml'))).toContain('name: whoami');
    for (const bad of ['clash.yaml', 'typo.yaml']) expect(existsSync(join(dir, 'recipes', bad))).toBe(false);
    expect(existsSync(join(root, PASSWORD_LOGIN_CONF))).toBe(false);

    const report = read(join(part, 'REPORT.txt'));
    expect(report).toMatch(/berth\/recipes\/clash\.yaml:4: .*445/);
    expect(report).toMatch(/berth\/recipes\/typo\.yaml:3: .*restrat/);
    expect(report).toContain('restrat: always');
    expect(report).toMatch(/evil\\u001b\[2J\.yaml.*control characters/);
    expect(report).not.toContain('\u001b');
    expect(report).toContain('berth/hostnme');
    expect(report).toContain('ssh root@berth.local');
    expect(report).toContain('1 key');
    expect(report).not.toContain('correct horse');
  });

  it('at the next boot takes only what changed, and a recipe deleted from the partition goes', async () => {
    rmSync(join(part, 'recipes/clash.yaml'));
    rmSync(join(part, 'recipes/typo.yaml'));
    rmSync(join(part, 'recipes/evil\u001b[2J.yaml'));
    writeFileSync(join(root, 'etc/hostname'), 'renamed-over-ssh\n');
    let r = await berth('settings', 'import', '--root', root);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/nothing new/);
    expect(read(join(root, 'etc/hostname'))).toBe('renamed-over-ssh\n'); // not undone
    rmSync(join(part, 'recipes/whoami.yaml'));
    r = await berth('settings', 'import', '--root', root);
    expect(r.out).toMatch(/whoami\.yaml was removed/);
    expect(existsSync(join(dir, 'recipes/whoami.yaml'))).toBe(false);
    expect(existsSync(join(dir, 'recipes/samba.yaml'))).toBe(true);
  });

  it('turns password login over SSH on only when asked and a password is set', async () => {
    writeFileSync(join(part, 'ssh-password-login'), 'yes\n');
    const r = await berth('settings', 'import', '--root', root);
    expect(r.code).toBe(0);
    expect(read(join(root, PASSWORD_LOGIN_CONF))).toMatch(/^PasswordAuthentication yes$/m);
    writeFileSync(join(part, 'ssh-password-login'), 'no\n');
    await berth('settings', 'import', '--root', root);
    expect(existsSync(join(root, PASSWORD_LOGIN_CONF))).toBe(false);
  });

  it('refuses oversized and non-UTF-8 files without reading them into anything', async () => {
    writeFileSync(join(part, 'hostname.txt'), 'x'.repeat(70 * 1024));
    writeFileSync(join(part, 'timezone'), Buffer.from([0xff, 0xfe, 0x45, 0x00]));
    const r = await berth('settings', 'import', '--root', root);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/berth\/hostname\.txt: the file is 71680 bytes; the limit is 65536/);
    expect(r.out).toMatch(/berth\/timezone: the file is UTF-16/);
    expect(read(join(root, 'etc/hostname'))).toBe('renamed-over-ssh\n');
    const last = await berth('settings');
    expect(last.out).toMatch(/not taken: berth\/timezone/);
    const line = await settingsStatusLine(join(dir, 'data'), { mountPoint: join(dir, 'no-such-mount') });
    // An appliance whose partition was not read at this boot says so.
    expect(
      await settingsStatusLine(join(dir, 'data'), { mountPoint: dir, bootedAt: Date.now() + 1000 }),
    ).toMatch(/^BERTH partition: not read at this boot \(is it mounted at /);
    expect(await settingsStatusLine(join(dir, 'data'), { mountPoint: dir, bootedAt: 0 })).toBe(line);
    expect(line).toMatch(
      /^BERTH partition: not all taken at .*: berth\/hostname\.txt: the file is 71680 bytes.* and 1 more;/,
    );
  });

  it('a renamed recipe keeps its app; one that cannot be read is not taken as deleted', async () => {
    writeFileSync(join(part, 'recipes/web.yaml'), 'name: web\nimage: localhost/berth/busybox:1.35.0\n');
    await berth('settings', 'import', '--root', root);
    expect(existsSync(join(dir, 'recipes/web.yaml'))).toBe(true);
    renameSync(join(part, 'recipes/web.yaml'), join(part, 'recipes/site.yaml'));
    let r = await berth('settings', 'import', '--root', root);
    expect(r.out).not.toMatch(/already used/);
    expect(existsSync(join(dir, 'recipes/site.yaml'))).toBe(true);
    expect(existsSync(join(dir, 'recipes/web.yaml'))).toBe(false);
    writeFileSync(join(part, 'recipes/site.yaml'), Buffer.from([0xff, 0xfe, 0x6e, 0x00]));
    r = await berth('settings', 'import', '--root', root);
    expect(r.out).toMatch(/berth\/recipes\/site\.yaml: the file is UTF-16/);
    expect(r.out).not.toMatch(/site\.yaml was removed/);
    expect(existsSync(join(dir, 'recipes/site.yaml'))).toBe(true);
  });

  it('never shows a password, even one written twice', async () => {
    writeFileSync(join(part, 'password'), 'pw-twice-1234\npw-twice-1234\n');
    const r = await berth('settings', 'import', '--root', root);
    expect(r.out).toMatch(/berth\/password:2: only one password may be given/);
    for (const text of [
      r.out,
      read(join(part, 'REPORT.txt')),
      read(join(dir, 'data/settings/last-import.json')),
      read(join(part, 'password')), // not taken, and erased all the same
    ])
      expect(text).not.toContain('pw-twice');
  });

  it('with no berth/ folder, takes and removes nothing and says so', async () => {
    renameSync(part, `${part}.away`);
    try {
      const r = await berth('settings', 'import', '--root', root);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/there is no berth\/ folder on the BERTH partition/);
      expect(existsSync(join(dir, 'recipes/site.yaml'))).toBe(true);
    } finally {
      rmSync(part, { recursive: true, force: true });
      renameSync(`${part}.away`, part);
    }
  });
});
