// The one way berth runs a program and waits for it: an argument array (never a shell), a
// timeout on every call (the program is killed and the result says 124), stdin for what must
// not be in argv, and output handed on line by line across chunk boundaries as it comes.
import { spawn } from 'node:child_process';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type Runner = (
  argv: readonly string[],
  opts: {
    timeoutMs: number;
    onStderrLine?: (line: string) => void;
    onStdoutLine?: (line: string) => void;
    /** Written to the program's stdin (a secret goes here, never into argv). */
    input?: string;
  },
) => Promise<RunResult>;

/** Hands a stream's text on line by line; a line split across chunks is joined, and the last one is flushed at the end. */
function lineSplitter(onLine: ((line: string) => void) | undefined) {
  let partial = '';
  return {
    push(text: string) {
      if (!onLine) return;
      partial += text;
      const lines = partial.split(/\r?\n|\r/);
      partial = lines.pop() ?? '';
      for (const l of lines) if (l) onLine(l);
    },
    end() {
      if (onLine && partial) onLine(partial);
      partial = '';
    },
  };
}

/** Runs a program and collects its output; a timeout kills it and reports code 124. */
export const spawnRunner: Runner = (argv, { timeoutMs, onStderrLine, onStdoutLine, input }) =>
  new Promise((resolve) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd!, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (input !== undefined) {
      child.stdin?.on('error', () => {}); // a program that exits early reports through its status
      child.stdin?.end(input);
    }
    let stdout = '';
    let stderr = '';
    const errLines = lineSplitter(onStderrLine);
    const outLines = lineSplitter(onStdoutLine);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    // Decoded as streams, so a character split across two chunks stays whole.
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      outLines.push(d);
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      errLines.push(d);
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: `${stderr}${err.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      outLines.end();
      errLines.end();
      resolve({
        code: timedOut ? 124 : (code ?? 1),
        stdout,
        stderr: timedOut ? `${stderr}\n(timed out)` : stderr,
      });
    });
  });
