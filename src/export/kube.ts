// Recipe → Kubernetes manifests, for people who move from one box to a cluster (k3s):
// a Deployment per app, a Service for its published ports, a PersistentVolumeClaim per
// berth volume (hostPath for host: dirs), a ConfigMap for files:, a Secret for secrets.
// What has no equal on a cluster is said in warnings, never dropped silently. Pure: the
// secrets' values come in from the caller.
import type { App } from '../recipe/app.js';
import { expandTemplate, secretNames } from '../recipe/template.js';
import { DOCKER_SOCKET_INSIDE, PODMAN_SOCKET } from '../render/paths.js';

export type Manifest = Record<string, unknown> & { kind: string; metadata: { name: string } };

export interface KubeExport {
  app: string;
  manifests: Manifest[];
  warnings: string[];
}

export interface KubeContext {
  hostname: string;
  /** A secret's value, when berth has generated it; undefined: left for the person to fill in. */
  secret: (app: string, name: string) => string | undefined;
  /** Size asked for each volume's claim. */
  volumeSize?: string;
}

const base64 = (s: string) => Buffer.from(s).toString('base64');
/**
 * Kubernetes expands $(NAME) in command, args and env values and reads $$ as $; any other $
 * is kept. So only a $ before $ or ( is doubled (podman kube play, which expands nothing,
 * then sees the rest as written).
 */
const literal = (s: string) => s.replace(/\$(?=[$(])/g, '$$$$');
/** ConfigMap and Secret keys may be file names as berth allows them; anything else is mapped. */
const fileKey = (name: string) => (/^[-._a-zA-Z0-9]+$/.test(name) ? name : dns(name));
const labels = (app: string) => ({
  'app.kubernetes.io/name': app,
  'app.kubernetes.io/managed-by': 'berth-export',
});
const seconds = (ms: number) => Math.max(1, Math.round(ms / 1000));
/** Kubernetes names: volume and key names are DNS labels. */
const dns = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63) || 'x';

function envList(app: App, hostname: string) {
  return app.env.map((e) =>
    e.secret
      ? { name: e.name, valueFrom: { secretKeyRef: { name: `${app.name}-secrets`, key: e.name } } }
      : { name: e.name, value: literal(expandTemplate(e.value, { hostname, app: app.name })) },
  );
}

function probe(app: App): Record<string, unknown> | undefined {
  const h = app.health;
  if (!h) return undefined;
  return {
    exec: { command: typeof h.cmd === 'string' ? ['/bin/sh', '-c', h.cmd] : h.cmd },
    periodSeconds: seconds(h.intervalMs),
    timeoutSeconds: seconds(h.timeoutMs),
    failureThreshold: h.retries,
    initialDelaySeconds: Math.round(h.startPeriodMs / 1000),
  };
}

/** Numeric uid[:gid] becomes runAsUser/runAsGroup; a user name has no equal. */
function runAs(user: string | undefined, warnings: string[]): Record<string, number> {
  if (!user) return {};
  const m = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!m) {
    warnings.push(
      `user '${user}' is a name: Kubernetes takes only numeric ids (securityContext.runAsUser); set it by hand`,
    );
    return {};
  }
  return { runAsUser: Number(m[1]), ...(m[2] !== undefined ? { runAsGroup: Number(m[2]) } : {}) };
}

export function renderKube(app: App, ctx: KubeContext): KubeExport {
  const warnings: string[] = [];
  const name = app.name;
  const meta = (n: string) => ({ name: n, labels: labels(name) });
  const manifests: Manifest[] = [];
  const vars = { hostname: ctx.hostname, app: name, secret: (s: string) => ctx.secret(name, s) ?? '' };

  // Secrets: every env value or file that uses one goes through the app's Secret.
  const secretEnv = app.env.filter((e) => e.secret);
  const secretFiles = app.files.filter((f) => secretNames(f.content).length > 0);
  const used = [
    ...new Set([
      ...secretEnv.flatMap((e) => secretNames(e.value)),
      ...secretFiles.flatMap((f) => secretNames(f.content)),
    ]),
  ];
  const missing = used.filter((s) => ctx.secret(name, s) === undefined);
  if (used.length) {
    warnings.push(
      `${name}-secrets holds the app's secrets in plain text (base64 is not encryption): keep the file private`,
    );
    if (missing.length)
      warnings.push(
        `secrets not generated yet (the app was never applied): ${missing.join(', ')}: fill them in`,
      );
    manifests.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: meta(`${name}-secrets`),
      type: 'Opaque',
      // data (base64), not stringData: podman kube play reads only data.
      data: Object.fromEntries([
        ...secretEnv.map((e) => [e.name, base64(expandTemplate(e.value, vars))]),
        ...secretFiles.map((f) => [fileKey(f.name), base64(expandTemplate(f.content, vars))]),
      ]),
    });
  }
  const plainFiles = app.files.filter((f) => !secretFiles.includes(f));
  if (plainFiles.length)
    manifests.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(`${name}-files`),
      data: Object.fromEntries(plainFiles.map((f) => [fileKey(f.name), expandTemplate(f.content, vars)])),
    });

  const volumes: Record<string, unknown>[] = [];
  const mounts: Record<string, unknown>[] = [];
  for (const v of app.volumes) {
    const vol = dns(`vol-${v.name}`);
    if (v.host) {
      // On a data disk the dir must exist: one made in an empty mount point would hide the disk's data.
      volumes.push({
        name: vol,
        hostPath: { path: v.host, type: v.disk ? 'Directory' : 'DirectoryOrCreate' },
      });
      warnings.push(
        v.disk
          ? `volume ${v.name} is on the data disk ${v.disk} (${v.host}): a hostPath ties the app to a node with that disk mounted, and the pod waits until the dir is there`
          : `volume ${v.name} is the host dir ${v.host}: a hostPath ties the app to a node that has it`,
      );
    } else {
      manifests.push({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: meta(`${name}-${dns(v.name)}`),
        spec: {
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: ctx.volumeSize ?? '1Gi' } },
        },
      });
      volumes.push({ name: vol, persistentVolumeClaim: { claimName: `${name}-${dns(v.name)}` } });
    }
    mounts.push({ name: vol, mountPath: v.target, ...(v.readonly ? { readOnly: true } : {}) });
  }
  if (plainFiles.length) volumes.push({ name: 'files', configMap: { name: `${name}-files` } });
  if (secretFiles.length) volumes.push({ name: 'secret-files', secret: { secretName: `${name}-secrets` } });
  for (const f of app.files)
    mounts.push({
      name: secretFiles.includes(f) ? 'secret-files' : 'files',
      mountPath: f.target,
      subPath: fileKey(f.name),
      readOnly: true,
    });
  if (app.shmBytes !== undefined || app.tmpfs.length) {
    for (const [i, p] of [...(app.shmBytes !== undefined ? ['/dev/shm'] : []), ...app.tmpfs].entries()) {
      const name = `mem-${i}`;
      volumes.push({
        name,
        emptyDir: { medium: 'Memory', ...(p === '/dev/shm' ? { sizeLimit: String(app.shmBytes) } : {}) },
      });
      mounts.push({ name, mountPath: p });
    }
  }
  for (const h of app.hostPaths) {
    const vol = dns(`host-${h.path}`);
    volumes.push({ name: vol, hostPath: { path: h.path } });
    mounts.push({ name: vol, mountPath: h.target, ...(h.readonly ? { readOnly: true } : {}) });
    warnings.push(`host path ${h.path}: mounted from the node (hostPath), with what that node has there`);
  }
  if (app.podmanSocket) {
    volumes.push({ name: 'podman-socket', hostPath: { path: PODMAN_SOCKET, type: 'Socket' } });
    mounts.push({ name: 'podman-socket', mountPath: DOCKER_SOCKET_INSIDE });
    warnings.push(
      `podman_socket: the node's ${PODMAN_SOCKET} (a cluster node may have none; the app controls the node's containers)`,
    );
  }
  if (app.stopSignal)
    warnings.push(
      `stop_signal ${app.stopSignal}: not exported (Kubernetes sends SIGTERM; the image's STOPSIGNAL, if it has one)`,
    );
  if (app.securityOpt.length)
    warnings.push(
      `security_opt ${app.securityOpt.join(', ')}: not exported (set the pod's securityContext: seccompProfile, appArmorProfile, seLinuxOptions)`,
    );
  for (const d of app.devices) {
    const vol = dns(`dev-${d.path}`);
    volumes.push({ name: vol, hostPath: { path: d.path, type: 'CharDevice' } });
    mounts.push({ name: vol, mountPath: d.path });
    warnings.push(
      `device ${d.path}: mounted from the node (hostPath); a cluster usually wants a device plugin instead`,
    );
  }

  const container: Record<string, unknown> = {
    name,
    image: app.image,
    ...(app.entrypoint ? { command: app.entrypoint.map(literal) } : {}),
    ...(app.command ? { args: app.command.map(literal) } : {}),
    ...(app.workdir ? { workingDir: app.workdir } : {}),
    ...(app.env.length ? { env: envList(app, ctx.hostname) } : {}),
    ...(app.ports.length
      ? { ports: app.ports.map((p) => ({ containerPort: p.container, protocol: p.protocol.toUpperCase() })) }
      : {}),
    volumeMounts: mounts,
    ...(app.memoryBytes !== undefined ? { resources: { limits: { memory: String(app.memoryBytes) } } } : {}),
    securityContext: {
      ...(app.privileged ? { privileged: true } : {}),
      ...(app.capabilities.length ? { capabilities: { add: app.capabilities } } : {}),
      ...runAs(app.user, warnings),
      ...(app.readOnly ? { readOnlyRootFilesystem: true } : {}),
    },
    // on_failure: none only reports: a readiness probe, which never restarts the pod.
    ...(probe(app) ? { readinessProbe: probe(app) } : {}),
    ...(probe(app) && app.health?.onFailure === 'restart' ? { livenessProbe: probe(app) } : {}),
  };
  manifests.push({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(name),
    spec: {
      replicas: 1,
      // One writer for its volumes: the old pod goes before the new one starts.
      strategy: { type: 'Recreate' },
      selector: { matchLabels: { 'app.kubernetes.io/name': name } },
      template: {
        metadata: {
          labels: labels(name),
          // Recipe labels may not be valid Kubernetes label values: they go in as annotations.
          ...(app.labels.length ? { annotations: Object.fromEntries(app.labels) } : {}),
        },
        spec: {
          ...(app.network === 'host' ? { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' } : {}),
          ...(app.dns.length ? { dnsConfig: { nameservers: app.dns } } : {}),
          terminationGracePeriodSeconds: app.stopTimeoutSec,
          ...(app.init ? { shareProcessNamespace: true } : {}),
          ...(app.extraHosts.length
            ? { hostAliases: app.extraHosts.map(([h, ip]) => ({ ip, hostnames: [h] })) }
            : {}),
          ...(app.sysctls.length
            ? { securityContext: { sysctls: app.sysctls.map(([name, value]) => ({ name, value })) } }
            : {}),
          containers: [container],
          volumes,
        },
      },
    },
  });
  // A Service name must start with a letter; an app name may start with a digit.
  const service = /^[a-z]/.test(name) ? name : `app-${name}`;
  if (service !== name)
    warnings.push(`the Service is called ${service}: a Service name starts with a letter`);
  // Ports berth bound to loopback stay inside the cluster; the others go on the node.
  const local = app.ports.filter((p) => p.bind && /^(127\.|::1$|localhost$)/.test(p.bind));
  if (local.length)
    warnings.push(
      `port${local.length > 1 ? 's' : ''} ${local.map((p) => `${p.bind}:${p.host}`).join(', ')} bound to loopback: ${local.length === app.ports.length ? 'the Service is ClusterIP (reach it with kubectl port-forward)' : 'a LoadBalancer would publish them on every node: split them into a ClusterIP Service by hand'}`,
    );
  const otherBinds = app.ports.filter((p) => p.bind && !local.includes(p));
  if (otherBinds.length)
    warnings.push(
      `port bind addresses (${otherBinds.map((p) => p.bind).join(', ')}) do not carry over: the Service listens on the node's addresses`,
    );
  if (app.ports.length)
    manifests.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(service),
      spec: {
        // k3s's built-in load balancer publishes these ports on the node, as berth did.
        type: local.length === app.ports.length ? 'ClusterIP' : 'LoadBalancer',
        selector: { 'app.kubernetes.io/name': name },
        ports: app.ports.map((p) => ({
          name: `${p.protocol}-${p.host}`,
          port: p.host,
          targetPort: p.container,
          protocol: p.protocol.toUpperCase(),
        })),
      },
    });

  if (app.network === 'none') warnings.push('network: none has no equal: the pod gets the cluster network');
  if (app.networks.length && !app.ports.length)
    warnings.push(
      `other apps reach ${name} by name on ${app.networks.join(', ')}: on a cluster that takes a Service with its port (the recipe publishes none); add one`,
    );
  if (app.dependsOn.length)
    warnings.push(
      `depends_on (${app.dependsOn.map((d) => d.app).join(', ')}) has no equal: the pods start together and must retry`,
    );
  if (app.restart !== 'always')
    warnings.push(`restart: ${app.restart} has no equal: a Deployment always restarts its pod`);
  if (app.requiresMounts.length)
    warnings.push(`requires_mounts (${app.requiresMounts.join(', ')}): make sure the node mounts them`);
  if (app.advertise.length)
    warnings.push(
      `LAN announcements (${app.advertise.map((a) => a.type).join(', ')}) do not carry over: a cluster has no mDNS of berth's`,
    );
  if (
    app.env.some((e) => e.name === 'POSTGRES_HOST_AUTH_METHOD' && expandTemplate(e.value, vars) === 'trust')
  )
    warnings.push(
      'the database trusts every client (POSTGRES_HOST_AUTH_METHOD=trust): on a cluster any pod can reach it; set POSTGRES_PASSWORD or add a NetworkPolicy',
    );
  if (app.ulimits.length)
    warnings.push('ulimits have no equal in a pod spec: set them on the node or in the image');
  if (app.networkAliases.length)
    warnings.push(`network aliases (${app.networkAliases.join(', ')}): make a Service of that name instead`);
  if (app.cpuWeight !== undefined)
    warnings.push('resources.cpu_weight has no equal: set resources.requests.cpu instead');
  return { app: name, manifests, warnings };
}
