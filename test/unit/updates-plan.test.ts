// Updates and rollbacks are planned purely: given the app, its image record and the
// candidate, these steps, in this order. The executor and the real test do the rest.
import { describe, expect, it } from 'vitest';
import type { Step } from '../../src/plan/steps.js';
import { desiredApp } from '../../src/state/desired.js';
import {
  compare,
  healthWindowMs,
  planManualRollback,
  planRollback,
  planUpdate,
} from '../../src/updates/plan.js';
import type { ImageRecord, Pin } from '../../src/updates/record.js';
import { RENDER_CTX, validApp } from '../helpers.js';

const pin = (c: string): Pin => ({ ref: 'docker.io/library/x:1', id: c.repeat(64), at: 't' });
const A = pin('a');
const B = pin('b');
const C = pin('c');
const want = (extra = '') =>
  desiredApp(validApp(`name: x\nimage: docker.io/library/x:1\n${extra}`), RENDER_CTX);
const withData = want('volumes:\n  data: {target: /data}\n');
const hostData = (snap: string) =>
  want(
    `volumes:\n  media: {target: /m, host: /srv/media}\n  db: {target: /db}\nupdate: {snapshot: ${snap}}\n`,
  );
const brief = (steps: Step[]) => steps.map((s) => s.kind);
const rec = (over: Partial<ImageRecord> = {}): ImageRecord => ({ current: A, rejected: [], ...over });

describe('planUpdate', () => {
  it.each([
    {
      name: 'an app with data: snapshot between stop and switch, then start, gate, record',
      d: withData,
      expect: ['begin-update', 'stop', 'snapshot', 'pin-image', 'start', 'gate', 'end-update'],
    },
    {
      name: 'an app without data: no snapshot',
      d: want(),
      expect: ['begin-update', 'stop', 'pin-image', 'start', 'gate', 'end-update'],
    },
    {
      name: 'a disabled app is only re-pinned',
      d: want('enabled: false\n'),
      expect: ['begin-update', 'pin-image', 'end-update'],
    },
    {
      name: 'update.snapshot: false takes none',
      d: want('volumes:\n  data: {target: /data}\nupdate: {snapshot: false}\n'),
      expect: ['begin-update', 'stop', 'pin-image', 'start', 'gate', 'end-update'],
    },
  ])('$name', (row) => {
    expect(brief(planUpdate(row.d, rec(), B, 'now'))).toEqual(row.expect);
  });

  it('nothing when the candidate is the pinned image, or the app was never pinned', () => {
    expect(planUpdate(withData, rec(), A, 'now')).toEqual([]);
    expect(planUpdate(withData, rec({ current: undefined }), B, 'now')).toEqual([]);
  });

  it('the switch keeps the old image as previous, and the transition remembers what previous was', () => {
    const steps = planUpdate(withData, rec({ previous: C }), B, 'now');
    expect(steps[0]).toMatchObject({ transition: { kind: 'update', from: A, to: B, priorPrevious: C } });
    expect(steps.find((s) => s.kind === 'pin-image')).toMatchObject({ id: B.id, previous: A });
    expect(steps.find((s) => s.kind === 'snapshot')).toMatchObject({ image: A.id, keep: 3 });
  });

  it('host paths are snapshotted only with snapshot: all; read-only volumes never', () => {
    const paths = (d: ReturnType<typeof want>) =>
      planUpdate(d, rec(), B, 'now').flatMap((s) => (s.kind === 'snapshot' ? s.paths : []));
    expect(paths(hostData('true'))).toEqual(['/var/lib/berth/apps/x/db']);
    expect(paths(hostData('all'))).toEqual(['/var/lib/berth/apps/x/db', '/srv/media']);
    expect(paths(want('volumes:\n  ro: {target: /ro, readonly: true}\n'))).toEqual([]);
  });
});

describe('planRollback', () => {
  const failed = rec({
    current: B,
    previous: A,
    transition: {
      kind: 'update',
      from: A,
      to: B,
      startedAt: 's',
      snapshot: '/snap.tar.zst',
      priorPrevious: C,
    },
  });

  it('restores the snapshot, re-pins the old image with the previous it had, and rejects the candidate', () => {
    const steps = planRollback(withData, failed, 'gate failed', true);
    expect(brief(steps)).toEqual([
      'begin-update',
      'stop',
      'restore-snapshot',
      'pin-image',
      'start',
      'gate',
      'end-update',
    ]);
    expect(steps.find((s) => s.kind === 'pin-image')).toMatchObject({ id: A.id, previous: C });
    expect(steps.at(-1)).toMatchObject({
      entry: { result: 'rolled-back', from: { id: B.id }, to: { id: A.id } },
      reject: B.id,
    });
  });

  it('an interrupted update with no snapshot yet: no restore; a pass does not gate', () => {
    const steps = planRollback(
      want(),
      rec({ transition: { kind: 'update', from: A, to: B, startedAt: 's' } }),
      'interrupted',
      false,
    );
    expect(brief(steps)).toEqual(['begin-update', 'stop', 'pin-image', 'start', 'end-update']);
  });

  it('an interrupted rollback is finished towards the image it was going back to', () => {
    const steps = planRollback(
      withData,
      rec({ transition: { kind: 'rollback', from: B, to: A, startedAt: 's' } }),
      'i',
      false,
    );
    expect(steps.find((s) => s.kind === 'pin-image')).toMatchObject({ id: A.id });
    expect(steps.at(-1)).not.toHaveProperty('reject');
  });

  it('nothing without a transition', () => {
    expect(planRollback(withData, rec(), 'x', true)).toEqual([]);
  });
});

describe('planManualRollback', () => {
  it('swaps current and previous; with a snapshot, restores it', () => {
    const steps = planManualRollback(withData, rec({ current: B, previous: A }), '/s.tar.zst', 'now');
    expect(brief(steps)).toContain('restore-snapshot');
    expect(steps.find((s) => s.kind === 'pin-image')).toMatchObject({ id: A.id, previous: B });
    expect(
      brief(planManualRollback(withData, rec({ current: B, previous: A }), undefined, 'now')),
    ).not.toContain('restore-snapshot');
  });

  it('nothing without a previous image', () => {
    expect(planManualRollback(withData, rec(), undefined, 'now')).toEqual([]);
  });
});

describe('compare and the gate window', () => {
  it('up to date, available, and available but rejected before', () => {
    expect(compare(rec(), A).kind).toBe('up-to-date');
    expect(compare(rec(), B)).toMatchObject({ kind: 'available', rejectedBefore: false });
    expect(compare(rec({ rejected: [B.id] }), B)).toMatchObject({ kind: 'available', rejectedBefore: true });
  });

  it("the health window comes from the check's settings, capped by update.gate", () => {
    const h = (extra: string) =>
      want(`health: {cmd: "true", interval: 10s, retries: 3, timeout: 5s, start_period: 20s}\n${extra}`).app;
    expect(healthWindowMs(h(''))).toBe(20_000 + 4 * 10_000 + 5_000);
    expect(healthWindowMs(h('update: {gate: 30s}\n'))).toBe(30_000);
    expect(healthWindowMs(want().app)).toBe(0);
  });
});
