// berth disks add DEVICE [--label L] [--yes]: format a disk as a data disk, mounted at
// /srv/<label> at every boot. Dispatched by `berth disks` (its first word `add`).
import { DEFAULT_LABEL, type EraseRow, planAdd } from '../../disks/add.js';
import { type DiskExecDeps, DiskStepError, runDiskSteps } from '../../disks/execute.js';
import { readAddFacts } from '../../disks/add-facts.js';
import { spawnRunner } from '../../process/run.js';
import { terminalText } from '../../status/reason.js';
import { DbusServiceManager } from '../../systemd/manager.js';
import { type CommandContext, EXIT_OK, type OptionSpec, UsageError, UserError } from '../command.js';

export const DISKS_ADD_USAGE = 'berth disks add DEVICE [--label NAME] [--yes]';
export const DISKS_ADD_OPTIONS: OptionSpec = { label: { type: 'string' }, yes: { type: 'boolean' } };

/** What will be (or would be) erased, as a table. */
export function eraseTable(rows: readonly EraseRow[]): string[] {
  const table = [['DEVICE', 'TYPE', 'SIZE', 'FILE SYSTEM', 'LABEL'], ...rows.map((r) => Object.values(r))];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  return table.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}

const connectSystem = async (): Promise<DiskExecDeps['systemd'] & { close(): void }> =>
  DbusServiceManager.connect({ user: false });

/** `positionals` are the words after `add`. `connect` is systemd's system manager (a test gives its own). */
export async function disksAdd(
  { config, positionals, options, io }: CommandContext,
  connect = connectSystem,
): Promise<number> {
  const [device, ...extra] = positionals;
  if (!device || extra.length) throw new UsageError(`usage: ${DISKS_ADD_USAGE}`);
  if (config.user)
    throw new UserError(
      'a data disk is mounted by the system manager: run berth disks add as root, without --user',
    );
  const label = typeof options.label === 'string' ? options.label : DEFAULT_LABEL;
  const path = device.startsWith('/') ? device : `/dev/${device}`;
  const facts = await readAddFacts(path, { run: spawnRunner, unitDir: config.unitDir });
  const plan = planAdd(facts, { label, yes: options.yes === true });
  const table = plan.erase.length ? [`on ${facts.device}:`, ...eraseTable(plan.erase)] : [];
  if (!plan.ok) throw new UserError(terminalText([plan.message, ...table].join('\n')));
  for (const l of table.length ? ['erasing, as agreed (--yes):', ...table] : []) io.out(terminalText(l));
  const systemd = await connect();
  try {
    // A step that fails is the machine's answer, said as it is (not an internal error).
    const done = await runDiskSteps(plan.steps, { run: spawnRunner, systemd, unitDir: config.unitDir }).catch(
      (err: Error) => {
        throw err instanceof DiskStepError ? new UserError(err.message) : err;
      },
    );
    for (const l of done) io.out(l);
  } finally {
    systemd.close();
  }
  io.out(`the data disk ${label} is ${plan.mountPoint}; put a volume on it in a recipe:`);
  io.out(`  ${plan.recipeLine}`);
  return EXIT_OK;
}
