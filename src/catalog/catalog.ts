// The catalog of vetted recipes shipped with berth (recipes/catalog): an index of apps,
// each one recipe or a stack of several. Read from the package, never from the network.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

const appName = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/);
const portProto = z.string().regex(/^\d{1,5}\/(tcp|udp)$/);

const entry = z.strictObject({
  title: z.string().min(1),
  summary: z.string().min(1),
  tags: z.array(z.string().regex(/^[a-z0-9-]+$/)).default([]),
  /** The stack's recipes, the app first (default: the one recipe named like the app). */
  recipes: z.array(appName).min(1).optional(),
  /** What a host-network app listens on (bridge apps publish theirs in the recipe). */
  host_ports: z.array(portProto).default([]),
  /** Apps doing the same job, which may claim the same ports. */
  alternatives: z.array(appName).default([]),
});

const index = z.strictObject({ apps: z.record(appName, entry) });

export interface CatalogApp {
  name: string;
  title: string;
  summary: string;
  tags: string[];
  /** Recipe names, the app first; each is <dir>/apps/<name>.yaml. */
  recipes: string[];
  hostPorts: string[];
  alternatives: string[];
}

export interface Catalog {
  dir: string;
  apps: CatalogApp[];
}

export const recipePath = (c: Catalog, recipe: string): string => join(c.dir, 'apps', `${recipe}.yaml`);

export async function loadCatalog(dir: string): Promise<Catalog> {
  const file = join(dir, 'index.yaml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new Error(`no catalog at ${dir} (index.yaml is missing; BERTH_CATALOG_DIR names another)`);
  }
  const r = index.safeParse(parse(text));
  if (!r.success)
    throw new Error(`${file}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return {
    dir,
    apps: Object.entries(r.data.apps).map(([name, e]) => ({
      name,
      title: e.title,
      summary: e.summary,
      tags: e.tags,
      recipes: e.recipes ?? [name],
      hostPorts: e.host_ports,
      alternatives: e.alternatives,
    })),
  };
}
