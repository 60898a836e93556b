// What status shows of a failing health check: the last line the last failed check printed.
import { describe, expect, it } from 'vitest';
import { healthCheckOutput } from '../../src/status/reason.js';

const log = (...entries: [number, string][]) => entries.map(([ExitCode, Output]) => ({ ExitCode, Output }));

describe('health check output', () => {
  it.each([
    ['no health check', undefined, undefined],
    ['healthy', { Status: 'healthy', FailingStreak: 0, Log: log([0, 'ok']) }, undefined],
    ['starting, nothing failed yet', { Status: 'starting', FailingStreak: 0, Log: log() }, undefined],
    [
      'failing: the last failed check, its last line',
      {
        Status: 'unhealthy',
        FailingStreak: 2,
        Log: log([1, 'first'], [0, 'ok'], [1, 'db down\ncannot reach db:5432\n']),
      },
      'cannot reach db:5432',
    ],
    [
      'a failing check that printed nothing',
      { Status: 'starting', FailingStreak: 1, Log: log([1, '']) },
      'exit status 1',
    ],
    [
      'escape sequences removed',
      { Status: 'unhealthy', FailingStreak: 1, Log: log([1, '\u001b[31mred\u001b[0m']) },
      'red',
    ],
  ])('%s', (_name, health, want) => {
    expect(healthCheckOutput(health)).toBe(want);
  });
});
