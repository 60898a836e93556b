// Running the system's tools for berth os: argument arrays, no shell; output collected, and
// long commands (sysupdate writing a slot) shown as they go.
import { spawn } from 'node:child_process';
import type { RunResult } from './execute.js';

export function runTool(onLine?: (line: string) => void): (argv: string[]) => Promise<RunResult> {
  return (argv) =>
    new Promise((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (onLine) for (const l of d.toString().split('\n')) if (l.trim()) onLine(l.trimEnd());
      });
      child.once('error', (e) => resolve({ code: 127, stdout, stderr: `${argv[0]}: ${e.message}` }));
      child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    });
}
