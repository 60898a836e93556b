// The one place recipe values are escaped for a unit file. systemd rules
// (systemd.service(5) "Command lines", systemd.unit(5) "Specifiers"):
//  - `%` starts a specifier everywhere a value is read: double it;
//  - in Exec lines `$` starts an environment expansion: double it;
//  - words are split on whitespace; double quotes keep a word whole, and inside them
//    `\` and `"` need a backslash (C-style unescaping);
//  - a lone `;` separates commands, so it is always quoted;
//  - a line ending in `\` continues on the next one, so text never ends in a bare `\`.
// Control characters (newlines included) never reach here: validation rejects them, and
// this function refuses them too, so no value can start a new directive.

export type EscapeMode = 'exec' | 'path' | 'text';

export class UnsafeValueError extends Error {}

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

export function systemdEscape(value: string, mode: EscapeMode): string {
  if (CONTROL.test(value))
    throw new UnsafeValueError(`control character in unit value: ${JSON.stringify(value)}`);
  let v = value.replaceAll('%', '%%');
  if (mode === 'exec') v = v.replaceAll('$', '$$$$');
  if (mode === 'text') {
    // Free text (Description=) is taken as is, without unescaping; only a final
    // backslash is dangerous (line continuation), so a space is put after it.
    return v.endsWith('\\') ? `${v} ` : v;
  }
  if (v !== '' && SAFE_WORD.test(v)) return v;
  return `"${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** A whole command line: the program as given (it is ours, never a recipe value), then escaped arguments. */
export function execLine(argv: readonly string[], prefix = ''): string {
  const [program, ...args] = argv;
  if (!program) throw new Error('empty command line');
  return [`${prefix}${program}`, ...args.map((a) => systemdEscape(a, 'exec'))].join(' ');
}

/**
 * The unit name systemd gives a path (`systemd-escape --path --suffix=SUFFIX`): slashes
 * trimmed and folded, each inner `/` a `-`, and every byte other than ASCII letters, digits,
 * `:`, `_` and `.` (a leading `.` too) written `\xHH`; the root is `-`.
 */
export function pathUnitName(path: string, suffix: 'mount' | 'device' | 'automount'): string {
  const parts = path.split('/').filter(Boolean);
  if (parts.length === 0) return `-.${suffix}`;
  const escaped = [...Buffer.from(parts.join('/'), 'utf8')]
    .map((byte, i) => {
      const c = String.fromCharCode(byte);
      if (c === '/') return '-';
      if (/[A-Za-z0-9:_]/.test(c) || (c === '.' && i > 0)) return c;
      return `\\x${byte.toString(16).padStart(2, '0')}`;
    })
    .join('');
  return `${escaped}.${suffix}`;
}
