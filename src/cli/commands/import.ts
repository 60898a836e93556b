import { ComposeSourceError, fetchComposeUrl, findComposeFile } from '../../compose/source.js';
import { importCompose } from '../../compose/import.js';
import { importSummary } from '../../compose/summary.js';
import { checkContext } from '../../context.js';
import { type Command, EXIT_FAILED, EXIT_OK, UsageError, UserError } from '../command.js';

const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []);

/** --bind SRC=DEST, each: a compose bind source (as written) → a folder under the allowed roots. */
function bindMap(values: string[]): Map<string, string> {
  const binds = new Map<string, string>();
  for (const v of values) {
    const i = v.lastIndexOf('=');
    if (i <= 0 || i === v.length - 1)
      throw new UsageError(
        `--bind takes SRC=DEST (the path as the compose file writes it = a folder of yours): '${v}'`,
      );
    binds.set(v.slice(0, i).replace(/\/+$/, '') || '/', v.slice(i + 1));
  }
  return binds;
}

export const importCommand: Command = {
  name: 'import',
  summary: 'turn a docker-compose file into recipes, one per service, and say what changed',
  usage:
    'berth import compose FILE|DIR|URL [--out DIR] [--env-file F]... [--profile P]... [--bind SRC=DEST]... [--move-data|--copy-data] [--dry-run]',
  help: [
    'Reads the compose file (a DIR: its compose.yaml or docker-compose.yml; a URL: https, at most',
    '1 MB), with variables from the .env beside it, or --env-file, and the environment; checks it',
    'against the Compose Specification and converts each service (only those without a profile,',
    'unless --profile names theirs) into one recipe in the recipes dir (or --out).',
    'What Compose means is kept, with a safe default said aloud: a relative bind (./data) and a',
    'placeholder path (/path/to/config) become app volumes; --bind SRC=DEST names a folder of',
    "yours instead; --move-data or --copy-data takes a relative bind's files into the volume",
    '(checked, all or nothing). A required variable named like a password, secret, key or token',
    'becomes a generated berth secret; others are asked for in one message. Every message names',
    'FILE:LINE:COL. Nothing is written unless all of it converts and passes the same checks as',
    '`berth validate`; --dry-run prints the recipes instead. Exit status: 0 written (or would be), 1 not.',
  ].join('\n'),
  options: {
    out: { type: 'string' },
    'env-file': { type: 'string', multiple: true },
    profile: { type: 'string', multiple: true },
    bind: { type: 'string', multiple: true },
    'move-data': { type: 'boolean' },
    'copy-data': { type: 'boolean' },
    'dry-run': { type: 'boolean' },
  },
  async run({ config, positionals, options, io }) {
    const [format, source, ...rest] = positionals;
    if (format !== 'compose' || !source || rest.length)
      throw new UsageError('import takes: compose FILE|DIR|URL');
    if (options['move-data'] && options['copy-data'])
      throw new UsageError('--move-data and --copy-data: choose one');
    const envFiles = list(options['env-file']);
    const dryRun = options['dry-run'] === true;
    const binds = bindMap(list(options.bind));
    const asUserError = (err: unknown) => {
      throw err instanceof ComposeSourceError ? new UserError(err.message) : err;
    };
    const fetched = /^[a-z]+:\/\//i.test(source)
      ? await fetchComposeUrl(source).catch(asUserError)
      : undefined;
    try {
      const file =
        fetched?.file ??
        (await Promise.resolve()
          .then(() => findComposeFile(source))
          .catch(asUserError));
      const r = await importCompose(file, {
        outDir: typeof options.out === 'string' ? options.out : config.recipesDir,
        ...(envFiles.length ? { envFiles } : {}),
        profiles: list(options.profile),
        ctx: checkContext(config),
        binds,
        ...(options['move-data']
          ? { data: 'move' as const }
          : options['copy-data']
            ? { data: 'copy' as const }
            : {}),
        dryRun,
      });
      for (const l of importSummary(r, { dryRun })) io.out(l);
      const errors = r.messages.filter((m) => m.level === 'error').length;
      if (dryRun && !errors) {
        io.err(
          `${r.recipes.length} recipe${r.recipes.length === 1 ? '' : 's'} would be written (--dry-run: nothing was)`,
        );
        return EXIT_OK;
      }
      if (r.written.length) {
        io.err(
          `${r.written.length} recipe${r.written.length === 1 ? '' : 's'} written; berth applies them by itself`,
        );
        return EXIT_OK;
      }
      io.err(`nothing was written: fix the errors above (${errors})`);
      return EXIT_FAILED;
    } finally {
      await fetched?.cleanup();
    }
  },
};
