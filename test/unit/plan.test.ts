// The planner is pure: given desired and current state, it returns steps. Each row is
// "given this, expect these steps" (kinds and apps, in order).
import { describe, expect, it } from 'vitest';
import { plan } from '../../src/plan/plan.js';
import type { Step } from '../../src/plan/steps.js';
import type { ContainerInfo } from '../../src/podman/podman.js';
import { pinRef } from '../../src/render/paths.js';
import type { CurrentApp, CurrentState } from '../../src/state/current.js';
import { type DesiredApp, desiredApp } from '../../src/state/desired.js';
import { RENDER_CTX, validApp } from '../helpers.js';

const IMAGE = 'docker.io/library/nginx:1.27';
const IMAGE_ID = 'a'.repeat(64);
const DATA = RENDER_CTX.dataDir;
const recipe = (name: string, extra = '') => `name: ${name}\nimage: ${IMAGE}\n${extra}`;
const want = (name: string, extra = '') => desiredApp(validApp(recipe(name, extra)), RENDER_CTX);

/** The current state of an app that is exactly as desired and running. */
function settled(d: DesiredApp, over: Partial<CurrentApp> = {}): CurrentApp {
  return {
    name: d.app.name,
    unitHash: d.unit.hash,
    activeState: 'active',
    unitFileState: 'enabled',
    needDaemonReload: false,
    containers: [container(d.app.name, d.unit.hash)],
    missingDirs: [],
    missingSecrets: [],
    missingFiles: false,
    record: { current: { ref: IMAGE, id: IMAGE_ID, at: '2026-01-01T00:00:00.000Z' }, rejected: [] },
    ...over,
  };
}

function container(app: string, hash: string, over: Partial<ContainerInfo> = {}): ContainerInfo {
  return {
    id: `id-${app}`,
    name: `berth-${app}`,
    app,
    hash,
    state: 'running',
    startedAt: 1,
    imageId: IMAGE_ID,
    ...over,
  };
}

/** podman's store: the images by name, and each app's pin tag where its record has a pin. */
function world(apps: CurrentApp[], images = [IMAGE], networks: string[] = []): CurrentState {
  const pins = apps.flatMap((a) =>
    a.record.current ? [[pinRef(DATA, a.name), a.record.current.id] as const] : [],
  );
  return {
    dataDir: DATA,
    apps: new Map(apps.map((a) => [a.name, a])),
    images: new Map([...images.map((i) => [i, IMAGE_ID] as const), ...pins]),
    networks: new Set(networks),
  };
}

const brief = (steps: Step[]) => steps.map((s) => ('app' in s ? `${s.kind} ${s.app}` : s.kind));

interface Row {
  name: string;
  desired: DesiredApp[];
  current: CurrentState;
  protectedApps?: string[];
  expect: string[];
}

const web = want('web');
const db = want('db');
const webEdited = want('web', 'env: {A: "1"}\n');
const vol = want('vol', 'volumes:\n  data: {target: /data}\n');
const sec = want('sec', 'env: {PW: "${secret:pw}"}\n');
const off = want('off', 'enabled: false\n');
const api = want('api', 'depends_on: [db]\n');
const netted = want('net', 'networks: [backend]\n');

const rows: Row[] = [
  {
    name: 'a new app: dirs, unit, enable, reload, start',
    desired: [web],
    current: world([]),
    expect: ['make-dirs web', 'pin-image web', 'write-unit web', 'enable web', 'daemon-reload', 'start web'],
  },
  {
    name: 'everything as desired: nothing',
    desired: [web, db],
    current: world([settled(web), settled(db)]),
    expect: [],
  },
  {
    name: 'a recipe edit restarts only that app',
    desired: [webEdited, db],
    current: world([settled(web), settled(db)]),
    expect: ['write-unit web', 'daemon-reload', 'restart web'],
  },
  {
    name: 'unit rewritten but berth killed before the restart: the old container is restarted',
    desired: [webEdited],
    current: world([settled(webEdited, { containers: [container('web', web.unit.hash)] })]),
    expect: ['restart web'],
  },
  {
    name: 'unit written but never reloaded: reload and start',
    desired: [web],
    current: world([settled(web, { activeState: 'inactive', needDaemonReload: true, containers: [] })]),
    expect: ['daemon-reload', 'start web'],
  },
  {
    name: 'a failed app is started again',
    desired: [web],
    current: world([settled(web, { activeState: 'failed', containers: [] })]),
    expect: ['start web'],
  },
  {
    name: 'a removed recipe: stop, disable, delete unit; data untouched',
    desired: [db],
    current: world([settled(web), settled(db)]),
    expect: [
      'stop web',
      'disable web',
      'remove-container web',
      'delete-unit web',
      'release-images web',
      'daemon-reload',
    ],
  },
  {
    name: 'an invalid recipe protects its running app',
    desired: [db],
    current: world([settled(web), settled(db)]),
    protectedApps: ['web'],
    expect: [],
  },
  {
    name: 'enabled: false stops and disables but keeps the unit',
    desired: [off],
    current: world([settled(want('off'))]),
    expect: ['stop off', 'disable off'],
  },
  {
    name: 'missing volume dir is recreated without touching the running app',
    desired: [vol],
    current: world([settled(vol, { missingDirs: [vol.dirs[1]!.path] })]),
    expect: ['make-dirs vol'],
  },
  {
    name: 'secrets are generated and the env file written before the first start',
    desired: [sec],
    current: world([]),
    expect: [
      'make-dirs sec',
      'make-secrets sec',
      'write-files sec',
      'pin-image sec',
      'write-unit sec',
      'enable sec',
      'daemon-reload',
      'start sec',
    ],
  },
  {
    name: 'a missing image is fetched, a missing network created',
    desired: [netted],
    current: world([], []),
    expect: [
      'make-dirs net',
      'ensure-image net',
      'pin-image net',
      'ensure-network net',
      'write-unit net',
      'enable net',
      'daemon-reload',
      'start net',
    ],
  },
  {
    name: 'dependencies come first, in every phase',
    desired: [api, db],
    current: world([]),
    expect: [
      'make-dirs db',
      'make-dirs api',
      'pin-image db',
      'pin-image api',
      'write-unit db',
      'write-unit api',
      'enable db',
      'enable api',
      'daemon-reload',
      'start db',
      'start api',
    ],
  },
  {
    name: 'a stray container with the app label but another name is removed',
    desired: [web],
    current: world([
      settled(web, {
        containers: [container('web', web.unit.hash), container('web', 'x', { name: 'old-web' })],
      }),
    ]),
    expect: ['remove-container web'],
  },
  {
    name: 'an orphan container without unit or recipe is removed',
    desired: [],
    current: world([
      {
        name: 'ghost',
        activeState: 'inactive',
        unitFileState: '',
        needDaemonReload: false,
        containers: [container('ghost', 'x')],
        missingDirs: [],
        missingSecrets: [],
        missingFiles: false,
        record: { rejected: [] },
      },
    ]),
    expect: ['remove-container ghost'],
  },
  // Pinned images.
  {
    name: "the recipe's tag moved to another image: nothing changes (the app runs its pin)",
    desired: [web],
    current: (() => {
      const w = world([settled(web)]);
      w.images.set(IMAGE, 'b'.repeat(64));
      return w;
    })(),
    expect: [],
  },
  {
    name: 'the pin tag was moved by someone else: put back, and the app restarted onto it',
    desired: [web],
    current: (() => {
      const w = world([
        settled(web, { containers: [container('web', web.unit.hash, { imageId: 'b'.repeat(64) })] }),
      ]);
      w.images.set(pinRef(DATA, 'web'), 'b'.repeat(64));
      return w;
    })(),
    expect: ['pin-image web', 'restart web'],
  },
  {
    name: 'the recipe names another image: get it, pin it, restart',
    desired: [
      want('web', '').app.image === IMAGE
        ? desiredApp(validApp('name: web\nimage: docker.io/library/nginx:1.28\n'), RENDER_CTX)
        : web,
    ],
    current: world([settled(web)]),
    expect: ['ensure-image web', 'pin-image web', 'write-unit web', 'daemon-reload', 'restart web'],
  },
  {
    name: 'an update berth did not finish is rolled back first',
    desired: [vol],
    current: world([
      settled(vol, {
        record: {
          current: { ref: IMAGE, id: 'b'.repeat(64), at: 'x' },
          transition: {
            kind: 'update',
            from: { ref: IMAGE, id: IMAGE_ID, at: 'x' },
            to: { ref: IMAGE, id: 'b'.repeat(64), at: 'x' },
            startedAt: 'x',
            snapshot: '/s.tar.zst',
          },
          rejected: [],
        },
      }),
    ]),
    expect: [
      'begin-update vol',
      'stop vol',
      'restore-snapshot vol',
      'pin-image vol',
      'start vol',
      'end-update vol',
    ],
  },
];

describe('plan', () => {
  it.each(rows)('$name', (row) => {
    const steps = plan({
      desired: row.desired,
      current: row.current,
      protectedApps: new Set(row.protectedApps ?? []),
    });
    expect(brief(steps)).toEqual(row.expect);
  });

  it('a removed app releases its pin tags, and its registry image unless another app uses it; localhost/ images stay', () => {
    const gone = settled(web);
    const local = settled(web, {
      record: { current: { ref: 'localhost/mine/web:1', id: IMAGE_ID, at: 'x' }, rejected: [] },
    });
    const names = (c: CurrentApp, desired: DesiredApp[]) =>
      (
        plan({ desired, current: world([c]), protectedApps: new Set() }).find(
          (s) => s.kind === 'release-images',
        ) as { names: string[] } | undefined
      )?.names;
    expect(names(gone, [])).toEqual([pinRef(DATA, 'web'), pinRef(DATA, 'web', 'previous'), IMAGE]);
    expect(names(gone, [db])).toEqual([pinRef(DATA, 'web'), pinRef(DATA, 'web', 'previous')]);
    expect(names(local, [])).toEqual([pinRef(DATA, 'web'), pinRef(DATA, 'web', 'previous')]);
  });

  it('is pure: the same input gives the same steps', () => {
    const input = {
      desired: [webEdited, db, sec],
      current: world([settled(web)]),
      protectedApps: new Set<string>(),
    };
    expect(plan(input)).toEqual(plan(input));
  });
});
