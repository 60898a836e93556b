import { describe, expect, it } from 'vitest';
import { expandTemplate, parseTemplate } from '../../src/recipe/template.js';
import { durationMs, parseImageRef, parsePortString, sizeBytes } from '../../src/recipe/values.js';

describe('values', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1d', 86_400_000],
  ])('duration %s = %i ms', (t, ms) => expect(durationMs(t)).toBe(ms));

  it.each([
    ['512M', 512 * 1024 ** 2],
    ['1.5G', 1.5 * 1024 ** 3],
    ['2GiB', 2 * 1024 ** 3],
    ['100', 100],
    ['64k', 64 * 1024],
  ])('size %s = %i bytes', (t, b) => expect(sizeBytes(t)).toBe(b));

  it.each([
    ['8080:80', { host: 8080, container: 80, protocol: 'tcp' }],
    ['127.0.0.1:53:53/udp', { host: 53, container: 53, protocol: 'udp', bind: '127.0.0.1' }],
    ['[::1]:8443:443', { host: 8443, container: 443, protocol: 'tcp', bind: '::1' }],
  ])('port %s', (t, want) => expect(parsePortString(t)).toEqual(want));

  it.each([
    ['docker.io/library/nginx:1.27', { registry: 'docker.io', repository: 'library/nginx', tag: '1.27' }],
    ['localhost/berth/samba:12', { registry: 'localhost', repository: 'berth/samba', tag: '12' }],
    [
      'registry.example.org:5000/a/b:c',
      { registry: 'registry.example.org:5000', repository: 'a/b', tag: 'c' },
    ],
  ])('image %s', (t, want) => expect(parseImageRef(t)).toEqual(want));

  it.each(['nginx', 'nginx:1.27', 'library/nginx:1', 'docker.io/library/nginx', '-x/y:1', 'docker.io/A/b:1'])(
    'refuses image %s',
    (t) => expect(typeof parseImageRef(t)).toBe('string'),
  );
});

describe('templates', () => {
  const vars = { hostname: 'nas', app: 'web', secret: (n: string) => `S(${n})` };
  it.each([
    ['plain', 'plain'],
    ['${hostname}-${app}', 'nas-web'],
    ['pw=${secret:db_pw}', 'pw=S(db_pw)'],
    ['literal $${hostname} and $HOME and $', 'literal ${hostname} and $HOME and $'],
  ])('%s → %s', (t, want) => {
    const parts = parseTemplate(t);
    if (!Array.isArray(parts)) throw new Error(parts.message);
    expect(expandTemplate(parts, vars)).toBe(want);
  });

  it.each(['${HOME}', '${secret:}', '${secret:a-b}', '${hostname', '${}'])('refuses %s', (t) => {
    expect(Array.isArray(parseTemplate(t))).toBe(false);
  });
});
