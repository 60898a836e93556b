import { describe, expect, it } from 'vitest';
import { execLine, systemdEscape, UnsafeValueError } from '../../src/render/escape.js';

describe('systemdEscape', () => {
  it.each([
    ['plain', 'exec', 'plain'],
    ['--flag=value', 'exec', '--flag=value'],
    ['a b', 'exec', '"a b"'],
    ['', 'exec', '""'],
    [';', 'exec', '";"'],
    ['%n', 'exec', '%%n'],
    ['$HOME', 'exec', '"$$HOME"'],
    ['${X}', 'exec', '"$${X}"'],
    ['say "hi"', 'exec', '"say \\"hi\\""'],
    ['back\\slash', 'exec', '"back\\\\slash"'],
    ["it's", 'exec', '"it\'s"'],
    ['/srv/My Movies', 'path', '"/srv/My Movies"'],
    ['/srv/100%', 'path', '/srv/100%%'],
    ['$HOME', 'path', '"$HOME"'],
    ['100% sure', 'text', '100%% sure'],
    ['ends in \\', 'text', 'ends in \\ '],
  ] as const)('%s (%s) → %s', (value, mode, want) => {
    expect(systemdEscape(value, mode)).toBe(want);
  });

  it.each(['a\nExecStartPre=/bin/sh', 'a\rb', 'nul\0', 'tab\there', 'esc\u001b[1m'])(
    'refuses control characters: %j',
    (v) => {
      for (const mode of ['exec', 'path', 'text'] as const)
        expect(() => systemdEscape(v, mode)).toThrow(UnsafeValueError);
    },
  );

  it('keeps the program and the ignore-failure prefix as given', () => {
    expect(execLine(['/usr/bin/podman', 'rm', 'a b'], '-')).toBe('-/usr/bin/podman rm "a b"');
  });
});

describe('health checks run through the shell', () => {
  it('quotes a list word by word, so spaces and quotes survive', async () => {
    const { healthShell } = await import('../../src/render/podman-args.js');
    expect(healthShell(['curl', '-fsS', 'http://localhost/'])).toBe('curl -fsS http://localhost/');
    expect(healthShell(['sh', '-c', "echo 'a b' $X"])).toBe(`sh -c 'echo '\\''a b'\\'' $X'`);
    expect(healthShell('test -f /x')).toBe('test -f /x');
  });
});
