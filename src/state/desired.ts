// Desired state: for each valid recipe, the unit berth would write and what must exist on disk.
import { type App, holdsSecret } from '../recipe/app.js';
import { secretNames } from '../recipe/template.js';
import { appPaths } from '../render/paths.js';
import { type RenderContext, type RenderedUnit, renderUnit } from '../render/unit.js';

export interface DirSpec {
  path: string;
  mode: number;
  owner?: { uid: number; gid?: number };
  /** The data disk (label) the dir lives on: made only while the disk is mounted. */
  disk?: string;
}

export interface DesiredApp {
  app: App;
  unit: RenderedUnit;
  dirs: DirSpec[];
  /** Names of the ${secret:…} values the app uses. */
  secrets: string[];
  /** The data dirs an update snapshots. */
  snapshotPaths: string[];
}

export function desiredApp(app: App, ctx: RenderContext): DesiredApp {
  const paths = appPaths(ctx.dataDir, app.name);
  const usesSecrets =
    app.env.some((e) => e.secret) || app.files.some((f) => secretNames(f.content).length > 0);
  const dirs: DirSpec[] = [
    { path: paths.root, mode: 0o755 },
    // berth's own volume dirs, and those on data disks; a person's host: dirs are theirs to make.
    ...app.volumes.flatMap((v) =>
      v.host && !v.disk
        ? []
        : [
            {
              path: v.host ?? paths.volume(v.name),
              mode: 0o755,
              ...(v.owner ? { owner: v.owner } : {}),
              ...(v.disk ? { disk: v.disk } : {}),
            },
          ],
    ),
    ...(app.files.length > 0
      ? [{ path: paths.configDir, mode: app.files.some(holdsSecret) ? 0o700 : 0o755 }]
      : []),
    ...(usesSecrets ? [{ path: paths.secretsDir, mode: 0o700 }] : []),
    // The unit's StandardOutput=append: file lies here: systemd does not create the dir (exit 209).
    // 0700: an app's output may hold what it should not show to other users.
    ...(ctx.unitOutput === 'file' ? [{ path: paths.logDir, mode: 0o700 }] : []),
  ];
  const secrets = [
    ...new Set([
      ...app.env.flatMap((e) => secretNames(e.value)),
      ...app.files.flatMap((f) => secretNames(f.content)),
    ]),
  ].sort();
  return { app, unit: renderUnit(app, ctx), dirs, secrets, snapshotPaths: snapshotPaths(app, ctx.dataDir) };
}

/** The data an update snapshots: berth's own volumes, and host paths when the recipe says `all`; never read-only ones. */
export function snapshotPaths(app: App, dataDir: string): string[] {
  if (app.update.snapshot === false) return [];
  return app.volumes
    .filter((v) => !v.readonly && (v.host === undefined || app.update.snapshot === 'all'))
    .map((v) => v.host ?? appPaths(dataDir, app.name).volume(v.name));
}
