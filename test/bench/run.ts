// `npm run bench`: berth's speed against references run side by side in the same
// invocation, on the same machine and images. Not a test: it prints a table of
// measurements and ratios (and writes it to bench-results.md).
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { apply } from '../../src/runtime.js';
import { type Appliance, ensureTestImages, repoRoot, startAppliance } from '../harness/appliance.js';

const run = promisify(execFile);
const root = repoRoot();
const IMAGE = 'localhost/berth/busybox:1.35.0';
const CMD = ['sh', '-c', 'mkdir -p /www && echo ok > /www/ok.txt && exec httpd -f -p 80 -h /www'];
const SIZES = (process.env.BENCH_SIZES ?? '1,10,30').split(',').map(Number);
const NOOP_APPS = Number(process.env.BENCH_NOOP_APPS ?? 100);

const recipe = (i: number, extra = '') => `name: bench-${i}
image: ${IMAGE}
init: true
command: ${JSON.stringify(CMD)}
ports: ["127.0.0.1:${19000 + i}:80"]
stop_timeout: 1s
${extra}`;

const ms = (t0: number) => performance.now() - t0;
const rows: string[][] = [];
const log = (...a: unknown[]) => console.error('bench:', ...a);

async function podman(box: Appliance, args: string[]) {
  return box.podman(args);
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
      podman(box, [
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
  await podman(box, ['rm', '-f', '-t', '1', ...Array.from({ length: n }, (_, i) => `floor-${i}`)]);
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

async function noopReapply(box: Appliance): Promise<{ inProcess: number; cli: number }> {
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
  const t0 = performance.now();
  await box.berth(['apply']);
  const cli = ms(t0);
  await clearRecipes(box, NOOP_APPS);
  return { inProcess: median(samples), cli };
}

async function supervisorFigures(
  box: Appliance,
): Promise<{ editToRunning: number; containerStart: number; rssMb: number }> {
  const unit = (await readFile(join(root, 'units', 'berth.service'), 'utf8'))
    .replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `)
    .replace('/usr/lib/berth/', `${root}/`);
  await writeFile(join(box.config.unitDir, 'berth.service'), unit);
  await writeFile(join(box.config.recipesDir, 'bench-0.yaml'), recipe(0));
  await box.runtime.systemd.reload();
  await box.runtime.systemd.start('berth.service');
  const idOf = async () =>
    (
      await podman(box, [
        'container',
        'inspect',
        '--format',
        '{{.Id}} {{.State.Running}}',
        'berth-bench-0',
      ]).catch(() => '')
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
  await podman(box, ['run', '-d', '--rm', '--init', '--name=floor-x', IMAGE, ...CMD]);
  const containerStart = ms(c0);
  await podman(box, ['rm', '-f', '-t', '1', 'floor-x']);
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
  await box.runtime.systemd.stop('berth.service');
  await clearRecipes(box, 1);
  return { editToRunning: median(samples), containerStart, rssMb: rssKb / 1024 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const f = (x: number | undefined) => (x === undefined ? 'n/a' : `${Math.round(x)} ms`);
const ratio = (a: number, b: number | undefined) => (b === undefined ? 'n/a' : `${(a / b).toFixed(2)}×`);

async function main() {
  await ensureTestImages();
  const box = await startAppliance('bench');
  try {
    for (const n of SIZES) {
      log(`cold apply of ${n} apps`);
      const fl = await floor(box, n);
      const be = await berthCold(box, n);
      const co = await compose(box, n);
      rows.push([
        `cold apply, ${n} app${n > 1 ? 's' : ''}`,
        f(be),
        f(fl),
        f(co),
        ratio(be, fl),
        ratio(be, co),
      ]);
    }
    log('no-op re-apply');
    const noop = await noopReapply(box);
    rows.push([
      `no-op re-apply, ${NOOP_APPS} recipes (in-process / CLI)`,
      `${f(noop.inProcess)} / ${f(noop.cli)}`,
      '',
      '',
      '',
      '',
    ]);
    log('supervisor');
    const sv = await supervisorFigures(box);
    rows.push([
      'recipe saved → container running',
      f(sv.editToRunning),
      `${f(sv.containerStart)} (container start)`,
      '',
      '',
      '',
    ]);
    rows.push(['idle supervisor RSS', `${sv.rssMb.toFixed(1)} MB`, '', '', '', '']);
  } finally {
    await box.stop();
  }
  const head = [
    'measurement',
    'berth',
    'floor: podman run -d',
    'podman-compose',
    'berth/floor',
    'berth/compose',
  ];
  const table = [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
  const out = `Benchmark of ${new Date().toISOString().slice(0, 10)} (${process.env.BENCH_SIZES ?? '1,10,30'} apps; medians where repeated)\n\n${table}\n`;
  console.log(out);
  await writeFile(join(root, 'bench-results.md'), out);
}

await main();
