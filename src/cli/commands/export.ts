import { join } from 'node:path';
import { checkContext } from '../../context.js';
import { atomicWrite } from '../../exec/files.js';
import { QuadletError, renderQuadlet } from '../../export/quadlet.js';
import { formatDiagnostic } from '../../recipe/diagnostics.js';
import { loadRecipes } from '../../recipe/load.js';
import { type Command, EXIT_FAILED, EXIT_OK, UsageError, UserError } from '../command.js';
import { appArg } from '../connect.js';

const FORMATS = ['quadlet'] as const;

export const exportCommand: Command = {
  name: 'export',
  summary: "write an app's recipe as Quadlet files, for hosts that run podman's own generator",
  usage: 'berth export quadlet APP|--all [--out DIR]',
  help: [
    'quadlet: a .container file per app, and the .volume and .network files it uses (podman 4.4+;',
    'keys Quadlet lacks there go in PodmanArgs=, podman 4.5+). Volumes bind the data dirs berth',
    'keeps, so the data stays. Put the files in /etc/containers/systemd and run systemctl daemon-reload.',
    'Without --out the files are printed, each after a "# ---- NAME" line.',
  ].join('\n'),
  options: { all: { type: 'boolean' }, out: { type: 'string' } },
  async run({ config, positionals, options, io }) {
    const [format, name, ...rest] = positionals;
    if (!FORMATS.includes(format as (typeof FORMATS)[number]))
      throw new UsageError(`export takes a format first: ${FORMATS.join(', ')}`);
    if (rest.length > 0 || (name === undefined) === !options.all)
      throw new UsageError('export takes one APP, or --all');
    const set = await loadRecipes([config.recipesDir], checkContext(config));
    const apps = options.all ? set.apps : set.apps.filter((a) => a.name === appArg(name));
    if (!options.all && apps.length === 0) {
      const bad = set.results.find((r) => r.declaredName === name);
      if (bad) for (const d of bad.diagnostics) io.out(formatDiagnostic(d));
      throw new UserError(
        bad
          ? `${name}'s recipe has errors; fix them first`
          : `no app named '${name}' in ${config.recipesDir}`,
      );
    }
    // An app that cannot be exported is named; the others are still exported.
    const failed: string[] = [];
    const files = apps.flatMap((a) => {
      try {
        return renderQuadlet(a, { dataDir: config.dataDir, hostname: config.hostname });
      } catch (err) {
        if (!(err instanceof QuadletError)) throw err;
        failed.push(`${a.name} (${a.file}): ${err.message}`);
        return [];
      }
    });
    for (const f of failed) io.err(`berth: not exported: ${f}`);
    if (files.length === 0) throw new UserError('nothing to export');
    // Apps on one network share its .network file.
    const unique = [...new Map(files.map((f) => [f.name, f])).values()];
    if (typeof options.out === 'string') {
      for (const f of unique) await atomicWrite(join(options.out, f.name), f.text, 0o644);
      io.err(
        `wrote ${unique.length} file${unique.length === 1 ? '' : 's'} to ${options.out}: ${unique.map((f) => f.name).join(', ')}`,
      );
    } else for (const f of unique) io.out(`# ---- ${f.name}\n${f.text.trimEnd()}`);
    return failed.length > 0 ? EXIT_FAILED : EXIT_OK;
  },
};
