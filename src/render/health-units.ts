// An app's health check as two units of berth's own: a timer that the app's unit wants and
// that stops with it, and a oneshot service running `podman healthcheck run`, which applies
// the check's retries, start period and on-failure action. Checks then run wherever the
// app's manager runs (a user manager on the development machines, the system manager on the
// appliance), even while berth itself is down. Pure, like renderUnit.
import type { App } from '../recipe/app.js';
import { execLine, systemdEscape } from './escape.js';
import { containerName, healthUnitNames, unitName } from './paths.js';
import type { RenderContext } from './podman-args.js';

export interface UnitFile {
  name: string;
  text: string;
}

const sec = (ms: number) => `${Math.max(1, Math.ceil(ms / 1000))}s`;

export function renderHealthUnits(app: App, ctx: RenderContext, ownerLines: string[]): UnitFile[] {
  const h = app.health;
  if (!h) return [];
  const names = healthUnitNames(app.name);
  const what = systemdEscape(`berth app ${app.name}: health check`, 'text');
  const timer = [
    `# ${names.timer}: written by berth; runs ${names.service} while ${unitName(app.name)} runs.`,
    '[Unit]',
    `Description=${what} timer`,
    `PartOf=${unitName(app.name)}`,
    `After=${unitName(app.name)}`,
    ...ownerLines,
    '',
    '[Timer]',
    // The first check once the start period is over (or after one interval), then one interval
    // after each check ends, so checks never overlap.
    `OnActiveSec=${sec(Math.max(h.startPeriodMs, h.intervalMs))}`,
    `OnUnitInactiveSec=${sec(h.intervalMs)}`,
    'AccuracySec=1s',
    '',
  ].join('\n');
  const service = [
    `# ${names.service}: written by berth; one health check of ${containerName(app.name)}.`,
    '[Unit]',
    `Description=${what}`,
    ...ownerLines,
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${execLine([ctx.podman, 'healthcheck', 'run', containerName(app.name)])}`,
    // 1 is "unhealthy": podman has recorded it (and acted on it); the check itself ran.
    'SuccessExitStatus=1',
    // Before podman 5.6 a check past its timeout is not killed: systemd does it.
    `TimeoutStartSec=${sec(h.timeoutMs + 30_000)}`,
    '',
  ].join('\n');
  return [
    { name: names.timer, text: timer },
    { name: names.service, text: service },
  ];
}
