// Picking why an app fails from its last output lines: tables of lines → the reason.
import { describe, expect, it } from 'vitest';
import { mergeFileOutput, parseJournalEntry, parseK8sLog, journalArgv } from '../../src/status/output.js';
import {
  cleanText,
  displayLines,
  gaveUp,
  isFailing,
  MAX_REASON,
  type OutputLine,
  pickReason,
  systemdReason,
} from '../../src/status/reason.js';

const app = (text: string, stream: 'stdout' | 'stderr' = 'stderr'): OutputLine => ({
  text,
  source: 'app',
  stream,
});
const podman = (text: string): OutputLine => ({ text, source: 'podman' });
const ID = 'a9f4e07af00705c3e0804b8216d5fb3d66bf9577c89853a6cdb482c5f345c932';

describe('pickReason', () => {
  const cases: [string, OutputLine[], string | undefined][] = [
    ['nothing', [], undefined],
    ['only blank lines', [app(''), app('   ')], undefined],
    [
      "the app's error on stderr, after stdout chatter",
      [
        app('starting', 'stdout'),
        app('berth-test: cannot open /data/db.sqlite: permission denied'),
        app('bye', 'stdout'),
      ],
      'berth-test: cannot open /data/db.sqlite: permission denied',
    ],
    [
      'the last of several error lines',
      [app('error: first'), app('fatal: second'), app('shutting down', 'stdout')],
      'fatal: second',
    ],
    [
      "podman's own error (catatonit missing) after the container ID of an earlier run",
      [
        podman(ID),
        podman('berth-hello-web'),
        podman(
          'Error: container-init binary not found on the host: stat /usr/libexec/podman/catatonit: no such file or directory',
        ),
      ],
      'Error: container-init binary not found on the host: stat /usr/libexec/podman/catatonit: no such file or directory',
    ],
    [
      "podman's retry warnings are not the reason; its final error is",
      [
        podman('Trying to pull localhost/x:1...'),
        podman(
          'time="2026-11-26T03:12:22Z" level=warning msg="Failed, retrying in 1s ... (1/3). Error: initializing source"',
        ),
        podman('Error: initializing source docker://localhost/x:1: connection refused'),
      ],
      'Error: initializing source docker://localhost/x:1: connection refused',
    ],
    [
      'a logrus error line gives its message, quotes unescaped',
      [podman('time="2026-11-26T03:12:22Z" level=error msg="cannot mount \\"/data\\": busy"')],
      'cannot mount "/data": busy',
    ],
    [
      'a Python traceback: its last line',
      [
        app('Traceback (most recent call last):'),
        app('  File "/app/main.py", line 3, in <module>'),
        app("ValueError: invalid literal for int() with base 10: 'x'"),
      ],
      "ValueError: invalid literal for int() with base 10: 'x'",
    ],
    [
      'an error line on stdout when stderr has none',
      [app('listening', 'stdout'), app('FATAL: config file missing', 'stdout'), app('exiting', 'stdout')],
      'FATAL: config file missing',
    ],
    [
      'an error line on stderr beats a later one on stdout',
      [app('panic: nil map'), app('error count: 3', 'stdout')],
      'panic: nil map',
    ],
    ['no error-like line: the last stderr line', [app('warming up'), app('done', 'stdout')], 'warming up'],
    ['no error-like line, all stdout: the last line', [app('a', 'stdout'), app('b', 'stdout')], 'b'],
    ['"0 errors" is not an error', [app('checking'), app('finished with 0 errors', 'stdout')], 'checking'],
    [
      'escape sequences and control characters are removed',
      [app('\u001b[31mERROR\u001b[0m: disk\u0007 full\r')],
      'ERROR: disk full',
    ],
    ['only podman noise', [podman(ID), podman('berth-web')], undefined],
  ];
  for (const [name, lines, want] of cases) it(name, () => expect(pickReason(lines)).toBe(want));

  it('cuts a very long line', () => {
    const r = pickReason([app(`error: ${'x'.repeat(1000)}`)])!;
    expect(r).toHaveLength(MAX_REASON);
    expect(r.endsWith('…')).toBe(true);
  });
});

describe('cleanText and displayLines', () => {
  it('keeps tabs as spaces and drops OSC titles', () => {
    expect(cleanText('\u001b]0;title\u0007a\tb')).toBe('a b');
  });
  it("leaves podman's IDs and names out, keeps the app's lines", () => {
    expect(
      displayLines([podman(ID), app('hello', 'stdout'), podman('berth-x'), podman('Error: boom')]),
    ).toEqual(['hello', 'Error: boom']);
  });
});

describe('systemd states', () => {
  const st = (activeState: string, subState: string) => ({ activeState, subState });
  it('failed for good, or about to restart', () => {
    expect(gaveUp(st('failed', 'failed'))).toBe(true);
    // systemd ≥ 254 passes through failed before an automatic restart.
    expect(gaveUp(st('failed', 'failed-before-auto-restart'))).toBe(false);
    expect(isFailing(st('failed', 'failed-before-auto-restart'))).toBe(true);
    expect(isFailing(st('activating', 'auto-restart'))).toBe(true);
    expect(isFailing(st('inactive', 'dead-before-auto-restart'))).toBe(true);
    expect(isFailing(st('active', 'running'))).toBe(false);
    expect(isFailing(st('inactive', 'dead'))).toBe(false);
  });
  it('says what systemd knows when the output says nothing', () => {
    expect(systemdReason({ result: 'exit-code', execMainStatus: 125 })).toBe('exited with status 125');
    expect(systemdReason({ result: 'start-limit-hit', execMainStatus: 0 })).toMatch(/restarted too often/);
    expect(systemdReason({ result: 'something-new', execMainStatus: 0 })).toBe('unit result: something-new');
  });
});

describe('reading output', () => {
  it("parses podman's k8s-file lines, joining partial ones", () => {
    expect(
      parseK8sLog([
        '2026-11-26T03:12:15.524747128+00:00 stdout F out',
        '2026-11-26T03:12:15.524807316+00:00 stderr P cannot ',
        '2026-11-26T03:12:15.524807316+00:00 stderr F open x',
        '2026-11-26T03:12:15.524807316+00:00 stdout F ',
        'not a log line',
      ]),
    ).toEqual([app('out', 'stdout'), app('cannot open x'), app('', 'stdout')]);
  });

  it("places podman's lines after the last container start after the container's output", () => {
    const unit = ['Error: early failure', ID, 'berth-x', 'Error: runc create failed'];
    expect(mergeFileOutput(unit, [app('app says bye')])).toEqual([
      podman('Error: early failure'),
      podman(ID),
      app('app says bye'),
      podman('berth-x'),
      podman('Error: runc create failed'),
    ]);
    // No container ever started: all of podman's lines are the newest.
    expect(mergeFileOutput(['Error: no catatonit'], [app('old run')])).toEqual([
      app('old run'),
      podman('Error: no catatonit'),
    ]);
  });

  it('reads journal entries: the container by CONTAINER_NAME and priority, the rest as podman', () => {
    expect(parseJournalEntry('{"MESSAGE":"oops","PRIORITY":"3","CONTAINER_NAME":"berth-x"}')).toEqual(
      app('oops'),
    );
    expect(parseJournalEntry('{"MESSAGE":"hi","PRIORITY":"6","CONTAINER_NAME":"berth-x"}')).toEqual(
      app('hi', 'stdout'),
    );
    expect(parseJournalEntry('{"MESSAGE":"Error: boom","PRIORITY":"6"}')).toEqual(podman('Error: boom'));
    expect(parseJournalEntry('{"MESSAGE":[104,105]}')).toEqual(podman('hi'));
    expect(parseJournalEntry('not json')).toBeUndefined();
  });

  it("asks journalctl for the unit's processes or the container", () => {
    expect(journalArgv('web', { follow: true, lines: 20 })).toEqual([
      'journalctl',
      '--no-pager',
      '--output=cat',
      '--lines=20',
      '--follow',
      '_SYSTEMD_UNIT=berth-web.service',
      '+',
      '_SYSTEMD_USER_UNIT=berth-web.service',
      '+',
      'CONTAINER_NAME=berth-web',
    ]);
  });
});
