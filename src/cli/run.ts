// Argument parsing and dispatch. Global options may stand before or after the command.
import { VERSION } from '../version.js';
import { parseArgs } from 'node:util';
import { type Config, resolveConfig } from '../config.js';
import {
  type Command,
  type CommandEntry,
  EXIT_FAILED,
  EXIT_OK,
  EXIT_USAGE,
  type Io,
  type OptionSpec,
  UsageError,
  UserError,
} from './command.js';

export const GLOBAL_OPTIONS: OptionSpec = {
  recipes: { type: 'string' },
  'data-dir': { type: 'string' },
  'unit-dir': { type: 'string' },
  user: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

const GLOBAL_HELP = `Global options:
  --recipes DIR    recipes directory (default /etc/berth/recipes, or $BERTH_RECIPES_DIR)
  --data-dir DIR   app data directory (default /var/lib/berth, or $BERTH_DATA_DIR)
  --unit-dir DIR   where unit files are written (default /etc/systemd/system; with --user
                   ~/.config/systemd/user; or $BERTH_UNIT_DIR)
  --user           drive the user service manager on the session bus
  -h, --help       show help`;

export function mainHelp(commands: readonly CommandEntry[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'berth: runs home-server apps from recipe YAML files as podman containers under systemd.',
    '',
    'Usage: berth COMMAND [OPTIONS]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    GLOBAL_HELP,
    '',
    "Run 'berth COMMAND --help' for a command's options.",
  ].join('\n');
}

function commandHelp(c: Command): string {
  const own = Object.entries(c.options ?? {}).map(
    ([name, o]) => `  --${name}${o.type === 'string' ? ' VALUE' : ''}`,
  );
  return [
    `Usage: ${c.usage}`,
    '',
    c.summary,
    ...(c.help ? ['', c.help] : []),
    ...(own.length ? ['', 'Options:', ...own] : []),
    '',
    GLOBAL_HELP,
  ].join('\n');
}

/** The first positional, skipping values of global options that take one. */
function findCommand(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return -1;
    if (!a.startsWith('-')) return i;
    const name = a.replace(/^--?/, '').split('=')[0]!;
    if (!a.includes('=') && GLOBAL_OPTIONS[name]?.type === 'string') i++;
  }
  return -1;
}

export async function runCli(
  argv: readonly string[],
  commands: readonly CommandEntry[],
  io: Io,
  env = process.env,
): Promise<number> {
  try {
    const at = findCommand(argv);
    if (at < 0) {
      if (argv.includes('--version')) {
        io.out(`berth ${VERSION}`);
        return EXIT_OK;
      }
      if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
        io.out(mainHelp(commands));
        return argv.length === 0 ? EXIT_USAGE : EXIT_OK;
      }
      throw new UsageError('no command given');
    }
    const name = argv[at]!;
    const entry = commands.find((c) => c.name === name);
    if (!entry) {
      const { closest } = await import('../recipe/suggest.js');
      const hint = closest(
        name,
        commands.map((c) => c.name),
      );
      throw new UsageError(`unknown command '${name}'${hint ? `, did you mean '${hint}'?` : ''}`);
    }
    const command = await entry.load();
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({
        args: [...argv.slice(0, at), ...argv.slice(at + 1)],
        options: { ...GLOBAL_OPTIONS, ...command.options },
        allowPositionals: true,
        strict: true,
      });
    } catch (err) {
      throw new UsageError(`${command.name}: ${(err as Error).message.replace(/\. To specify.*$/s, '')}`);
    }
    if (parsed.values.help) {
      io.out(commandHelp(command));
      return EXIT_OK;
    }
    const config: Config = resolveConfig(parsed.values as Record<string, never>, env);
    return await command.run({ config, positionals: parsed.positionals, options: parsed.values, io });
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`berth: ${err.message}\nRun 'berth --help' for usage.`);
      return EXIT_USAGE;
    }
    // Loaded here, not at the top: commands that never read recipes need not load the parser.
    const { RecipePathError } = await import('../recipe/load.js');
    if (err instanceof UserError || err instanceof RecipePathError) {
      io.err(`berth: ${err.message}`);
      return EXIT_FAILED;
    }
    io.err(`berth: internal error: ${(err as Error).message}`);
    if (env.BERTH_DEBUG) io.err(String((err as Error).stack));
    return EXIT_FAILED;
  }
}
