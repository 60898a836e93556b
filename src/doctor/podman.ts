// podman itself: its version, its storage, and proof that its runtime really starts a
// container (with --init when a recipe uses it, so a missing catatonit shows here too).
import type { CheckResult, DoctorDeps, DoctorFacts, PodmanInfo } from './types.js';

export const FALLBACK_IMAGE = 'localhost/berth/busybox:1.35.0';
const MIN_PODMAN = [4, 3];
const MAX_IMAGES_TRIED = 6;
const lastLine = (text: string) => text.trim().split('\n').at(-1) ?? '';

export async function podmanInfo(deps: DoctorDeps): Promise<PodmanInfo | undefined> {
  const r = await deps.runner([deps.config.podman, 'info', '--format=json'], { timeoutMs: 30_000 });
  if (r.code !== 0) return undefined;
  try {
    const info = JSON.parse(r.stdout) as {
      store?: { graphRoot?: string };
      host?: { ociRuntime?: { name?: string } };
    };
    return {
      ...(info.store?.graphRoot ? { graphRoot: info.store.graphRoot } : {}),
      ...(info.host?.ociRuntime?.name ? { ociRuntime: info.host.ociRuntime.name } : {}),
    };
  } catch {
    return undefined;
  }
}

export async function checkPodmanVersion(deps: DoctorDeps): Promise<CheckResult> {
  const podman = deps.config.podman;
  const r = await deps.runner([podman, '--version'], { timeoutMs: 15_000 });
  if (r.code !== 0)
    return {
      id: 'podman',
      status: 'fail',
      summary: `${podman} does not run: ${lastLine(r.stderr) || `exit status ${r.code}`}`,
      fix: 'Install the Debian package podman (or point BERTH_PODMAN at podman).',
    };
  const version = /(\d+)\.(\d+)(?:\.\d+)?/.exec(r.stdout);
  const [major, minor] = [Number(version?.[1] ?? 0), Number(version?.[2] ?? 0)];
  if (major < MIN_PODMAN[0]! || (major === MIN_PODMAN[0] && minor < MIN_PODMAN[1]!))
    return {
      id: 'podman',
      status: 'warn',
      summary: `${r.stdout.trim()} (${podman}); berth is tested with podman ${MIN_PODMAN.join('.')} and newer`,
      fix: 'Upgrade podman to 4.3 or newer (Debian 12 or 13 ship one).',
    };
  return { id: 'podman', status: 'ok', summary: `podman ${version?.[0]} (${podman})` };
}

/** The first present of the recipes' images and berth's test image. */
async function imageToTry(deps: DoctorDeps, images: string[]): Promise<string | undefined> {
  for (const image of [...new Set([...images, FALLBACK_IMAGE])].slice(0, MAX_IMAGES_TRIED)) {
    const r = await deps.runner([deps.config.podman, 'image', 'exists', image], { timeoutMs: 15_000 });
    if (r.code === 0) return image;
  }
  return undefined;
}

export async function checkRuntime(deps: DoctorDeps, facts: DoctorFacts): Promise<CheckResult> {
  const { apps } = await facts.recipes();
  const image = await imageToTry(
    deps,
    apps.map((a) => a.image),
  );
  if (!image)
    return {
      id: 'runtime',
      status: 'warn',
      summary: `the runtime could not be tried: none of the recipes' images nor ${FALLBACK_IMAGE} is present locally`,
      fix: "Run 'berth apply' (it loads or pulls the recipes' images), then run berth doctor again.",
    };
  const init = apps.some((a) => a.init);
  // `true` as the entrypoint: any image with a shell userland has it, whatever its own entrypoint.
  const argv = [
    deps.config.podman,
    'run',
    '--rm',
    '--network=none',
    '--pull=never',
    ...(init ? ['--init'] : []),
    '--entrypoint=true',
    image,
  ];
  const r = await deps.runner(argv, { timeoutMs: 90_000 });
  const runtime = (await facts.podmanInfo())?.ociRuntime ?? "podman's runtime";
  const how = `${image}${init ? ' with --init' : ''}`;
  if (r.code === 0)
    return { id: 'runtime', status: 'ok', summary: `${runtime} started a container from ${how}` };
  const why = lastLine(r.stderr) || `exit status ${r.code}`;
  if (r.code === 127 && /executable file not found|not found in \$PATH/.test(r.stderr))
    return {
      id: 'runtime',
      status: 'warn',
      summary: `the runtime could not be tried: ${image} has no 'true' program`,
      fix: `Load ${FALLBACK_IMAGE} (npm run images builds it) so berth doctor can try the runtime.`,
    };
  return {
    id: 'runtime',
    status: 'fail',
    summary: `${runtime} could not start a container from ${how}: ${why}`,
    fix: /container-init|catatonit/.test(r.stderr)
      ? 'Install the Debian package catatonit (podman --init needs it).'
      : `Fix podman until 'podman ${argv.slice(1).join(' ')}' works (its error is above).`,
  };
}
