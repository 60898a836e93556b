// berth prune is planned purely: only what this berth made and no longer needs.
import { describe, expect, it } from 'vitest';
import type { ImageInfo } from '../../src/podman/podman.js';
import { pinRef } from '../../src/render/paths.js';
import { desiredApp } from '../../src/state/desired.js';
import { planPrune } from '../../src/updates/prune.js';
import type { HistoryEntry, ImageRecord } from '../../src/updates/record.js';
import { RENDER_CTX, validApp } from '../helpers.js';

const DATA = RENDER_CTX.dataDir;
const id = (c: string) => c.repeat(64);
const img = (c: string, names: string[] = []): ImageInfo => ({
  id: id(c),
  names,
  digests: [],
  size: 1000,
  labels: {},
});
const web = desiredApp(validApp('name: web\nimage: docker.io/library/nginx:1.27\n'), RENDER_CTX);
const rec = (cur: string, prev?: string): ImageRecord => ({
  current: { ref: 'docker.io/library/nginx:1.27', id: id(cur), at: 't' },
  ...(prev ? { previous: { ref: 'docker.io/library/nginx:1.27', id: id(prev), at: 't' } } : {}),
  rejected: [],
});
const hist = (from: string, to: string): HistoryEntry => ({
  at: 't',
  app: 'web',
  from: { ref: 'r', id: id(from) },
  to: { ref: 'r', id: id(to) },
  result: 'updated',
});

describe('planPrune', () => {
  it('removes an image berth pinned once that has no name left; keeps current, previous, named and used ones', () => {
    const steps = planPrune({
      dataDir: DATA,
      desired: [web],
      records: new Map([['web', { record: rec('c', 'b'), history: [hist('a', 'b'), hist('b', 'c')] }]]),
      images: [
        img('a'),
        img('b', [pinRef(DATA, 'web', 'previous')]),
        img('c', [pinRef(DATA, 'web')]),
        img('d'),
        img('e'),
      ],
      inUse: new Set([id('e')]),
      networks: [],
    });
    expect(steps.filter((s) => s.kind === 'remove-image')).toEqual([
      { kind: 'remove-image', id: id('a'), bytes: 1000 },
    ]);
  });

  it("releases pin tags of apps that are gone, but never another berth's", () => {
    const other = '/var/lib/other-berth';
    const steps = planPrune({
      dataDir: DATA,
      desired: [web],
      records: new Map(),
      images: [img('a', [pinRef(DATA, 'gone'), pinRef(other, 'gone')]), img('b', [pinRef(DATA, 'web')])],
      inUse: new Set(),
      networks: [],
    });
    expect(steps.find((s) => s.kind === 'release-images')).toEqual({
      kind: 'release-images',
      app: '',
      names: [pinRef(DATA, 'gone')],
    });
    // 'a' keeps another berth's name: it is not removed.
    expect(steps.some((s) => s.kind === 'remove-image')).toBe(false);
  });

  it("removes this berth's networks no app joins, and keeps each app's newest snapshots", () => {
    const net = desiredApp(
      validApp('name: api\nimage: docker.io/library/nginx:1.27\nnetworks: [backend]\n'),
      RENDER_CTX,
    );
    const steps = planPrune({
      dataDir: DATA,
      desired: [net],
      records: new Map(),
      images: [],
      inUse: new Set(),
      networks: ['berth-backend', 'berth-old'],
    });
    expect(steps).toEqual([
      { kind: 'remove-network', network: 'berth-old' },
      { kind: 'prune-snapshots', app: 'api', keep: 3 },
    ]);
  });
});
