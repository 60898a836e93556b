// The one process runner: lines across chunk boundaries, a last line with no newline, a
// character split between chunks, stdin, a timeout, a missing program. The child is Node itself.
import { describe, expect, it } from 'vitest';
import { spawnRunner } from '../../src/process/run.js';

const node = (script: string) => [process.execPath, '-e', script];
/** Writes each piece as its own chunk, 30 ms apart. */
const chunks = (stream: 'stdout' | 'stderr', pieces: number[][]) =>
  node(
    `const p = ${JSON.stringify(pieces)}; let i = 0;
     const next = () => { if (i < p.length) { process.${stream}.write(Buffer.from(p[i++])); setTimeout(next, 30); } };
     next();`,
  );
const bytes = (s: string) => [...Buffer.from(s)];

describe('spawnRunner', () => {
  it('hands on whole lines, joined across chunks, with the last one flushed at the end', async () => {
    const lines: string[] = [];
    const pieces = [bytes('pulling la'), bytes('yer 1\ncopying'), bytes(' 2\r50%\rdone')];
    const r = await spawnRunner(chunks('stderr', pieces), {
      timeoutMs: 10_000,
      onStderrLine: (l) => lines.push(l),
    });
    expect(r.code).toBe(0);
    expect(lines).toEqual(['pulling layer 1', 'copying 2', '50%', 'done']);
    expect(r.stderr).toBe('pulling layer 1\ncopying 2\r50%\rdone');
  });

  it('keeps a character whose bytes arrive in two chunks', async () => {
    const lines: string[] = [];
    const e = bytes('é\n');
    const r = await spawnRunner(chunks('stdout', [e.slice(0, 1), e.slice(1)]), {
      timeoutMs: 10_000,
      onStdoutLine: (l) => lines.push(l),
    });
    expect(lines).toEqual(['é']);
    expect(r.stdout).toBe('é\n');
  });

  it('gives stdin (where a secret goes, never argv)', async () => {
    const r = await spawnRunner(node('process.stdin.pipe(process.stdout)'), {
      timeoutMs: 10_000,
      input: 's3cret',
    });
    expect(r.stdout).toBe('s3cret');
  });

  it('kills a program that outlives its timeout and says 124', async () => {
    const t0 = Date.now();
    const r = await spawnRunner(node('setTimeout(() => {}, 60_000)'), { timeoutMs: 300 });
    expect(r.code).toBe(124);
    expect(r.stderr).toContain('(timed out)');
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  it('says 127 for a program that is not there', async () => {
    const r = await spawnRunner(['/nonexistent/berth-no-such-program'], { timeoutMs: 1000 });
    expect(r.code).toBe(127);
    expect(r.stderr).toContain('ENOENT');
  });
});
