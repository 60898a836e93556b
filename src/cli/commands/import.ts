import { formatComposeMessage, importCompose } from '../../compose/import.js';
import { checkContext } from '../../context.js';
import { type Command, EXIT_FAILED, EXIT_OK, UsageError } from '../command.js';

const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []);

export const importCommand: Command = {
  name: 'import',
  summary: 'turn a docker-compose file into recipes, one per service, and say what changed',
  usage: 'berth import compose FILE [--out DIR] [--env-file F]... [--profile P]...',
  help: [
    'Reads FILE (variables from the .env beside it, or --env-file, and the environment), checks',
    'it against the Compose Specification, converts each service (only those without a',
    'profile, unless --profile names theirs) and writes one recipe per service into the recipes',
    'dir (or --out). Every message names FILE:LINE:COL. Nothing is written unless all of it',
    'converts and passes the same checks as `berth validate`. Exit status: 0 written, 1 not.',
  ].join('\n'),
  options: {
    out: { type: 'string' },
    'env-file': { type: 'string', multiple: true },
    profile: { type: 'string', multiple: true },
  },
  async run({ config, positionals, options, io }) {
    const [format, file, ...rest] = positionals;
    if (format !== 'compose' || !file || rest.length) throw new UsageError('import takes: compose FILE');
    const envFiles = list(options['env-file']);
    const r = await importCompose(file, {
      outDir: typeof options.out === 'string' ? options.out : config.recipesDir,
      ...(envFiles.length ? { envFiles } : {}),
      profiles: list(options.profile),
      ctx: checkContext(config),
    });
    const order = { error: 0, loud: 1, warning: 2, info: 3 } as const;
    for (const m of [...r.messages].sort((a, b) => order[a.level] - order[b.level]))
      io.out(formatComposeMessage(m));
    if (r.written.length) {
      for (const a of r.apps) io.out(`service ${a.service} → ${a.file}`);
      io.err(
        `${r.written.length} recipe${r.written.length === 1 ? '' : 's'} written; berth applies them by itself`,
      );
      return EXIT_OK;
    }
    io.err(
      `nothing was written: fix the errors above (${r.messages.filter((m) => m.level === 'error').length})`,
    );
    return EXIT_FAILED;
  },
};
