// Fault injection for the tests that kill berth at a given point of its work: with
// BERTH_FAULT_KILL_AT=<point> in its environment, berth sends itself SIGKILL there, exactly
// as a power cut or an OOM kill would stop it. Unset (always, outside those tests), nothing.
export function faultPoint(point: string, env: NodeJS.ProcessEnv = process.env): void {
  if (env.BERTH_FAULT_KILL_AT === point) process.kill(process.pid, 'SIGKILL');
}
