// Settings files as people write them (comments, CRLF, a BOM, Notepad's .txt) and get wrong.
import { describe, expect, it } from 'vitest';
import {
  parseAuthorizedKeys,
  parseHostname,
  parsePassword,
  parseTimezone,
  parseYesNo,
  valueLines,
} from '../../src/settings/parse.js';
import { MAX_LISTED, renderReport } from '../../src/settings/report.js';

const file = (text: string, name = 'hostname') => ({ shown: `berth/${name}`, path: '/x', text, hash: 'h' });

/** A well-formed ed25519 public key line: length-prefixed type, then 32 key bytes. */
export function testKey(comment = 'me@laptop'): string {
  const type = Buffer.from('ssh-ed25519');
  const len = (n: number) => Buffer.from([0, 0, 0, n]);
  const blob = Buffer.concat([len(type.length), type, len(32), Buffer.alloc(32, 7)]);
  return `ssh-ed25519 ${blob.toString('base64')} ${comment}`;
}

describe('settings files', () => {
  it('skips comments and blank lines; a BOM and CRLF are fine', () => {
    expect(valueLines('\uFEFF# name\r\n\r\n  nas  \r\n')).toEqual([{ line: 3, text: 'nas' }]);
  });

  it.each([
    ['nas', 'nas', undefined],
    ['NAS-2', 'nas-2', undefined],
    ['# only an example\n', undefined, undefined],
    ['-nas', undefined, /letters, digits and dashes/],
    ['nas.local', undefined, /letters, digits and dashes/],
    ['a'.repeat(64), undefined, /1 to 63/],
    ['nas\nmedia', undefined, /only one host name/],
  ])('hostname %j', (text, value, problem) => {
    const p = parseHostname(file(text));
    expect(p.value).toBe(value);
    if (problem) expect(p.problems[0]?.message).toMatch(problem);
    else expect(p.problems).toEqual([]);
  });

  it.each([
    ['Europe/Berlin', 'Europe/Berlin'],
    ['UTC', 'UTC'],
    ['../../etc/passwd', undefined],
    ['Europe/Berlin; rm -rf /', undefined],
  ])('timezone %j', (text, value) => expect(parseTimezone(file(text, 'timezone')).value).toBe(value));

  it('takes a password line whole and never repeats it in a problem', () => {
    expect(parsePassword(file('# set it\ncorrect horse battery\n', 'password')).value).toBe(
      'correct horse battery',
    );
    const short = parsePassword(file('hunter2', 'password'));
    expect(short.value).toBeUndefined();
    expect(JSON.stringify(short.problems)).not.toContain('hunter2');
    expect(short.problems[0]).toMatchObject({ file: 'berth/password', line: 1 });
    expect(parsePassword(file('berth', 'password')).value).toBeUndefined();
  });

  it.each([
    ['yes', true],
    ['Off', false],
    ['maybe', undefined],
  ])('yes/no %j', (text, value) => expect(parseYesNo(file(text, 'ssh-password-login')).value).toBe(value));

  it('takes well-formed public keys and names the line of a damaged one', () => {
    const good = testKey();
    const cut = good.slice(0, 40);
    const p = parseAuthorizedKeys(
      file(`# keys\n${good}\n${cut}\ncommand="sh" ${good}\nnot a key\n`, 'authorized_keys'),
    );
    expect(p.value).toEqual([good]);
    expect(p.problems.map((x) => [x.line, x.message.split(';')[0]])).toEqual([
      [3, 'the key is damaged or cut short'],
      [4, 'options before the key type are not taken from this partition'],
      [5, 'not a public key'],
    ]);
  });
});

describe('REPORT.txt', () => {
  const outcome = {
    at: '2026-11-26T09:00:00.000Z',
    folder: '/boot/berth/berth',
    done: ['berth/hostname: the machine is now called nas (nas.local on the network)'],
    failed: [],
    problems: [
      { file: 'berth/recipes/bad.yaml', line: 4, message: 'bad \u001b[31mport', source: '  - "99999:80"' },
    ],
    unchanged: [],
    notes: [],
    ignored: ['berth/hostnme'],
    keys: 1,
    sshPasswordLogin: false,
    oneTimePassword: false,
  };

  it('says what was done, every problem as file:line with its line, the name and addresses', () => {
    const r = renderReport(outcome, { name: 'nas', addresses: ['192.0.2.10'], version: '0.1.0' }, [
      { app: 'samba', state: 'running', ports: [] },
    ]);
    expect(r).toContain('the machine is now called nas');
    expect(r).toContain('berth/recipes/bad.yaml:4: bad ?[31mport');
    expect(r).toContain('- "99999:80"');
    expect(r).toContain('nas.local');
    expect(r).toContain('192.0.2.10');
    expect(r).toContain('ssh root@nas.local');
    expect(r).toContain('berth/hostnme');
    expect(r).toMatch(/samba\s+running/);
    expect(r.split('\r\n').length).toBeGreaterThan(10);
    expect(r).not.toMatch(/[^\r]\n/);
  });

  it('names at most MAX_LISTED unknown files, and says how many more there are', () => {
    const ignored = Array.from({ length: MAX_LISTED + 7 }, (_, i) => `berth/stray-${i}`);
    const r = renderReport({ ...outcome, ignored }, { name: 'nas', addresses: [], version: '0.1.0' });
    expect(r).toContain(`berth/stray-${MAX_LISTED - 1} and 7 more`);
    expect(r).not.toContain(`berth/stray-${MAX_LISTED}`);
  });
});
