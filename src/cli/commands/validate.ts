import { formatDiagnostic } from '../../recipe/diagnostics.js';
import { loadRecipes } from '../../recipe/load.js';
import { type Command, EXIT_FAILED, EXIT_OK } from '../command.js';
import { checkContext } from '../../context.js';

export const validateCommand: Command = {
  name: 'validate',
  summary: 'check recipes and report every problem with file, line and field',
  usage: 'berth validate [PATH...] [--json]',
  help: 'PATH is a recipe file or a directory of *.yaml files (default: the recipes dir).\nExit status: 0 all valid, 1 some invalid, 2 usage error.',
  options: { json: { type: 'boolean' } },
  async run({ config, positionals, options, io }) {
    const paths = positionals.length > 0 ? positionals : [config.recipesDir];
    const set = await loadRecipes(paths, checkContext(config));
    const invalid = set.results.filter((r) => !r.app);
    if (options.json) {
      io.out(
        JSON.stringify(
          set.results.map((r) => ({
            file: r.file,
            app: r.app?.name ?? r.declaredName ?? null,
            valid: Boolean(r.app),
            diagnostics: r.diagnostics.map(({ source: _s, ...d }) => d),
          })),
          null,
          2,
        ),
      );
    } else {
      for (const d of set.diagnostics) io.out(formatDiagnostic(d));
      if (set.results.length === 0) io.err(`no recipes (*.yaml) found in ${paths.join(', ')}`);
      else if (invalid.length === 0)
        io.err(`${set.results.length} recipe${set.results.length === 1 ? '' : 's'} valid`);
      else io.err(`${invalid.length} of ${set.results.length} recipes invalid; the others are unaffected`);
    }
    return invalid.length > 0 ? EXIT_FAILED : EXIT_OK;
  },
};
