import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Config } from '../../config.js';
import { checkContext } from '../../context.js';
import { atomicWrite } from '../../exec/files.js';
import { renderKube } from '../../export/kube.js';
import { QuadletError, renderQuadlet } from '../../export/quadlet.js';
import type { App } from '../../recipe/app.js';
import { formatDiagnostic } from '../../recipe/diagnostics.js';
import { loadRecipes } from '../../recipe/load.js';
import { appPaths } from '../../render/paths.js';
import { type Command, EXIT_FAILED, EXIT_OK, type Io, UsageError, UserError } from '../command.js';
import { appArg } from '../connect.js';

interface OutFile {
  name: string;
  text: string;
}

/** A secret berth generated for an app, read from its data dir; absent before the first apply. */
function readSecret(config: Config, app: string, name: string): string | undefined {
  try {
    return readFileSync(join(appPaths(config.dataDir, app).secretsDir, name), 'utf8').trim();
  } catch {
    return undefined;
  }
}

const EXPORTERS: Record<string, (a: App, config: Config, io: Io) => OutFile[]> = {
  quadlet: (a, config) => renderQuadlet(a, { dataDir: config.dataDir, hostname: config.hostname }),
  kube: (a, config, io) => {
    const k = renderKube(a, { hostname: config.hostname, secret: (app, s) => readSecret(config, app, s) });
    for (const w of k.warnings) io.err(`berth: ${a.name}: ${w}`);
    const head = [
      `# ${a.name}: exported by berth from ${a.file.replace(/[\r\n]/g, '')} for Kubernetes (kubectl apply -f).`,
      ...k.warnings.map((w) => `# warning: ${w.replace(/[\r\n]/g, ' ')}`),
    ].join('\n');
    return [
      { name: `${a.name}.yaml`, text: `${head}\n${k.manifests.map((m) => stringify(m)).join('---\n')}` },
    ];
  },
};

export const exportCommand: Command = {
  name: 'export',
  summary: 'write apps as Quadlet files (podman) or Kubernetes manifests (a cluster such as k3s)',
  usage: 'berth export quadlet|kube APP|--all [--out DIR]',
  help: [
    'quadlet: a .container file per app, and the .volume and .network files it uses (podman 4.4+;',
    'keys Quadlet lacks there go in PodmanArgs=, podman 4.5+). Volumes bind the data dirs berth',
    'keeps, so the data stays. Put the files in /etc/containers/systemd and run systemctl daemon-reload.',
    'kube: APP.yaml with a Deployment, a Service for its ports, a PersistentVolumeClaim per volume',
    '(hostPath for host: dirs), a ConfigMap for files: and a Secret for secrets (plain text: keep',
    'it private). What has no equal on a cluster is a warning, in the file and on stderr.',
    'Without --out the files are printed, each after a "# ---- NAME" line.',
  ].join('\n'),
  options: { all: { type: 'boolean' }, out: { type: 'string' } },
  async run({ config, positionals, options, io }) {
    const [format, name, ...rest] = positionals;
    const exporter = format !== undefined ? EXPORTERS[format] : undefined;
    if (!exporter)
      throw new UsageError(`export takes a format first: ${Object.keys(EXPORTERS).join(' or ')}`);
    if (rest.length > 0 || (name === undefined) === !options.all)
      throw new UsageError('export takes one APP, or --all');
    const set = await loadRecipes([config.recipesDir], checkContext(config));
    const apps = options.all ? set.apps : set.apps.filter((a) => a.name === appArg(name));
    if (options.all)
      for (const r of set.results.filter((x) => !x.app))
        io.err(`berth: not exported: ${r.file} has recipe errors ('berth validate' shows them)`);
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
        return exporter(a, config, io);
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
      for (const f of unique) await atomicWrite(join(options.out, f.name), f.text, 0o600);
      io.err(
        `wrote ${unique.length} file${unique.length === 1 ? '' : 's'} to ${options.out}: ${unique.map((f) => f.name).join(', ')}`,
      );
    } else for (const f of unique) io.out(`# ---- ${f.name}\n${f.text.trimEnd()}`);
    return failed.length > 0 ? EXIT_FAILED : EXIT_OK;
  },
};
