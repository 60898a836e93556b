// `berth add`: copies a catalog app's recipes into the recipes dir, after checking them
// together with the recipes already there (the same checks as `berth validate`), so a
// clash of names or ports is found before anything is written; then nothing or all is.
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseDocument } from 'yaml';
import { atomicWrite } from '../exec/files.js';
import type { App } from '../recipe/app.js';
import type { CheckContext } from '../recipe/check.js';
import { type Diagnostic } from '../recipe/diagnostics.js';
import { hostPortClaims } from '../recipe/crosscheck.js';
import { checkRecipeSet, readRecipe, recipeFiles } from '../recipe/load.js';
import { parseRecipeText } from '../recipe/parse.js';
import { secretNames } from '../recipe/template.js';
import { type Catalog, type CatalogApp, recipePath } from './catalog.js';

export interface AddResult {
  written: string[];
  apps: App[];
  /** Why nothing was written. */
  refused?: string;
  diagnostics: Diagnostic[];
}

/** The recipe text with enabled: true, comments and layout kept. */
export function enableText(text: string): string {
  const doc = parseDocument(text);
  doc.set('enabled', true);
  return doc.toString();
}

export async function addFromCatalog(
  catalog: Catalog,
  app: CatalogApp,
  opts: { recipesDir: string; enable: boolean; ctx: CheckContext },
): Promise<AddResult> {
  const existing = await recipeFiles([opts.recipesDir]).catch(() => []);
  const machine = await Promise.all(existing.map((f) => readRecipe(f, opts.ctx)));
  const taken = new Map(machine.flatMap((r) => (r.declaredName ? [[r.declaredName, r.file] as const] : [])));
  const names = new Set(existing.map((f) => basename(f)));
  for (const r of app.recipes) {
    const by = taken.get(r) ?? (names.has(`${r}.yaml`) ? join(opts.recipesDir, `${r}.yaml`) : undefined);
    if (by)
      return {
        written: [],
        apps: [],
        diagnostics: [],
        refused: `${r} is already in ${by}: edit it there, or 'berth remove ${r}' first`,
      };
  }
  const texts = await Promise.all(
    app.recipes.map(async (r) => {
      const text = await readFile(recipePath(catalog, r), 'utf8');
      return { dest: join(opts.recipesDir, `${r}.yaml`), text: opts.enable ? enableText(text) : text };
    }),
  );
  const fresh = texts.map((t) => parseRecipeText(t.dest, t.text, opts.ctx));
  checkRecipeSet([...machine, ...fresh]);
  // A host-network app listens on more than it announces: the index lists it.
  if (opts.enable)
    for (const port of app.hostPorts) {
      const holder = machine.find(
        (r) => r.app?.enabled && hostPortClaims(r.app).some((c) => `${c.port}/${c.protocol}` === port),
      );
      if (holder)
        return {
          written: [],
          apps: [],
          diagnostics: [],
          refused: `${app.name} listens on ${port} on the host network, which app '${holder.app!.name}' (${holder.file}) already uses; nothing was written`,
        };
    }
  const diagnostics = fresh.flatMap((r) => r.diagnostics);
  if (diagnostics.length > 0 || fresh.some((r) => !r.app))
    return {
      written: [],
      apps: [],
      diagnostics,
      refused: `${app.name} does not fit beside the recipes in ${opts.recipesDir}; nothing was written`,
    };
  for (const t of texts) await atomicWrite(t.dest, t.text, 0o644);
  return { written: texts.map((t) => t.dest), apps: fresh.map((r) => r.app!), diagnostics: [] };
}

/** What an added app will do once enabled, in a few lines; what gives it power over the host first. */
export function describeApp(a: App, dataDir: string): string[] {
  const out: string[] = [];
  const power = [
    ...(a.privileged ? ['privileged (full access to the host)'] : []),
    ...(a.capabilities.length ? [`capabilities ${a.capabilities.join(', ')}`] : []),
    ...(a.devices.length ? [`devices ${a.devices.map((d) => d.path).join(', ')}`] : []),
    ...(a.network === 'host' ? ["the host's network"] : []),
  ];
  out.push(`${a.name}: ${a.image}`);
  if (power.length) out.push(`  ! power over the host: ${power.join('; ')}`);
  if (a.network === 'bridge') {
    const ports = a.ports.map((p) => `${p.host}→${p.container}/${p.protocol}`);
    out.push(
      `  network: bridge${a.networks.length ? ` and ${a.networks.join(', ')}` : ''}; ports ${ports.join(', ') || 'none published'}`,
    );
  } else out.push(`  network: ${a.network}`);
  const own = a.volumes.filter((v) => !v.host).map((v) => v.name);
  if (own.length) out.push(`  data: ${join(dataDir, 'apps', a.name)}/{${own.join(',')}}`);
  for (const v of a.volumes.filter((x) => x.host))
    out.push(
      `  ${v.disk ? `data disk ${v.disk}` : 'host dir'}: ${v.host} → ${v.target}${v.readonly ? ' (read-only)' : ''}`,
    );
  const secrets = [...new Set(a.env.flatMap((e) => secretNames(e.value)))];
  if (secrets.length)
    out.push(
      `  secrets made on first apply: ${secrets.map((n) => join(dataDir, 'apps', a.name, '.secrets', n)).join(', ')}`,
    );
  if (a.dependsOn.length)
    out.push(
      `  starts after: ${a.dependsOn.map((d) => `${d.app}${d.condition === 'healthy' ? ' (healthy)' : ''}`).join(', ')}`,
    );
  if (a.health) out.push('  health check: yes');
  for (const ad of a.advertise) out.push(`  announced on the LAN: ${ad.type} port ${ad.port}`);
  return out;
}
