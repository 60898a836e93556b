// What a disk's SMART says, from smartctl's JSON and exit status. smartctl is always asked
// with `-n standby,3`: a sleeping disk is not woken, and the skip exits 3. Its exit status is
// a bitmask (smartctl(8)); the bits that mean trouble are read together with the JSON.
// Pure: the command line in, the reading out.

export type SmartHealth = 'ok' | 'failing' | 'asleep' | 'unsupported' | 'unknown';

export interface SmartReading {
  health: SmartHealth;
  temperatureC?: number;
  /** Why it is failing, unsupported or unknown; empty when ok. */
  reasons: string[];
}

/** What `-n standby,N` exits with when it skipped a disk in standby (bit 1 alone would mean "open failed"). */
export const ASLEEP_EXIT = 3;

/** smartctl's argv for a disk: `-d TYPE` given whenever known, as autodetection may spin a disk up. */
export function smartctlArgv(path: string, type?: string): string[] {
  return ['smartctl', '-j', '-a', '-n', `standby,${ASLEEP_EXIT}`, ...(type ? ['-d', type] : []), path];
}

const BIT = { parse: 1, open: 2, command: 4, failing: 8, prefailNow: 16, errorLog: 64, selfTest: 128 };

interface SmartJson {
  smartctl?: { messages?: { string?: string; severity?: string }[] };
  smart_support?: { available?: boolean };
  smart_status?: { passed?: boolean };
  temperature?: { current?: number };
  nvme_smart_health_information_log?: { critical_warning?: number; media_errors?: number };
}

function parseJson(stdout: string): SmartJson {
  try {
    const j = JSON.parse(stdout) as unknown;
    return j && typeof j === 'object' ? (j as SmartJson) : {};
  } catch {
    return {};
  }
}

const messagesOf = (j: SmartJson) =>
  (j.smartctl?.messages ?? []).flatMap((m) => (m.string ? [m.string.trim()] : []));

/** The trouble the status bits and an NVMe health log report. */
function troubles(code: number, j: SmartJson): string[] {
  const r: string[] = [];
  if (code & BIT.failing || j.smart_status?.passed === false) r.push('SMART overall health: FAILING');
  if (code & BIT.prefailNow) r.push('a pre-failure attribute is at or below its threshold now');
  if (code & BIT.errorLog) r.push("the disk's error log has entries");
  if (code & BIT.selfTest) r.push('the self-test log reports errors');
  const nvme = j.nvme_smart_health_information_log;
  if (nvme?.critical_warning) r.push(`NVMe critical warning 0x${nvme.critical_warning.toString(16)}`);
  if (nvme?.media_errors) r.push(`${nvme.media_errors} media errors`);
  return r;
}

export function parseSmart(result: { code: number; stdout: string; stderr?: string }): SmartReading {
  const { code } = result;
  if (code === ASLEEP_EXIT) return { health: 'asleep', reasons: [] };
  const j = parseJson(result.stdout);
  const messages = messagesOf(j);
  if (messages.some((m) => /Unable to detect device type/i.test(m)) || j.smart_support?.available === false)
    return { health: 'unsupported', reasons: ['no SMART on this device'] };
  const temp = j.temperature?.current;
  const temperature = typeof temp === 'number' ? { temperatureC: temp } : {};
  const trouble = troubles(code, j);
  if (trouble.length) return { health: 'failing', ...temperature, reasons: trouble };
  if (code & (BIT.parse | BIT.open) || j.smart_status?.passed === undefined) {
    const why = messages[0] ?? result.stderr?.trim().split('\n')[0] ?? '';
    return { health: 'unknown', reasons: [why || `smartctl exited ${code}`] };
  }
  return { health: 'ok', ...temperature, reasons: [] };
}

/**
 * How to ask smartctl about a disk: with `-d TYPE` from its transport, or not at all when
 * the type is not known (autodetection could wake it). A virtual disk cannot sleep, so it
 * is asked as it is, and says it has no SMART.
 */
export function smartQuery(d: { name: string; tran?: string }): {
  ask: boolean;
  type?: string;
  virtual: boolean;
} {
  const virtual = /^(vd|xvd)[a-z]+$/.test(d.name);
  const type = { sata: 'sat', ata: 'sat', usb: 'sat', nvme: 'nvme', sas: 'scsi', fc: 'scsi', spi: 'scsi' }[
    d.tran ?? ''
  ];
  return type ? { ask: true, type, virtual } : { ask: virtual, virtual };
}
