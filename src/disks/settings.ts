// disks.yaml: settings per disk, by kernel name (sda), serial or /dev/disk/by-id name:
//   disks:
//     sda: {spindown: 20m}
// Read from /etc/berth/disks.yaml (also taken from the BERTH partition), checked like
// notify.yaml: every problem at file:line:col, and a file with problems changes nothing.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Diagnostic } from '../recipe/diagnostics.js';
import { DURATION_RE } from '../recipe/schema.js';
import { durationMs } from '../recipe/values.js';
import { parseSettingsYaml } from '../yamlfile/parse.js';

const DiskName = z
  .string()
  .regex(
    /^(?:\/dev\/(?:disk\/by-id\/)?)?[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/,
    'a disk is named by its kernel name (sda), serial or /dev/disk/by-id name',
  );

const DiskEntry = z.strictObject({
  /** After this long without I/O the drive spins down; off: never. */
  spindown: z
    .union([
      z.literal('off'),
      z.string().regex(DURATION_RE, "is not a duration; write e.g. '20m' or '1h', or 'off'"),
    ])
    .optional(),
});

export const DisksSettingsSchema = z.strictObject({
  disks: z.record(DiskName, DiskEntry).default({}),
});
export type DisksSettings = z.output<typeof DisksSettingsSchema>;

/** Disk name → spin-down time in ms (0: never). */
export function spindownWanted(s: DisksSettings): Map<string, number> {
  return new Map(
    Object.entries(s.disks).flatMap(([name, e]) =>
      e.spindown === undefined
        ? []
        : [
            [
              name.replace(/^\/dev\/(?:disk\/by-id\/)?/, ''),
              e.spindown === 'off' ? 0 : durationMs(e.spindown),
            ],
          ],
    ),
  );
}

export function parseDisksSettings(file: string, text: string) {
  return parseSettingsYaml(file, text, DisksSettingsSchema);
}

/** The file as it is: none is no settings; one with problems yields only its diagnostics. */
export async function readDisksSettings(
  path: string,
): Promise<{ settings?: DisksSettings; diagnostics: Diagnostic[] }> {
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) =>
    e.code === 'ENOENT' ? undefined : '',
  );
  if (text === undefined) return { settings: { disks: {} }, diagnostics: [] };
  const r = parseDisksSettings(path, text);
  return r.value ? { settings: r.value, diagnostics: [] } : { diagnostics: r.diagnostics };
}
