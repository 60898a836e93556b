// `npm run bench`: berth's speed against references run side by side in the same
// invocation, on the same machine and images. Not a test: it prints a table of
// measurements and ratios (and writes it to bench-results.md). Each figure stands next to
// its floor, the least that the same work costs without berth, measured in the same run:
// compare the ratios, not the times (the machine's speed varies from run to run).
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { apply } from '../../src/runtime.js';
import {
  type Appliance,
  ensureTestImages,
  repoRoot,
  startAppliance,
  startSupervisorService,
} from '../harness/appliance.js';
import { updateFigures } from './updates.js';
import { type MetricsFigures, metricsFigures, notifyFigures } from './notify.js';
import { WEB_PORT, type WebFigures, webFigures } from './web.js';

const run = promisify(execFile);
const root = repoRoot();
const cli = join(root, 'dist', 'cli', 'main.js');
const IMAGE = 'localhost/berth/busybox:1.35.0';
const CMD = ['sh', '-c', 'mkdir -p /www && echo ok > /www/ok.txt && exec httpd -f -p 80 -h /www'];
const SIZES = (process.env.BENCH_SIZES ?? '1,10,30').split(',').map(Number);
const NOOP_APPS = Number(process.env.BENCH_NOOP_APPS ?? 100);
/** Runs per start-up figure (the median is quoted); cold applies up to 10 apps take as many. */
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 9));
const APPLY_RUNS = Math.max(1, Number(process.env.BENCH_APPLY_RUNS ?? 7));
/**
 * BENCH_ONLY=supervisor,metrics runs just those parts (startup, cold, noop, supervisor, web,
 * notify, metrics, updates, boot); unset, all of them. `web` needs `supervisor`.
 */
const ONLY = process.env.BENCH_ONLY?.split(',');
const part = (name: string) => !ONLY || ONLY.includes(name);

const recipe = (i: number, extra = '') => `name: bench-${i}
image: ${IMAGE}
init: true
command: ${JSON.stringify(CMD)}
ports: ["127.0.0.1:${19000 + i}:80"]
stop_timeout: 1s
${extra}`;

const ms = (t0: number) => performance.now() - t0;
const log = (...a: unknown[]) => console.error('bench:', ...a);

interface Row {
  what: string;
  berth: string;
  floor?: { ms: number; is: string };
  /** berth's time, for the ratios. */
  ms?: number;
  /** The most berth/floor may be. */
  goal?: number;
  compose?: number;
}
const rows: Row[] = [];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Wall time of one process, from its start to its exit. */
async function timed(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const t0 = performance.now();
  await run(argv[0]!, argv.slice(1), { env });
  return ms(t0);
}

/** A command and its floor, in turn (so drift in the machine's speed touches both alike). */
async function paired(a: () => Promise<number>, b: () => Promise<number>, runs: number) {
  const as: number[] = [];
  const bs: number[] = [];
  for (let k = 0; k < runs; k++) {
    as.push(await a());
    bs.push(await b());
  }
  return { a: median(as), b: median(bs) };
}

/** berth CLI start-up against `node -e 0`; the first run of a build writes its code cache, so it is not counted. */
async function startup(what: string, args: string[], goal: number) {
  // Without the appliance's BERTH_* settings: the shipped recipes validate against the defaults.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BERTH_')));
  const berth = () => timed([process.execPath, cli, ...args], env);
  const node = () => timed([process.execPath, '-e', '0'], env);
  await berth();
  await node();
  const r = await paired(berth, node, RUNS);
  rows.push({ what, berth: f(r.a), ms: r.a, floor: { ms: r.b, is: 'node -e 0' }, goal });
}

async function clearRecipes(box: Appliance, n: number) {
  for (let i = 0; i < n; i++) await box.removeRecipe(`bench-${i}.yaml`);
  await apply(box.runtime);
}

async function berthCold(box: Appliance, n: number): Promise<number> {
  for (let i = 0; i < n; i++) await writeFile(join(box.config.recipesDir, `bench-${i}.yaml`), recipe(i));
  const t0 = performance.now();
  await box.berth(['apply']);
  const t = ms(t0);
  await clearRecipes(box, n);
  return t;
}

async function floor(box: Appliance, n: number): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      box.podman([
        'run',
        '-d',
        '--rm',
        '--init',
        `--name=floor-${i}`,
        `--publish=127.0.0.1:${19000 + i}:80`,
        IMAGE,
        ...CMD,
      ]),
    ),
  );
  const t = ms(t0);
  await box.podman(['rm', '-f', '-t', '1', ...Array.from({ length: n }, (_, i) => `floor-${i}`)]);
  return t;
}

async function compose(box: Appliance, n: number): Promise<number | undefined> {
  const dir = join(tmpdir(), `berth-bench-compose-${n}`);
  await run('mkdir', ['-p', dir]);
  const services = Array.from(
    { length: n },
    (_, i) =>
      `  s${i}:\n    image: ${IMAGE}\n    init: true\n    command: ${JSON.stringify(CMD)}\n    ports: ["127.0.0.1:${19000 + i}:80"]\n`,
  ).join('');
  await writeFile(join(dir, 'compose.yaml'), `services:\n${services}`);
  const env = { ...process.env, CONTAINERS_CONF: box.env.CONTAINERS_CONF };
  try {
    const t0 = performance.now();
    await run('podman-compose', ['-p', `bench${n}`, 'up', '-d'], { cwd: dir, env });
    const t = ms(t0);
    await run('podman-compose', ['-p', `bench${n}`, 'down', '-t', '1'], { cwd: dir, env });
    return t;
  } catch (e) {
    log('podman-compose failed:', (e as Error).message.split('\n')[0]);
    return undefined;
  }
}

async function coldApply(box: Appliance, n: number) {
  const runs = n <= 10 ? APPLY_RUNS : 1;
  log(`cold apply of ${n} app${n > 1 ? 's' : ''} (${runs} run${runs > 1 ? 's' : ''})`);
  const r = await paired(
    () => berthCold(box, n),
    () => floor(box, n),
    runs,
  );
  const co = await compose(box, n);
  const goal = n === 1 ? 1.5 : n === 10 ? 1.15 : undefined;
  rows.push({
    what: `cold apply, ${n} app${n > 1 ? 's' : ''}${runs > 1 ? '' : ' (one run)'}`,
    berth: f(r.a),
    ms: r.a,
    floor: { ms: r.b, is: 'podman run -d' },
    ...(goal ? { goal } : {}),
    ...(co !== undefined ? { compose: co } : {}),
  });
}

/**
 * A re-apply with nothing to do, of NOOP_APPS running apps: in this process (the supervisor's
 * case), and through the CLI against the least any no-op must pay, a Node.js start plus one
 * listing of the containers.
 */
async function noopReapply(box: Appliance) {
  for (let i = 0; i < NOOP_APPS; i++)
    await writeFile(join(box.config.recipesDir, `bench-${i}.yaml`), recipe(i));
  log(`starting ${NOOP_APPS} apps for the no-op re-apply`);
  await apply(box.runtime);
  const samples: number[] = [];
  for (let k = 0; k < 5; k++) {
    const t0 = performance.now();
    const r = await apply(box.runtime);
    samples.push(ms(t0));
    if (r.steps.length > 0) throw new Error(`no-op apply planned ${r.steps.length} steps`);
  }
  const env = { ...process.env, ...box.env };
  const berth = async () => {
    const t0 = performance.now();
    const r = await box.berth(['apply']);
    const t = ms(t0);
    if (!r.stderr.includes('nothing to do'))
      throw new Error(`the no-op CLI apply did something: ${r.stderr}`);
    return t;
  };
  const least = async () => {
    const t0 = performance.now();
    await run(process.execPath, ['-e', '0'], { env });
    await box.podman(['ps', '-a', '--format=json']);
    return ms(t0);
  };
  await berth();
  const r = await paired(berth, least, Math.max(7, RUNS));
  await clearRecipes(box, NOOP_APPS);
  rows.push({
    what: `no-op re-apply, ${NOOP_APPS} recipes, CLI`,
    berth: f(r.a),
    ms: r.a,
    floor: { ms: r.b, is: 'node -e 0 + podman ps -a' },
    goal: 2,
  });
  rows.push({ what: `no-op re-apply, ${NOOP_APPS} recipes, in-process`, berth: f(median(samples)) });
}

async function supervisorFigures(
  box: Appliance,
  withWeb: boolean,
): Promise<{ editToRunning: number; containerStart: number; rssMb: number; web?: WebFigures }> {
  // With the status page on, as on the appliance.
  const unit = (await readFile(join(root, 'units', 'berth.service'), 'utf8'))
    .replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `)
    .replace('/usr/lib/berth/', `${root}/`)
    .replace('[Service]\n', `[Service]\nEnvironment=BERTH_WEB=127.0.0.1:${WEB_PORT}\n`);
  await writeFile(join(box.config.unitDir, 'berth.service'), unit);
  await writeFile(join(box.config.recipesDir, 'bench-0.yaml'), recipe(0));
  await box.runtime.systemd.reload();
  await box.runtime.systemd.start('berth.service');
  const idOf = async () =>
    (
      await box
        .podman(['container', 'inspect', '--format', '{{.Id}} {{.State.Running}}', 'berth-bench-0'])
        .catch(() => '')
    ).trim();
  const samples: number[] = [];
  for (let k = 0; k < 5; k++) {
    const before = await idOf();
    const t0 = performance.now();
    await box.writeRecipe('bench-0.yaml', recipe(0, `env: {ROUND: "${k}"}\n`));
    for (;;) {
      const now = await idOf();
      if (now && now !== before && now.endsWith('true')) break;
      if (ms(t0) > 30_000) throw new Error('edit did not reach a running container in 30 s');
      await new Promise((r) => setTimeout(r, 10));
    }
    samples.push(ms(t0));
  }
  // The container's own start, for reference: podman run -d of the same container.
  const c0 = performance.now();
  await box.podman(['run', '-d', '--rm', '--init', '--name=floor-x', IMAGE, ...CMD]);
  const containerStart = ms(c0);
  await box.podman(['rm', '-f', '-t', '1', 'floor-x']);
  await new Promise((r) => setTimeout(r, 3000));
  const { stdout } = await run(
    'systemctl',
    ['--user', 'show', '--property=MainPID', '--value', 'berth.service'],
    {
      env: { ...process.env, ...box.env },
    },
  );
  const status = await readFile(`/proc/${stdout.trim()}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const web = withWeb
    ? await webFigures(Number(stdout.trim()), {
        write: (file, text) => box.writeRecipe(file, text),
        remove: (file) => box.removeRecipe(file),
      })
    : undefined;
  await box.runtime.systemd.stop('berth.service');
  await clearRecipes(box, 1);
  return { editToRunning: median(samples), containerStart, rssMb: rssKb / 1024, ...(web ? { web } : {}) };
}

const signedMb = (x: number) => `${x < 0 ? '−' : '+'}${Math.abs(x).toFixed(1)} MB`;
/** The supervisor (status page on) with n apps running, its /metrics measured, then all stopped again. */
async function metricsAtScale(box: Appliance, n: number): Promise<MetricsFigures> {
  for (let i = 0; i < n; i++) await writeFile(join(box.config.recipesDir, `bench-${i}.yaml`), recipe(i));
  await startSupervisorService(box, [`Environment=BERTH_WEB=127.0.0.1:${WEB_PORT}`]);
  try {
    return await metricsFigures(`http://127.0.0.1:${WEB_PORT}`, n);
  } finally {
    await box.runtime.systemd.stop('berth.service');
    await clearRecipes(box, n);
  }
}

const f = (x: number | undefined) => (x === undefined ? 'n/a' : `${Math.round(x)} ms`);
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? '' : `${(a / b).toFixed(2)}×`;

function table(): string {
  const head = [
    'measurement',
    'berth',
    'floor (same run)',
    'berth/floor',
    'goal',
    'podman-compose',
    'berth/compose',
  ];
  const body = rows.map((r) => {
    const x = r.floor && r.ms !== undefined ? r.ms / r.floor.ms : undefined;
    return [
      r.what,
      r.berth,
      r.floor ? `${f(r.floor.ms)} (${r.floor.is})` : '',
      ratio(r.ms, r.floor?.ms),
      r.goal === undefined || x === undefined ? '' : `≤ ${r.goal}×: ${x <= r.goal ? 'met' : 'missed'}`,
      r.compose === undefined ? '' : f(r.compose),
      ratio(r.ms, r.compose),
    ];
  });
  return [head, head.map(() => '---'), ...body].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** The status page's rows, from a supervisor with one app. */
function webRows(web: WebFigures) {
  rows.push({ what: 'status page, first render (reads systemd and podman)', berth: f(web.firstMs) });
  rows.push({
    what: 'status page render, model read before (until a change, ≤ 5 s)',
    berth: f(web.pageMs),
    ms: web.pageMs,
    floor: { ms: web.staticMs, is: 'its stylesheet, same server' },
  });
  rows.push({
    what: 'supervisor CPU with one live page open',
    berth: `${web.cpuPctOnePage.toFixed(2)} % of a core`,
  });
  rows.push({ what: 'supervisor RSS with 200 live pages open', berth: `${web.rss200Mb.toFixed(1)} MB` });
  const st = web.stuck;
  rows.push({
    what: `supervisor RSS growth: 256 live pages that never read, a ${Math.round(st.pushKb)} KB push every second for a minute (goal ≤ 20 MB)`,
    berth: `${signedMb(st.rssGrowthMb)} (peak ${signedMb(st.rssPeakGrowthMb)}): ${st.rssPeakGrowthMb <= 20 ? 'met' : 'missed'}`,
  });
  rows.push({
    what: 'a visitor loads the page meanwhile (slowest of its loads)',
    berth: `${f(st.visitorMaxMs)} (${st.visitorLoads} loads, ${st.visitorOk ? 'all answered' : 'some failed'})`,
  });
}

async function supervisorRows(box: Appliance) {
  log('supervisor');
  const sv = await supervisorFigures(box, part('web'));
  rows.push({
    what: 'recipe saved → container running',
    berth: f(sv.editToRunning),
    ms: sv.editToRunning,
    floor: { ms: sv.containerStart, is: 'container start' },
  });
  rows.push({ what: 'idle supervisor RSS (status page on)', berth: `${sv.rssMb.toFixed(1)} MB` });
  if (sv.web) webRows(sv.web);
}

async function notifyRows() {
  log('notifications');
  const nf = await notifyFigures();
  rows.push({
    what: "event → message on a loopback webhook (berth's own work; the 5 s gathering window aside)",
    berth: f(nf.deliverMs),
    ms: nf.deliverMs,
    floor: { ms: nf.floorMs, is: 'the same POST by fetch' },
  });
}

async function metricsRows(box: Appliance) {
  log('metrics');
  const mf = await metricsAtScale(box, 30);
  rows.push({
    what: `/metrics scrape at ${mf.apps} apps (${(mf.bytes / 1024).toFixed(1)} KB)`,
    berth: f(mf.scrapeMs),
    ms: mf.scrapeMs,
    floor: { ms: mf.floorMs, is: 'its stylesheet, same server' },
  });
}

async function updateRows(box: Appliance) {
  log('updates');
  const up = await updateFigures(box);
  rows.push({
    what: 'update of a bridge web app: time with no HTTP answer',
    berth: f(up.downtime.berth),
    ms: up.downtime.berth,
    floor: { ms: up.downtime.floor, is: 'podman stop + podman run' },
  });
  rows.push({
    what: 'automatic rollback (update to an image that exits at once → old answers)',
    berth: f(up.rollback.auto),
  });
  rows.push({ what: 'berth rollback → previous answers', berth: f(up.rollback.manual) });
  rows.push({
    what: `snapshot of ${Math.round(up.snapshot.mb)} MB (throughput)`,
    berth: `${Math.round(up.snapshot.berthMBs)} MB/s`,
    // As times, so the ratio reads like the others (berth/floor; lower is better).
    ms: 1000 / up.snapshot.berthMBs,
    floor: {
      ms: 1000 / up.snapshot.floorMBs,
      is: `per MB; tar | zstd: ${Math.round(up.snapshot.floorMBs)} MB/s`,
    },
  });
}

/** The appliance image's first boot under QEMU (software emulation), beside the same image with berth disabled booted to multi-user.target in the same run. */
async function bootRow() {
  log('appliance boot in QEMU (two boots, a few minutes)');
  const { stdout } = await run('bash', [join(root, 'test/bench/os-boot.sh')], { maxBuffer: 1 << 20 });
  const [ready, floorS] = stdout.trim().split(/\s+/).map(Number);
  rows.push({
    what: 'appliance first boot: QEMU start → `berth: ready` (TCG)',
    berth: f(ready! * 1000),
    ms: ready! * 1000,
    floor: { ms: floorS! * 1000, is: 'same image, berth disabled, to multi-user' },
  });
}

async function main() {
  const t0 = performance.now();
  if (part('startup')) {
    log(`CLI start-up (${RUNS} runs each)`);
    await startup('`berth validate recipes` (shipped recipes)', ['validate', join(root, 'recipes')], 2);
    await startup('`berth --help`', ['--help'], 1.5);
  }
  await ensureTestImages();
  const box = await startAppliance('bench');
  try {
    // Not counted: the first CLI apply of a build writes its code cache, and podman's first
    // container start warms its storage.
    await floor(box, 1);
    await berthCold(box, 1);
    if (part('cold')) for (const n of SIZES) await coldApply(box, n);
    if (part('noop')) {
      log('no-op re-apply');
      await noopReapply(box);
    }
    if (part('supervisor')) await supervisorRows(box);
    if (part('notify')) await notifyRows();
    if (part('metrics')) await metricsRows(box);
    if (part('updates')) await updateRows(box);
  } finally {
    await box.stop();
  }
  // BENCH_OS_BOOT=0 skips the boot, as BENCH_ONLY without `boot` does.
  if (process.env.BENCH_OS_BOOT !== '0' && part('boot')) await bootRow();
  const out = `Benchmark of ${new Date().toISOString().slice(0, 10)} (${SIZES.join(',')} apps; medians of ${RUNS} runs for start-up and the CLI no-op, ${APPLY_RUNS} for cold applies up to 10 apps; ${Math.round(ms(t0) / 1000)} s in all)\n\n${table()}\n`;
  console.log(out);
  // A partial run (BENCH_ONLY) leaves the last full run's file alone.
  if (!ONLY) await writeFile(join(root, 'bench-results.md'), out);
}

await main();
