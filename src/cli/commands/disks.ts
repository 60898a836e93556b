// berth disks: every disk with its model, size, mounts, what berth keeps there, temperature,
// SMART health and whether it sleeps. SMART is read with `-n standby`: no disk is woken.
import { checkContext } from '../../context.js';
import { readDiskFacts } from '../../disks/facts.js';
import { berthPlaces } from '../../disks/places.js';
import { diskRows, diskTable } from '../../disks/view.js';
import { spawnRunner } from '../../process/run.js';
import { loadRecipes } from '../../recipe/load.js';
import type { Config } from '../../config.js';
import { type Command, EXIT_OK, UsageError, UserError } from '../command.js';
import { DISKS_ADD_OPTIONS, DISKS_ADD_USAGE, disksAdd } from './disks-add.js';

/** The apps of the recipes dir that validate (none when it cannot be read). */
async function apps(config: Config) {
  return (await loadRecipes([config.recipesDir], checkContext(config)).catch(() => undefined))?.apps ?? [];
}

export const disksCommand: Command = {
  name: 'disks',
  summary: 'list the disks: model, size, mounts, what berth keeps there, temperature, SMART health, asleep',
  usage: `berth disks [--json]\n       ${DISKS_ADD_USAGE}`,
  help: [
    'SMART is read with smartctl -n standby: a sleeping disk is shown asleep, never woken.',
    'Reading SMART needs root; a virtual disk (virtio) has no SMART.',
    'berth disks add formats a disk as a data disk (ext4, by label), mounts it at /srv/LABEL and',
    'keeps it mounted across reboots and OS updates; a recipe volume {disk: LABEL} lives there.',
    'It refuses a disk that holds anything unless --yes, and says what would be erased.',
  ].join('\n'),
  options: { json: { type: 'boolean' }, ...DISKS_ADD_OPTIONS },
  async run(ctx) {
    const { config, options, positionals, io } = ctx;
    if (positionals[0] === 'add') return disksAdd({ ...ctx, positionals: positionals.slice(1) });
    if (positionals.length > 0)
      throw new UsageError(`disks takes no arguments, not '${positionals.join(' ')}'`);
    const facts = await readDiskFacts({ runner: spawnRunner }).catch((err: Error) => {
      throw new UserError(`cannot list the disks: ${err.message}`);
    });
    const rows = diskRows(facts, berthPlaces(config.dataDir, await apps(config)));
    if (options.json) io.out(JSON.stringify(rows, null, 2));
    else for (const l of diskTable(rows)) io.out(l);
    return EXIT_OK;
  },
};
