// The supervisor's control socket: one JSON request per line, one JSON reply per line.
// The socket lives in a root-only (0700) directory and is itself 0600.
import { chmod, mkdir, rm } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { dirname } from 'node:path';

export type ControlRequest = { cmd: 'ping' } | { cmd: 'apply' } | { cmd: 'status' } | { cmd: 'retry' };
export type ControlHandler = (req: ControlRequest) => Promise<unknown>;

export async function serveControl(path: string, handler: ControlHandler): Promise<Server> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await chmod(dirname(path), 0o700);
  await rm(path, { force: true });
  const server = createServer((sock) => {
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.length > 64 * 1024) return sock.destroy();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let req: ControlRequest;
        try {
          req = JSON.parse(line) as ControlRequest;
        } catch {
          sock.write(`${JSON.stringify({ error: 'not JSON' })}\n`);
          continue;
        }
        handler(req).then(
          (result) => sock.write(`${JSON.stringify({ result })}\n`),
          (err: Error) => sock.write(`${JSON.stringify({ error: err.message })}\n`),
        );
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  await chmod(path, 0o600);
  return server;
}

/** Sends one request; undefined when no supervisor listens there. */
export function askControl(path: string, req: ControlRequest, timeoutMs = 15 * 60_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('the supervisor did not answer in time'));
    }, timeoutMs);
    sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (d) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      sock.end();
      const reply = JSON.parse(buf.slice(0, nl)) as { result?: unknown; error?: string };
      if (reply.error) reject(new Error(reply.error));
      else resolve(reply.result);
    });
    sock.on('error', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}
