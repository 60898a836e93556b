// podman, driven as a program: argument arrays (never a shell), a timeout on every
// call, and JSON output parsed rather than scraped.
import { spawn } from 'node:child_process';
import { type Runner, type RunResult, spawnRunner } from '../process/run.js';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** The longest line `podman events` is read into before it is dropped (an event is under 4 KB). */
const MAX_EVENT_LINE = 1024 * 1024;

export class PodmanError extends Error {}

export interface ContainerInfo {
  id: string;
  name: string;
  app: string;
  hash: string;
  state: string;
  /** Seconds since the epoch. */
  startedAt: number;
  /** The full ID of the image the container runs. */
  imageId: string;
}

/** One image in podman's store: its ID and every name (tag) and digest reference it has. */
export interface ImageInfo {
  id: string;
  names: string[];
  digests: string[];
  /** Bytes. */
  size: number;
  labels: Record<string, string>;
}

export interface InspectedContainer {
  Id: string;
  Name: string;
  State: {
    Status: string;
    Running: boolean;
    StartedAt: string;
    Health?: { Status: string; FailingStreak?: number; Log?: { ExitCode: number; Output: string }[] | null };
  };
  Config: {
    Env: string[];
    Cmd: string[] | null;
    Entrypoint: string[] | string | null;
    Labels: Record<string, string> | null;
  };
  NetworkSettings?: { Ports?: Record<string, { HostIp: string; HostPort: string }[] | null> };
}

const MINUTE = 60_000;

export class Podman {
  constructor(
    /** The podman command, e.g. ['/usr/bin/podman']. */
    private readonly command: readonly string[],
    private readonly runner: Runner = spawnRunner,
  ) {}

  private async run(
    args: readonly string[],
    timeoutMs = MINUTE,
    onStderrLine?: (l: string) => void,
    onStdoutLine?: (l: string) => void,
  ): Promise<RunResult> {
    return this.runner([...this.command, ...args], {
      timeoutMs,
      ...(onStderrLine ? { onStderrLine } : {}),
      ...(onStdoutLine ? { onStdoutLine } : {}),
    });
  }

  private async ok(args: readonly string[], timeoutMs = MINUTE): Promise<string> {
    const r = await this.run(args, timeoutMs);
    if (r.code !== 0)
      throw new PodmanError(
        `podman ${args.slice(0, 2).join(' ')} failed: ${r.stderr.trim().split('\n').slice(-4).join(' | ')}`,
      );
    return r.stdout;
  }

  async imageExists(ref: string): Promise<boolean> {
    return (await this.run(['image', 'exists', ref])).code === 0;
  }

  /** Where podman keeps its images (the file system an image load or pull fills). */
  async storePath(): Promise<string> {
    const out = await this.ok(['info', '--format={{.Store.GraphRoot}}']);
    return out.trim() || '/var/lib/containers/storage';
  }

  /** Loads an image archive (podman save / docker save format); returns what it loaded. */
  async loadArchive(file: string): Promise<string> {
    return (await this.ok(['load', '--quiet', '--input', file], 10 * MINUTE)).trim();
  }

  async pull(ref: string, onProgress: (line: string) => void): Promise<void> {
    const r = await this.run(['pull', ref], 30 * MINUTE, onProgress);
    if (r.code !== 0)
      throw new PodmanError(`cannot pull ${ref}: ${r.stderr.trim().split('\n').at(-1) ?? ''}`);
  }

  async networkExists(name: string): Promise<boolean> {
    return (await this.run(['network', 'exists', name])).code === 0;
  }

  /** A network for apps, labelled as berth's and as this berth instance's (instanceOf). */
  async createNetwork(name: string, instance: string): Promise<void> {
    await this.ok([
      'network',
      'create',
      '--label=berth.network=1',
      `--label=berth.instance=${instance}`,
      name,
    ]);
  }

  /** Removes a network unless a container is on it; returns false when podman refused. */
  async removeNetwork(name: string): Promise<boolean> {
    return (await this.run(['network', 'rm', name])).code === 0;
  }

  /** This berth instance's networks, by the label it gives them. */
  async listBerthNetworks(instance: string): Promise<string[]> {
    const out = await this.ok([
      'network',
      'ls',
      `--filter=label=berth.instance=${instance}`,
      '--format={{.Name}}',
    ]);
    return out.split('\n').filter(Boolean);
  }

  /** IDs of the images any container uses (berth's or not). */
  async imagesInUse(): Promise<Set<string>> {
    const out = await this.ok(['ps', '--all', '--format={{.ImageID}}']);
    return new Set(out.split('\n').filter(Boolean));
  }

  async listNetworks(): Promise<string[]> {
    const out = await this.ok(['network', 'ls', '--format=json']);
    return (JSON.parse(out || '[]') as { name?: string; Name?: string }[]).map((n) => n.name ?? n.Name ?? '');
  }

  /** Every container labelled as a berth app, running or not. */
  async listAppContainers(): Promise<ContainerInfo[]> {
    const out = await this.ok(['ps', '--all', '--filter=label=berth.app', '--format=json']);
    const rows = JSON.parse(out || '[]') as {
      Id: string;
      Names: string[];
      Labels: Record<string, string> | null;
      State: string;
      StartedAt: number;
      ImageID?: string;
    }[];
    return rows.map((r) => ({
      id: r.Id,
      name: r.Names[0] ?? '',
      app: r.Labels?.['berth.app'] ?? '',
      hash: r.Labels?.['berth.hash'] ?? '',
      state: r.State,
      startedAt: r.StartedAt,
      imageId: r.ImageID ?? '',
    }));
  }

  /** Every image in the store, once (podman lists an image once per name). */
  async listImages(): Promise<ImageInfo[]> {
    const out = await this.ok(['images', '--format=json']);
    const rows = JSON.parse(out || '[]') as {
      Id: string;
      Names?: string[] | null;
      RepoDigests?: string[] | null;
      Size?: number;
      Labels?: Record<string, string> | null;
    }[];
    const byId = new Map<string, ImageInfo>();
    for (const r of rows) {
      const x = byId.get(r.Id) ?? {
        id: r.Id,
        names: [],
        digests: [],
        size: r.Size ?? 0,
        labels: r.Labels ?? {},
      };
      for (const n of r.Names ?? []) if (!x.names.includes(n)) x.names.push(n);
      for (const d of r.RepoDigests ?? []) if (!x.digests.includes(d)) x.digests.push(d);
      byId.set(r.Id, x);
    }
    return [...byId.values()];
  }

  /** The full ID of the image a reference names, or undefined when there is none. */
  async imageId(ref: string): Promise<string | undefined> {
    const r = await this.run(['image', 'inspect', '--format={{.Id}}', ref]);
    return r.code === 0 ? r.stdout.trim() || undefined : undefined;
  }

  /** Gives an image (by ID) more names. */
  async tag(id: string, ...refs: string[]): Promise<void> {
    await this.ok(['tag', id, ...refs]);
  }

  /**
   * Image ID (without "sha256:") by every name in the store, from one listing. A format, not
   * JSON: podman's JSON carries each image's history, megabytes for a hundred images.
   */
  async imageNames(): Promise<Map<string, string>> {
    const out = await this.ok(['images', '--no-trunc', '--format={{.ID}} {{.Repository}}:{{.Tag}}']);
    const names = new Map<string, string>();
    for (const line of out.split('\n')) {
      const [id, name] = line.trim().split(' ');
      if (id && name && name !== '<none>:<none>') names.set(name, id.replace(/^sha256:/, ''));
    }
    return names;
  }

  /** Takes one name off an image; the image stays while it has other names or containers. */
  async untag(ref: string): Promise<void> {
    if (!(await this.imageExists(ref))) return;
    await this.ok(['untag', ref, ref]);
  }

  /** Removes an image by ID unless a container uses it; returns false when podman refused. */
  async removeImage(id: string): Promise<boolean> {
    return (await this.run(['rmi', id], 5 * MINUTE)).code === 0;
  }

  /** Builds an image; every output line goes to onLine. Returns podman's error lines on failure. */
  async build(args: readonly string[], onLine: (line: string) => void): Promise<RunResult> {
    return this.run(['build', ...args], 60 * MINUTE, onLine, onLine);
  }

  async inspect(name: string): Promise<InspectedContainer | undefined> {
    const r = await this.run(['container', 'inspect', '--format=json', name]);
    if (r.code !== 0) return undefined;
    return (JSON.parse(r.stdout) as InspectedContainer[])[0];
  }

  async removeContainer(idOrName: string, timeSec = 10): Promise<void> {
    await this.ok(['rm', '--force', '--ignore', `--time=${timeSec}`, idOrName], MINUTE + timeSec * 1000);
  }

  /** Follows podman events matching the filters, one parsed JSON object per event, until stopped. */
  watchEvents(filters: string[], onEvent: (e: Record<string, unknown>) => void): () => void {
    const [cmd, ...base] = this.command;
    const child = spawn(cmd!, [...base, 'events', '--format=json', ...filters.map((f) => `--filter=${f}`)], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          onEvent(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not an event line
        }
      }
      // An event is a short line: a text without line breaks this long is not one; drop it.
      if (buf.length > MAX_EVENT_LINE) buf = '';
    });
    child.on('error', () => {});
    return () => child.kill();
  }

  /** The argv that shows a container's logs or runs a command in it (for the CLI to hand the terminal to). */
  logsArgv(name: string, follow: boolean): string[] {
    return [...this.command, 'logs', ...(follow ? ['--follow'] : []), name];
  }

  execArgv(name: string, cmd: readonly string[], tty: boolean): string[] {
    return [...this.command, 'exec', '--interactive', ...(tty ? ['--tty'] : []), name, ...cmd];
  }
}

/** Image archives in the preload dir, for offline first boots. */
export async function preloadArchives(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => /\.tar(\.gz|\.zst)?$/.test(f)).map((f) => join(dir, f));
  } catch {
    return [];
  }
}
