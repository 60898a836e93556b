// /metrics in the Prometheus text format (0.0.4), from facts gathered elsewhere: one row per
// metric family, base units (bytes, seconds), `_total` on counters, label values escaped.
// Pure: no I/O, no clock.

export interface AppFacts {
  app: string;
  state: string;
  up: boolean;
  /** undefined: the app has no health check. */
  healthy?: boolean;
  restarts: number;
  memoryBytes?: number;
  cpuSeconds?: number;
  lastUpdateSeconds?: number;
}

/** A disk that holds berth's data, from the supervisor's SMART check (never read at a scrape). */
export interface DiskSmartFacts {
  /** The kernel's name: sda. */
  disk: string;
  /** undefined: SMART not read (no SMART, unknown). */
  healthy?: boolean;
  temperatureC?: number;
  asleep?: boolean;
  /** Its mount points that hold berth's data, with their free bytes. */
  mounts: readonly { mount: string; freeBytes: number }[];
}

export interface MetricsFacts {
  apps: readonly AppFacts[];
  disks: readonly { path: string; freeBytes: number; sizeBytes: number }[];
  passes: { total: number; failed: number; lastSeconds?: number };
  channels: readonly { channel: string; ok: boolean }[];
  /** Recipes that do not validate. */
  invalidRecipes: number;
  smart?: readonly DiskSmartFacts[];
}

type Sample = [labels: Record<string, string>, value: number];
interface Family {
  name: string;
  type: 'gauge' | 'counter';
  help: string;
  samples: (f: MetricsFacts) => Sample[];
}

const perApp = (pick: (a: AppFacts) => number | undefined) => (f: MetricsFacts) =>
  f.apps.flatMap((a): Sample[] => {
    const v = pick(a);
    return v === undefined ? [] : [[{ app: a.app }, v]];
  });
const bool = (b: boolean) => (b ? 1 : 0);
const perDisk = (pick: (d: DiskSmartFacts) => number | undefined) => (f: MetricsFacts) =>
  (f.smart ?? []).flatMap((d): Sample[] => {
    const v = pick(d);
    return v === undefined ? [] : [[{ disk: d.disk }, v]];
  });
const maybe = (b: boolean | undefined) => (b === undefined ? undefined : bool(b));

export const FAMILIES: readonly Family[] = [
  {
    name: 'berth_app_up',
    type: 'gauge',
    help: "1 when the app's unit is active.",
    samples: perApp((a) => bool(a.up)),
  },
  {
    name: 'berth_app_state',
    type: 'gauge',
    help: "The app's unit state (systemd's ActiveState), as a label of a sample that is 1.",
    samples: (f) => f.apps.map((a): Sample => [{ app: a.app, state: a.state }, 1]),
  },
  {
    name: 'berth_app_healthy',
    type: 'gauge',
    help: "1 when the app's health check passes (apps with a health check only).",
    samples: perApp((a) => (a.healthy === undefined ? undefined : bool(a.healthy))),
  },
  {
    name: 'berth_app_restarts_total',
    type: 'counter',
    help: 'Restarts of the app by systemd since its unit was last started.',
    samples: perApp((a) => a.restarts),
  },
  {
    name: 'berth_app_memory_bytes',
    type: 'gauge',
    help: "Memory of the app's unit now (systemd's MemoryCurrent).",
    samples: perApp((a) => a.memoryBytes),
  },
  {
    name: 'berth_app_cpu_seconds_total',
    type: 'counter',
    help: "CPU time the app's unit used (systemd's CPUUsageNSec).",
    samples: perApp((a) => a.cpuSeconds),
  },
  {
    name: 'berth_app_last_update_timestamp_seconds',
    type: 'gauge',
    help: "When the app's image was last updated or rolled back.",
    samples: perApp((a) => a.lastUpdateSeconds),
  },
  {
    name: 'berth_disk_free_bytes',
    type: 'gauge',
    help: 'Free bytes on the file system that holds the path (for non-root users).',
    samples: (f) => f.disks.map((d): Sample => [{ path: d.path }, d.freeBytes]),
  },
  {
    name: 'berth_disk_size_bytes',
    type: 'gauge',
    help: 'Size of the file system that holds the path.',
    samples: (f) => f.disks.map((d): Sample => [{ path: d.path }, d.sizeBytes]),
  },
  {
    name: 'berth_disk_mount_free_bytes',
    type: 'gauge',
    help: "Free bytes on a disk's mount point that holds berth's data (for non-root users).",
    samples: (f) =>
      (f.smart ?? []).flatMap((d) =>
        d.mounts.map((m): Sample => [{ disk: d.disk, mount: m.mount }, m.freeBytes]),
      ),
  },
  {
    name: 'berth_disk_smart_healthy',
    type: 'gauge',
    help: "1 when the disk's SMART reports no trouble, at the last check that could read it.",
    samples: perDisk((d) => maybe(d.healthy)),
  },
  {
    name: 'berth_disk_temperature_celsius',
    type: 'gauge',
    help: "The disk's temperature at the last SMART check (none while it sleeps).",
    samples: perDisk((d) => d.temperatureC),
  },
  {
    name: 'berth_disk_asleep',
    type: 'gauge',
    help: '1 when the disk was in standby at the last SMART check (it is not woken to ask).',
    samples: perDisk((d) => maybe(d.asleep)),
  },
  {
    name: 'berth_passes_total',
    type: 'counter',
    help: "The supervisor's passes since it started.",
    samples: (f) => [[{}, f.passes.total]],
  },
  {
    name: 'berth_pass_failures_total',
    type: 'counter',
    help: 'Passes that did not go through (a step failed, or the pass as a whole).',
    samples: (f) => [[{}, f.passes.failed]],
  },
  {
    name: 'berth_last_pass_duration_seconds',
    type: 'gauge',
    help: 'How long the last pass took.',
    samples: (f) => (f.passes.lastSeconds === undefined ? [] : [[{}, f.passes.lastSeconds]]),
  },
  {
    name: 'berth_recipes_invalid',
    type: 'gauge',
    help: 'Recipe files that do not validate.',
    samples: (f) => [[{}, f.invalidRecipes]],
  },
  {
    name: 'berth_notify_channel_up',
    type: 'gauge',
    help: 'Whether a notification channel took its last message.',
    samples: (f) => f.channels.map((c): Sample => [{ channel: c.channel }, bool(c.ok)]),
  },
];

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const number = (v: number) =>
  Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';

function sampleLine(name: string, [labels, value]: Sample): string {
  const l = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return `${name}${l.length ? `{${l.join(',')}}` : ''} ${number(value)}`;
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function renderMetrics(f: MetricsFacts): string {
  const out: string[] = [];
  for (const fam of FAMILIES) {
    const samples = fam.samples(f);
    if (samples.length === 0) continue;
    out.push(`# HELP ${fam.name} ${fam.help}`, `# TYPE ${fam.name} ${fam.type}`);
    for (const s of samples) out.push(sampleLine(fam.name, s));
  }
  return `${out.join('\n')}\n`;
}
