// berth export kube: every shipped, catalog and golden recipe's manifests pass the
// Kubernetes OpenAPI schema (kubernetes-models 5.1.0, pinned), and what has no equal on a
// cluster is a warning.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { type Manifest, renderKube } from '../../src/export/kube.js';
import { loadRecipes } from '../../src/recipe/load.js';
import { CHECK_CTX, validApp } from '../helpers.js';

const root = join(import.meta.dirname, '..', '..');
const MODELS: Record<string, new (m: never) => { validate(): void }> = {
  ConfigMap,
  PersistentVolumeClaim,
  Secret,
  Service,
  Deployment,
};
const validate = (m: Manifest) => new MODELS[m.kind]!(m as never).validate();
const ctx = {
  hostname: 'nas',
  secret: (_app: string, s: string) => (s === 'admin_password' ? 'pw' : undefined),
};

describe('berth export kube', async () => {
  const shipped = await loadRecipes(
    [join(root, 'recipes'), join(root, 'recipes', 'catalog', 'apps')],
    CHECK_CTX,
  );
  const fixtures = join(root, 'test', 'fixtures', 'render');
  const apps = [
    ...shipped.apps,
    ...readdirSync(fixtures)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => validApp(readFileSync(join(fixtures, f), 'utf8'), f)),
  ];

  it.each(apps.map((a) => [a.name, a] as const))(
    '%s: every manifest passes the Kubernetes schema',
    (_n, app) => {
      const k = renderKube(app, ctx);
      expect(k.manifests.map((m) => m.kind)).toContain('Deployment');
      for (const m of k.manifests) expect(() => validate(m), `${m.kind} ${m.metadata.name}`).not.toThrow();
    },
  );

  it('maps a stack member, its secrets, volumes, probe and ports, and warns of what does not carry over', () => {
    const nextcloud = apps.find((a) => a.name === 'nextcloud')!;
    const k = renderKube(nextcloud, ctx);
    expect(k.manifests.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual([
      'Secret/nextcloud-secrets',
      'PersistentVolumeClaim/nextcloud-html',
      'Deployment/nextcloud',
      'Service/nextcloud',
    ]);
    const secret = k.manifests[0] as unknown as { data: Record<string, string> };
    expect(Buffer.from(secret.data.NEXTCLOUD_ADMIN_PASSWORD!, 'base64').toString()).toBe('pw');
    const text = JSON.stringify(k.manifests[2]);
    expect(text).toContain('"secretKeyRef":{"name":"nextcloud-secrets","key":"NEXTCLOUD_ADMIN_PASSWORD"}');
    expect(text).toContain(
      '"livenessProbe":{"exec":{"command":["/bin/sh","-c","curl -fsS -o /dev/null http://localhost/status.php"]}',
    );
    expect(JSON.stringify(k.manifests[3])).toContain('"port":8080,"targetPort":80');
    expect(k.warnings.join('\n')).toMatch(/plain text/);
    expect(k.warnings.join('\n')).toMatch(/depends_on \(nextcloud-db, nextcloud-redis\) has no equal/);
    expect(k.warnings.join('\n')).toMatch(/LAN announcements \(_http\._tcp\) do not carry over/);
    const db = renderKube(
      apps.find((a) => a.name === 'nextcloud-db')!,
      ctx,
    );
    expect(db.warnings.join('\n')).toMatch(/other apps reach nextcloud-db by name on nextcloud: .* add one/);
  });

  it('keeps $ literal under Kubernetes expansion: $( and $$ are escaped, $NAME is left', () => {
    const hostile = renderKube(
      apps.find((a) => a.name === 'hostile')!,
      ctx,
    );
    const args = JSON.stringify(hostile.manifests.find((m) => m.kind === 'Deployment'));
    expect(args).toContain('"$HOME ${HOME} $$$"');
    const k = renderKube({ ...apps.find((a) => a.name === 'hostile')!, command: ['echo', '$(PATH)'] }, ctx);
    expect(JSON.stringify(k.manifests)).toContain('"$$(PATH)"');
  });

  it('gives a host-network app hostNetwork, a device a hostPath, and a user name a warning', () => {
    const jellyfin = renderKube(
      apps.find((a) => a.name === 'jellyfin')!,
      ctx,
    );
    const dep = JSON.stringify(jellyfin.manifests.find((m) => m.kind === 'Deployment'));
    expect(dep).toContain('"hostNetwork":true');
    expect(dep).toContain('"hostPath":{"path":"/dev/dri","type":"CharDevice"}');
    expect(jellyfin.warnings.join('\n')).toMatch(/device \/dev\/dri: mounted from the node/);
  });
});
