// Rules across recipe files: unique names, dependencies that exist, no two apps on one
// host port. The earlier file (by path) keeps what is contested; the later one is invalid
// and says which file it collides with, so one bad recipe never takes a good one down.
import type { App } from './app.js';
import type { ParsedRecipe } from './parse.js';

function where(r: ParsedRecipe, path: PropertyKey[]): string {
  const d = r.locator.at(path, '');
  return `${r.file}:${d.line}`;
}

function reject(r: ParsedRecipe, path: PropertyKey[], message: string): void {
  r.diagnostics.push(r.locator.at(path, message));
  delete r.app;
}

/** Adds cross-file diagnostics to `results` in place and drops the app of every file that gets one. */
export function crossCheck(results: ParsedRecipe[]): void {
  checkNames(results);
  checkDependencies(results);
  checkPorts(results);
}

function checkNames(results: ParsedRecipe[]): void {
  const owner = new Map<string, ParsedRecipe>();
  for (const r of results) {
    if (!r.app) continue;
    const first = owner.get(r.app.name);
    if (first)
      reject(
        r,
        ['name'],
        `app name '${r.app.name}' is already used by ${where(first, ['name'])}; names must be unique`,
      );
    else owner.set(r.app.name, r);
  }
}

function checkDependencies(results: ParsedRecipe[]): void {
  const declared = new Set(results.flatMap((r) => (r.declaredName ? [r.declaredName] : [])));
  const apps = new Map(results.flatMap((r) => (r.app ? [[r.app.name, r.app] as const] : [])));
  for (const r of results) {
    const app = r.app;
    if (!app) continue;
    app.dependsOn.forEach((d, i) => {
      const target = apps.get(d.app);
      if (!declared.has(d.app))
        reject(r, ['depends_on', i], `depends on '${d.app}', but no recipe defines an app of that name`);
      else if (target && app.enabled && !target.enabled)
        reject(
          r,
          ['depends_on', i],
          `depends on '${d.app}', which is disabled (enabled: false in ${target.file})`,
        );
      else if (target && d.condition === 'healthy' && !target.health)
        reject(
          r,
          ['depends_on', i],
          `waits for '${d.app}' to be healthy, but '${d.app}' has no health check`,
        );
    });
  }
  // Cycles: systemd would refuse to start any unit in one, so every member is invalid.
  const byName = new Map(results.flatMap((r) => (r.app ? [[r.app.name, r] as const] : [])));
  const state = new Map<string, 'visiting' | 'done'>();
  const inCycle = new Map<string, string[]>();
  const visit = (name: string, stack: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...stack.slice(stack.indexOf(name)), name];
      for (const n of cycle) if (!inCycle.has(n)) inCycle.set(n, cycle);
      return;
    }
    state.set(name, 'visiting');
    for (const d of byName.get(name)?.app?.dependsOn ?? [])
      if (byName.has(d.app)) visit(d.app, [...stack, name]);
    state.set(name, 'done');
  };
  for (const name of byName.keys()) visit(name, []);
  for (const [name, cycle] of inCycle) {
    const r = byName.get(name)!;
    const i = r.app!.dependsOn.findIndex((d) => inCycle.has(d.app));
    reject(r, ['depends_on', Math.max(0, i)], `dependency cycle: ${cycle.join(' → ')}`);
  }
}

interface Claim {
  r: ParsedRecipe;
  path: PropertyKey[];
  bind?: string;
}

const overlaps = (a?: string, b?: string) => a === undefined || b === undefined || a === b;

/** Host ports an app occupies: published ports, and for host-network apps the ports they advertise. */
export function hostPortClaims(
  app: App,
): { port: number; protocol: string; bind?: string; path: PropertyKey[] }[] {
  if (app.network === 'host')
    return app.advertise.map((a, i) => ({
      port: a.port,
      protocol: a.protocol,
      path: ['advertise', i, 'port'],
    }));
  return app.ports.map((p, i) => ({
    port: p.host,
    protocol: p.protocol,
    ...(p.bind ? { bind: p.bind } : {}),
    path: ['ports', i],
  }));
}

function checkPorts(results: ParsedRecipe[]): void {
  const taken = new Map<string, Claim[]>();
  for (const r of results) {
    const app = r.app;
    if (!app?.enabled) continue;
    for (const c of hostPortClaims(app)) {
      const key = `${c.port}/${c.protocol}`;
      const other = taken.get(key)?.find((o) => o.r !== r && overlaps(o.bind, c.bind));
      if (other) {
        reject(
          r,
          c.path,
          `host port ${key} is already taken by app '${other.r.app?.name ?? other.r.declaredName}' (${where(other.r, other.path)}); pick another host port`,
        );
        break;
      }
      taken.set(key, [...(taken.get(key) ?? []), { r, path: c.path, ...(c.bind ? { bind: c.bind } : {}) }]);
    }
  }
}
