// Spin-down per disk (disks.yaml): the drive's own standby timer, set with `hdparm -S`. The
// encoding is the drive's (ATA IDLE's count): 1–240 are multiples of 5 s up to 20 min,
// 241–251 are 1 to 11 half hours; 0 turns the timer off. A time between two steps is
// rounded up (a disk never sleeps sooner than asked) and the plan says what it became.
// Setting it spins a sleeping disk up (ATA IDLE), so it is applied at start and when the
// setting changes, never on a timer.

export type SpindownStep = {
  kind: 'set-spindown';
  disk: string;
  device: string;
  code: number;
  shown: string;
};

export interface SpindownDisk {
  /** Kernel name (sda) and the names a person may use for it (serial, /dev/disk/by-id names). */
  name: string;
  aliases: readonly string[];
  path: string;
  /** Rotational (an SSD has nothing to spin down). */
  rotational: boolean;
}

const MIN = 60_000;

/** hdparm -S's count for a standby time; undefined above 5.5 h (the longest the drive takes). */
export function standbyCode(ms: number): number | undefined {
  if (ms <= 0) return 0;
  if (ms <= 20 * MIN) return Math.max(1, Math.ceil(ms / 5000));
  const halfHours = Math.ceil(ms / (30 * MIN));
  return halfHours <= 11 ? 240 + halfHours : undefined;
}

/** What a count means, in words. */
export function standbyText(code: number): string {
  if (code === 0) return 'never';
  const s = code <= 240 ? code * 5 : (code - 240) * 1800;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${sec ? `${sec}s` : ''}`;
}

export interface SpindownPlan {
  steps: SpindownStep[];
  /** A disk named in the settings that is not here, an SSD, a time too long: said, not fatal. */
  notes: string[];
}

/** The settings (disk name → ms, 0 = off) against the disks present. */
export function planSpindown(
  wanted: ReadonlyMap<string, number>,
  disks: readonly SpindownDisk[],
): SpindownPlan {
  const steps: SpindownStep[] = [];
  const notes: string[] = [];
  for (const [name, ms] of wanted) {
    const disk = disks.find((d) => d.name === name || d.aliases.includes(name));
    if (!disk) {
      notes.push(
        `disks.yaml: no disk ${name} on this machine (unplugged?): its spin-down is set when berth next starts with it`,
      );
      continue;
    }
    if (!disk.rotational) {
      notes.push(`disks.yaml: ${name} is not a spinning disk: there is nothing to spin down`);
      continue;
    }
    const code = standbyCode(ms);
    if (code === undefined) {
      notes.push(`disks.yaml: ${name}: a drive's own timer goes up to 5h30m; write at most 5h30m`);
      continue;
    }
    steps.push({ kind: 'set-spindown', disk: disk.name, device: disk.path, code, shown: standbyText(code) });
  }
  return { steps, notes };
}

/** `hdparm -S COUNT DEVICE`, as an argument array. */
export const spindownArgs = (s: SpindownStep): string[] => ['-S', String(s.code), s.device];
