import { addFromCatalog, describeApp } from '../../catalog/add.js';
import { type CatalogApp, loadCatalog } from '../../catalog/catalog.js';
import { searchCatalog } from '../../catalog/search.js';
import { checkContext } from '../../context.js';
import { closest } from '../../recipe/suggest.js';
import { formatDiagnostic } from '../../recipe/diagnostics.js';
import { type Command, EXIT_FAILED, EXIT_OK, UsageError, UserError } from '../command.js';

const line = (a: CatalogApp) =>
  `${a.name.padEnd(16)} ${a.title}: ${a.summary}${a.recipes.length > 1 ? ` (${a.recipes.length} recipes: ${a.recipes.join(', ')})` : ''}`;

export const searchCommand: Command = {
  name: 'search',
  summary: 'find apps in the catalog of vetted recipes',
  usage: 'berth search [WORD...] [--json]',
  help: 'Every WORD must match the app (name, title, tags or summary). No WORD: the whole catalog.\n`berth add NAME` adds one.',
  options: { json: { type: 'boolean' } },
  async run({ config, positionals, options, io }) {
    const catalog = await loadCatalog(config.catalogDir).catch((err: Error) => {
      throw new UserError(err.message);
    });
    const found = positionals.length ? searchCatalog(catalog.apps, positionals) : catalog.apps;
    if (options.json) io.out(JSON.stringify(found, null, 2));
    else if (found.length === 0) {
      io.err(
        `nothing in the catalog matches ${positionals.join(' ')}; 'berth search' lists all ${catalog.apps.length} apps`,
      );
      return EXIT_FAILED;
    } else for (const a of found) io.out(line(a));
    return EXIT_OK;
  },
};

export const addCommand: Command = {
  name: 'add',
  summary: 'add an app from the catalog to the recipes (--enable: and start it)',
  usage: 'berth add NAME [--enable]',
  help: [
    'Copies the catalog recipes of NAME (a stack: all of them) into the recipes dir after',
    'checking them beside the recipes there; on any clash nothing is written. Without',
    '--enable they are added switched off (enabled: false): read each header, edit, then set',
    'enabled: true. Secrets the recipes use are generated on the first apply.',
  ].join('\n'),
  options: { enable: { type: 'boolean' } },
  async run({ config, positionals, options, io }) {
    if (positionals.length !== 1) throw new UsageError('add takes one NAME (berth search lists them)');
    const name = positionals[0]!;
    const catalog = await loadCatalog(config.catalogDir).catch((err: Error) => {
      throw new UserError(err.message);
    });
    const app = catalog.apps.find((a) => a.name === name);
    if (!app) {
      const hint = closest(
        name,
        catalog.apps.map((a) => a.name),
      );
      throw new UserError(
        `no app '${name}' in the catalog${hint ? `; did you mean ${hint}?` : ''} ('berth search WORD' finds apps)`,
      );
    }
    const enable = options.enable === true;
    const r = await addFromCatalog(catalog, app, {
      recipesDir: config.recipesDir,
      enable,
      ctx: checkContext(config),
    });
    if (r.refused) {
      for (const d of r.diagnostics) io.out(formatDiagnostic(d));
      throw new UserError(r.refused);
    }
    for (const a of r.apps) for (const l of describeApp(a, config.dataDir)) io.out(l);
    io.out('');
    for (const f of r.written) io.out(`wrote ${f}`);
    io.out(
      enable
        ? `${app.title} starts now (the supervisor applies new recipes by itself; 'berth apply' if it does not run).`
        : `Added switched off (enabled: false): read the header of each recipe, edit what it says, then set enabled: true; berth applies it by itself.`,
    );
    return EXIT_OK;
  },
};
