// A container registry for tests, on loopback: the pull side of the OCI distribution API
// (GET/HEAD /v2/, manifests by tag or digest, blobs), serving OCI image layouts that
// `podman push IMAGE oci:DIR:TAG` writes. Blobs can be sent slowly, so a pull takes long
// enough to show progress. podman reaches it as an insecure registry (registries.conf).
import { createReadStream } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface TestRegistry {
  /** host:port, e.g. 127.0.0.1:41234 */
  host: string;
  /** Serves the OCI layout dir as repository name (e.g. 'berth-test/web'); its tags are the layout's ref names. */
  serve(name: string, layoutDir: string): void;
  /** A registries.conf that marks this registry insecure (plain HTTP), for CONTAINERS_REGISTRIES_CONF. */
  writeConf(path: string): Promise<void>;
  close(): Promise<void>;
}

interface IndexJson {
  manifests: { mediaType: string; digest: string; annotations?: Record<string, string> }[];
}

export async function startRegistry(opts: { bytesPerSecond?: number } = {}): Promise<TestRegistry> {
  const repos = new Map<string, string>();
  const rate = opts.bytesPerSecond;
  const blobPath = (dir: string, digest: string) => join(dir, 'blobs', ...digest.split(':'));

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/v2/' || url.pathname === '/v2') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
      const dir = m ? repos.get(m[1]!) : undefined;
      if (!m || !dir) {
        res.writeHead(404).end();
        return;
      }
      const [, , kind, ref] = m;
      let digest = ref!;
      let mediaType = 'application/octet-stream';
      if (kind === 'manifests') {
        const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as IndexJson;
        const entry = index.manifests.find(
          (x) => x.digest === ref || x.annotations?.['org.opencontainers.image.ref.name'] === ref,
        );
        if (!entry) {
          res.writeHead(404).end();
          return;
        }
        digest = entry.digest;
        mediaType = entry.mediaType;
      }
      const path = blobPath(dir, digest);
      const st = await stat(path).catch(() => undefined);
      if (!st) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, {
        'content-type': mediaType,
        'content-length': st.size,
        'docker-content-digest': digest,
      });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      if (!rate || kind === 'manifests') {
        createReadStream(path).pipe(res);
        return;
      }
      // Slowly: a chunk every 50 ms.
      const data = await readFile(path);
      const chunk = Math.max(1, Math.round(rate / 20));
      for (let off = 0; off < data.length; off += chunk) {
        if (res.destroyed) return;
        res.write(data.subarray(off, off + chunk));
        await new Promise((r) => setTimeout(r, 50));
      }
      res.end();
    })().catch(() => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    serve: (name, layoutDir) => void repos.set(name, layoutDir),
    writeConf: (path) =>
      writeFile(
        path,
        `unqualified-search-registries = []\n[[registry]]\nlocation = "${host}"\ninsecure = true\n`,
      ),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
