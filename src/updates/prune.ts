// `berth prune`: what berth made and no longer needs, planned purely from podman's images
// and networks and berth's records. An image is berth's when berth pinned it (its records
// and history name its ID) or when only berth's pin tags name it; a network is berth's by
// its label. Nothing else is ever touched.
import type { Step } from '../plan/steps.js';
import type { ImageInfo } from '../podman/podman.js';
import { networkName, pinPrefix } from '../render/paths.js';
import type { DesiredApp } from '../state/desired.js';
import type { HistoryEntry, ImageRecord } from './record.js';

export interface PruneInput {
  /** This berth's data dir: only its own pin tags (pinPrefix) are ever pruned. */
  dataDir: string;
  desired: readonly DesiredApp[];
  /** Every app berth has a record for (a removed app's data, and so its record, stays). */
  records: ReadonlyMap<string, { record: ImageRecord; history: readonly HistoryEntry[] }>;
  images: readonly ImageInfo[];
  /** Image IDs some container (berth's or anyone's) uses. */
  inUse: ReadonlySet<string>;
  /** This berth's networks (labelled with its instance). */
  networks: readonly string[];
}

export function planPrune(input: PruneInput): Step[] {
  const wanted = new Set(input.desired.map((d) => d.app.name));
  const prefix = pinPrefix(input.dataDir);
  const steps: Step[] = [];
  // Pin tags of apps that are gone.
  const stale = input.images.flatMap((i) =>
    i.names.filter((n) => n.startsWith(prefix) && !wanted.has(n.slice(prefix.length).split(':')[0]!)),
  );
  if (stale.length > 0) steps.push({ kind: 'release-images', app: '', names: stale.sort() });
  const keptNames = new Set(stale);
  // Images berth pinned once that have no name left now (or only stale pin tags).
  const ours = new Set<string>();
  for (const { record, history } of input.records.values()) {
    for (const p of [record.current, record.previous, record.transition?.from, record.transition?.to])
      if (p) ours.add(p.id);
    for (const h of history) {
      ours.add(h.to.id);
      if (h.from) ours.add(h.from.id);
    }
  }
  const active = new Set<string>(
    [...input.records.entries()]
      .filter(([app]) => wanted.has(app))
      .flatMap(([, r]) => [r.record.current?.id, r.record.previous?.id].filter((x): x is string => !!x)),
  );
  for (const i of input.images) {
    const named = i.names.some((n) => !keptNames.has(n));
    const onlyPins = i.names.length > 0 && i.names.every((n) => keptNames.has(n));
    if ((ours.has(i.id) || onlyPins) && !named && !input.inUse.has(i.id) && !active.has(i.id))
      steps.push({ kind: 'remove-image', id: i.id, bytes: i.size });
  }
  // Networks no app joins any more.
  const joined = new Set(input.desired.flatMap((d) => d.app.networks.map(networkName)));
  for (const n of input.networks) if (!joined.has(n)) steps.push({ kind: 'remove-network', network: n });
  // Snapshots beyond each app's keep (a removed app's are its data: they stay).
  for (const d of input.desired)
    steps.push({ kind: 'prune-snapshots', app: d.app.name, keep: d.app.update.keep });
  return steps;
}
