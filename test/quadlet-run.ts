// The `podman run` that podman's own Quadlet generator makes from exported files, and what a
// podman run argv means (names, timers and pin tags that differ by design left out): shared
// by the Quadlet export test and the compose import property test.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Quadlet of the appliance's podman 5.4, from the trixie tree the image build caches, under `work`. */
export function extractQuadlet(cache: string, work: string): string {
  const tree = existsSync(cache)
    ? readdirSync(cache).find((f) => /^trixie-base-.*\.tar$/.test(f))
    : undefined;
  if (!tree)
    throw new Error(
      `no trixie tree in ${cache} to take Quadlet from: 'npm run os-image' makes it (npm test does first)`,
    );
  execFileSync('tar', ['-C', work, '-xf', join(cache, tree), './usr/libexec/podman/quadlet']);
  return join(work, 'usr/libexec/podman/quadlet');
}

/** systemd's word splitting of a command line, then its `%%` and `$$` unescaping. */
export function splitExec(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (line[i] === ' ') i++;
    if (i >= line.length) break;
    let w = '';
    if (line[i] === '"') {
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\') i++;
        w += line[i++];
      }
      i++;
    } else while (i < line.length && line[i] !== ' ') w += line[i++];
    // `$$` is a literal `$`; a lone `$NAME` would be expanded by systemd: marked, so it never matches.
    out.push(
      w
        .replaceAll('%%', '%')
        .replace(/\$(\$|(?=[A-Za-z_{]))/g, (_m, d: string) => (d ? '$' : '<systemd expands $>')),
    );
  }
  return out;
}

const VALUE_FLAGS = new Set(
  'name cidfile env volume publish network cap-add device security-opt dns stop-signal health-cmd health-interval health-timeout health-retries health-start-period health-on-failure label user workdir memory cpu-shares stop-timeout entrypoint env-file network-alias pull log-driver log-opt sdnotify cgroups'.split(
    ' ',
  ),
);
const SHORT: Record<string, string> = {
  '-v': '--volume',
  '-e': '--env',
  '-p': '--publish',
  '-d': '--detach',
};
const DROP =
  /^--(name|cidfile|replace|rm|detach|cgroups|sdnotify|pull|log-driver|log-opt|health-interval)(=|$)|^--label=berth\.hash=/;

/** What a `podman run` argv means, with what differs by design (names, timers, pin tags) left out. */
export function meaning(argv: readonly string[], volumes: ReadonlyMap<string, string> = new Map()) {
  const flags: string[] = [];
  let i = argv[0] === 'run' ? 1 : 0;
  for (; i < argv.length && argv[i]!.startsWith('-'); i++) {
    let f = SHORT[argv[i]!] ?? argv[i]!;
    if (!f.includes('=') && VALUE_FLAGS.has(f.slice(2))) f = `${f}=${argv[++i]}`;
    if (f.startsWith('--volume=')) {
      const [src, ...rest] = f.slice(9).split(':');
      f = `--volume=${[volumes.get(src!) ?? src, ...rest].join(':')}`;
    }
    if (f.startsWith('--health-cmd=')) {
      const v = f.slice(13);
      const j = v.startsWith('[') ? (JSON.parse(v) as string[]) : undefined;
      if (j?.[0] === 'CMD-SHELL') f = `--health-cmd=${j[1]}`;
    }
    // podman takes capabilities in any case; Quadlet writes them in lower case.
    if (f.startsWith('--cap-add=')) f = f.toUpperCase().replace('--CAP-ADD=', '--cap-add=');
    if (!DROP.test(f)) flags.push(f);
  }
  return { flags: flags.sort(), image: argv[i], command: argv.slice(i + 1) };
}

/** The podman run argv Quadlet (at `quadlet`) generates for `unit` from the files, written under `work`. */
export function generated(
  quadlet: string,
  work: string,
  files: { name: string; text: string }[],
  unit: string,
): string[] {
  const dir = mkdtempSync(join(work, 'units-'));
  for (const f of files) writeFileSync(join(dir, f.name), f.text);
  const r = spawnSync(quadlet, ['-dryrun'], { env: { QUADLET_UNIT_DIRS: dir }, encoding: 'utf8' });
  const text = r.stdout.split(/^---(.*)---$/m);
  const at = text.indexOf(unit);
  if (at < 0) throw new Error(`Quadlet made no ${unit}:\n${r.stderr}`);
  const exec = /^ExecStart=(.*)$/m.exec(text[at + 1]!)?.[1];
  if (!exec) throw new Error(`no ExecStart in ${unit}:\n${text[at + 1]}`);
  return splitExec(exec).slice(1);
}
