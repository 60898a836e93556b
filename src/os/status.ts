// `berth os status`: this version, the other slot, the boot counters and the last rollback,
// worked out from facts read elsewhere (os-release, the ESP, the partition table, and the
// reasons the health gate wrote), so it is a pure function tested with tables.
import { type BootEntry, type Slot } from './entries.js';
import { compareVersions } from './version.js';

export interface OsFacts {
  version: string;
  entries: BootEntry[];
  /** Undefined when the partition table could not be read (not on the appliance). */
  slots?: Slot[];
  /** What the health gate recorded, by version. */
  failures: Record<string, string>;
  /** Whether the image carries a key to check updates with (undefined: not read). */
  signed?: boolean;
}

export interface OsStatus {
  version: string;
  /** How this boot counts: good, or on trial with tries left. */
  boot: { state: 'good' | 'trying' | 'set-aside' | 'unknown'; triesLeft?: number };
  otherSlot?: { version?: string; node: string };
  entries: BootEntry[];
  /** A newer version that systemd-boot gave up on: the machine runs an older one. */
  rolledBack?: { from: string; reason: string };
  /** A newer version installed and not yet tried: it boots next. */
  next?: string;
  /** False on an image built without a signing key (BERTH_OS_UNSIGNED=1). */
  signed?: boolean;
}

const tries = (n: number | undefined) => (n === undefined ? '? tries' : `${n} ${n === 1 ? 'try' : 'tries'}`);

export const NO_REASON =
  'it did not become healthy within its tries, and left no reason (it may not have started far enough to write one)';

export function osStatus(f: OsFacts): OsStatus {
  const entries = [...f.entries].sort((a, b) => compareVersions(b.version, a.version));
  const mine = entries.find((e) => e.version === f.version);
  const boot: OsStatus['boot'] = !mine
    ? { state: 'unknown' }
    : mine.state === 'good'
      ? { state: 'good' }
      : mine.state === 'bad'
        ? { state: 'set-aside' }
        : { state: 'trying', ...(mine.triesLeft !== undefined ? { triesLeft: mine.triesLeft } : {}) };
  const newer = entries.filter((e) => compareVersions(e.version, f.version) > 0);
  const bad = newer.find((e) => e.state === 'bad');
  const next = newer.find((e) => e.state === 'trying');
  const other = f.slots?.find((s) => s.version !== f.version);
  return {
    version: f.version,
    boot,
    ...(other
      ? { otherSlot: { node: other.node, ...(other.version ? { version: other.version } : {}) } }
      : {}),
    entries,
    ...(bad ? { rolledBack: { from: bad.version, reason: f.failures[bad.version] ?? NO_REASON } } : {}),
    ...(next ? { next: next.version } : {}),
    ...(f.signed !== undefined ? { signed: f.signed } : {}),
  };
}

export function renderOsStatus(s: OsStatus): string[] {
  const lines = [`OS version:   ${s.version}`];
  lines.push(
    `This boot:    ${
      s.boot.state === 'good'
        ? 'good (blessed)'
        : s.boot.state === 'trying'
          ? `on trial: ${tries(s.boot.triesLeft)} left before the previous version boots again`
          : s.boot.state === 'set-aside'
            ? 'set aside: the other version boots at the next restart'
            : 'unknown (no kernel image for this version on the EFI partition)'
    }`,
  );
  if (s.otherSlot) lines.push(`Other slot:   ${s.otherSlot.version ?? 'empty'} (${s.otherSlot.node})`);
  if (s.next) lines.push(`Next boot:    ${s.next} (installed, not tried yet)`);
  if (s.rolledBack) lines.push(`Rolled back from ${s.rolledBack.from}: ${s.rolledBack.reason}`);
  if (s.signed === false)
    lines.push(
      'Updates:      unsigned updates (this image was built without a signing key: an update folder is checked against its SHA256SUMS only, and no URL is taken)',
    );
  lines.push('Kernel images:');
  for (const e of s.entries)
    lines.push(
      `  ${e.version.padEnd(14)} ${
        e.state === 'good'
          ? 'good'
          : e.state === 'bad'
            ? `failed (${tries(e.triesDone ?? 0)} used)`
            : `${tries(e.triesLeft)} left`
      }  ${e.file}`,
    );
  if (s.entries.length === 0) lines.push('  (none found)');
  return lines;
}

/**
 * One line for `berth status` when the OS went back by itself, so the reason is seen where a
 * person looks first; undefined on a machine that is not a berth image, or with nothing to say.
 */
export function osStatusLine(s: OsStatus): string | undefined {
  if (s.boot.state === 'set-aside')
    return `OS: ${s.version} is set aside; the other version boots at the next restart (berth os status)`;
  if (s.rolledBack)
    return `OS: running ${s.version}; rolled back from ${s.rolledBack.from}: ${s.rolledBack.reason} (berth os status)`;
  if (s.boot.state === 'trying')
    return `OS: ${s.version} is on trial (${tries(s.boot.triesLeft)} left); it is kept once berth and the apps are up (berth os status)`;
  return undefined;
}
