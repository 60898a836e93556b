// An app's status as `berth status --json` gives it, for tests of what shows it.
import type { AppStatus } from '../../src/status.js';

export const appStatus = (over: Partial<AppStatus> = {}): AppStatus => ({
  app: 'web',
  unit: 'berth-web.service',
  enabled: true,
  state: 'active',
  subState: 'running',
  restarts: 0,
  ports: ['8080->80/tcp'],
  network: 'bridge',
  errors: [],
  pending: false,
  ...over,
});
