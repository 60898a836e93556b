// systemd-sysupdate's transfer definitions for berth's OS (sysupdate.d(5)): the root
// filesystem into the free root slot, then the version's kernel image onto the ESP with a
// boot counter. The UKI comes second on purpose: sysupdate finishes transfers in file-name
// order, so a version becomes bootable only once its root is complete.
import { UKI_PREFIX, SLOT_PREFIX } from './entries.js';

export type OsSource = { kind: 'dir'; path: string } | { kind: 'url'; url: string };

export interface TransferOptions {
  source: OsSource;
  /** Boots a new version gets before systemd-boot falls back (the kernel image's +N). */
  tries: number;
  /** Whether sysupdate checks SHA256SUMS.gpg (url sources; berth checks a directory itself). */
  verify: boolean;
  /** The disk whose root slots are written: auto (the one holding /) or an image file. */
  disk?: string;
  /** Where the kernel images go: the ESP's EFI/Linux (default) or a directory. */
  ukiDir?: string;
}

export const DEFAULT_TRIES = 3;

/** A value that goes into a definition file: one line, no specifier surprises. */
function value(what: string, s: string): string {
  if (/[\s\u0000-\u001f\u007f"'\\]/.test(s))
    throw new Error(`${what} must not contain spaces, quotes or control characters: ${JSON.stringify(s)}`);
  return s.replace(/%/g, '%%'); // sysupdate expands %-specifiers in paths
}

export function checkUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(
      `not a URL: ${JSON.stringify(url)} (give an http:// or https:// address, or a directory)`,
    );
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new Error(
      `${u.protocol} URLs are not supported: give an http:// or https:// address, or a directory`,
    );
  if (u.search || u.hash)
    throw new Error(`the update URL must be a directory, without ?query or #fragment: ${url}`);
  return value('the update URL', url.replace(/\/+$/, ''));
}

function absolute(what: string, p: string): string {
  if (!p.startsWith('/')) throw new Error(`${what} must be an absolute path: ${p}`);
  return value(what, p);
}

function source(o: TransferOptions, pattern: string): string[] {
  const lines = ['[Source]'];
  if (o.source.kind === 'url') lines.push('Type=url-file', `Path=${checkUrl(o.source.url)}`);
  // The directory is given per run (--transfer-source): a USB stick mounts anywhere.
  else lines.push('Type=regular-file', 'Path=/', 'PathRelativeTo=explicit');
  lines.push(`MatchPattern=${pattern}`);
  return lines;
}

function transfer(o: TransferOptions): string[] {
  return ['[Transfer]', 'ProtectVersion=%A', `Verify=${o.verify && o.source.kind === 'url' ? 'yes' : 'no'}`];
}

/** The two definition files, by name. */
export function renderTransfers(o: TransferOptions): Record<string, string> {
  if (!Number.isInteger(o.tries) || o.tries < 1 || o.tries > 9)
    throw new Error(`tries must be a whole number from 1 to 9, not ${o.tries}`);
  // Whatever asks: a download is never installed unchecked (berth os update refuses it first).
  if (o.source.kind === 'url' && !o.verify)
    throw new Error('a URL source is always verified (Verify=yes): --no-verify is for update folders only');
  const header = '# Written by berth (berth os definitions); sysupdate.d(5).';
  const root = [
    header,
    ...transfer(o),
    '',
    ...source(o, `${UKI_PREFIX}@v.root.raw.gz ${UKI_PREFIX}@v.root.raw`),
    '',
    '[Target]',
    'Type=partition',
    `Path=${o.disk ? absolute('the disk', o.disk) : 'auto'}`,
    'MatchPartitionType=root',
    `MatchPattern=${SLOT_PREFIX}@v`,
    // This version and one more: the running one is never overwritten (ProtectVersion).
    'InstancesMax=2',
  ];
  const uki = [
    header,
    ...transfer(o),
    '',
    ...source(o, `${UKI_PREFIX}@v.efi`),
    '',
    '[Target]',
    'Type=regular-file',
    ...(o.ukiDir
      ? [`Path=${absolute('the kernel image directory', o.ukiDir)}`]
      : ['Path=/EFI/Linux', 'PathRelativeTo=boot']),
    `MatchPattern=${UKI_PREFIX}@v+@l-@d.efi ${UKI_PREFIX}@v+@l.efi ${UKI_PREFIX}@v.efi`,
    'Mode=0444',
    `TriesLeft=${o.tries}`,
    'TriesDone=0',
    'InstancesMax=2',
  ];
  return {
    '10-berth-root.transfer': `${root.join('\n')}\n`,
    '20-berth-uki.transfer': `${uki.join('\n')}\n`,
  };
}
