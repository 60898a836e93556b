// What each settings file means. Every file is comments (#) and at most a few value lines,
// so the shipped examples are harmless until a person writes a value in them. Pure.
import type { FolderFile, FolderProblem } from './folder.js';

export interface ValueLine {
  line: number;
  text: string;
}

export interface Parsed<T> {
  value?: T;
  problems: FolderProblem[];
}

/** The lines that are not blank and not comments, trimmed; a BOM and CRLF endings are fine. */
export function valueLines(text: string): ValueLine[] {
  return text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n|\r/)
    .map((t, i) => ({ line: i + 1, text: t.trim() }))
    .filter((l) => l.text !== '' && !l.text.startsWith('#'));
}

const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;

function problem(f: FolderFile, l: ValueLine | undefined, message: string): FolderProblem {
  return { file: f.shown, ...(l ? { line: l.line, source: l.text } : {}), message };
}

/** A setting that is one value: none (leave things as they are) or exactly one line. */
function single(f: FolderFile, what: string): Parsed<ValueLine> {
  const lines = valueLines(f.text);
  if (lines.length > 1)
    return { problems: [problem(f, lines[1], `only one ${what} may be given; put # before the others`)] };
  return lines[0] ? { value: lines[0], problems: [] } : { problems: [] };
}

/** RFC 1123 host name label: what mDNS announces as NAME.local. */
export function parseHostname(f: FolderFile): Parsed<string> {
  const { value: l, problems } = single(f, 'host name');
  if (!l) return { problems };
  const name = l.text.toLowerCase();
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(name))
    return {
      problems: [
        problem(
          f,
          l,
          'a host name is 1 to 63 letters, digits and dashes, not starting or ending with a dash (e.g. nas)',
        ),
      ],
    };
  return { value: name, problems: [] };
}

/** An IANA zone name such as Europe/Berlin; whether it exists is checked against the OS's zoneinfo. */
export function parseTimezone(f: FolderFile): Parsed<string> {
  const { value: l, problems } = single(f, 'time zone');
  if (!l) return { problems };
  if (!/^[A-Za-z0-9_+-]+(?:\/[A-Za-z0-9_+-]+){0,2}$/.test(l.text) || l.text.length > 64)
    return {
      problems: [
        problem(f, l, 'not a time zone name; write one like Europe/Berlin, America/New_York or UTC'),
      ],
    };
  return { value: l.text, problems: [] };
}

export const MIN_PASSWORD = 8;

/** The root password in plain text: the whole line (inner spaces kept), erased once set. */
export function parsePassword(f: FolderFile): Parsed<string> {
  const { value: l, problems } = single(f, 'password');
  // A second line is most likely the password again: never shown, only its line number.
  if (!l) return { problems: problems.map(({ source: _s, ...p }) => p) };
  // The password itself never appears in a problem: only its line number.
  const bad = (message: string) => ({ problems: [{ file: f.shown, line: l.line, message }] });
  if (CONTROL.test(l.text)) return bad('the password has control characters');
  if ([...l.text].length < MIN_PASSWORD)
    return bad(`the password is shorter than ${MIN_PASSWORD} characters`);
  if (l.text.length > 256) return bad('the password is longer than 256 characters');
  if (l.text === 'berth') return bad('that password is the well-known one; choose another');
  return { value: l.text, problems: [] };
}

export function parseYesNo(f: FolderFile): Parsed<boolean> {
  const { value: l, problems } = single(f, 'answer');
  if (!l) return { problems };
  const v = l.text.toLowerCase();
  if (['yes', 'on', 'true'].includes(v)) return { value: true, problems: [] };
  if (['no', 'off', 'false'].includes(v)) return { value: false, problems: [] };
  return { problems: [problem(f, l, 'write yes or no')] };
}

const KEY_TYPES = [
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
];

/**
 * Public keys, one a line, as `ssh-keygen` prints them (TYPE BASE64 [COMMENT]). The key's
 * own bytes must start with its type, which catches a key cut short when it was pasted.
 * Options before the type are not taken from the partition.
 */
export function parseAuthorizedKeys(f: FolderFile): Parsed<string[]> {
  const keys: string[] = [];
  const problems: FolderProblem[] = [];
  for (const l of valueLines(f.text)) {
    const m = /^(\S+)\s+([A-Za-z0-9+/]+={0,2})(?:\s+(.*))?$/.exec(l.text);
    const type = m?.[1] ?? '';
    if (!m || !KEY_TYPES.includes(type)) {
      problems.push(
        problem(
          f,
          l,
          KEY_TYPES.some((t) => l.text.includes(t))
            ? 'options before the key type are not taken from this partition; put such keys in /root/.ssh/authorized_keys'
            : 'not a public key; paste the one line of your id_ed25519.pub (or id_rsa.pub)',
        ),
      );
      continue;
    }
    const blob = Buffer.from(m[2]!, 'base64');
    const len = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
    if (
      len !== type.length ||
      blob.subarray(4, 4 + len).toString('latin1') !== type ||
      blob.length < 4 + len + 16
    ) {
      problems.push(problem(f, l, 'the key is damaged or cut short; paste the whole line again'));
      continue;
    }
    const comment = (m[3] ?? '').replace(/[\u0000-\u001f\u007f-\u009f]/g, '').slice(0, 200);
    keys.push(comment ? `${type} ${m[2]} ${comment}` : `${type} ${m[2]}`);
  }
  return { value: keys, problems };
}
