// Every recipe key, and where it reaches: the unit (a podman flag row, or the unit itself),
// the Quadlet export, the Kubernetes export and compose import. A key added to the schema
// without a row here fails the first test: decide each of the four places, then add the row.
// A row naming `flag:` or `quadlet:` must name a row of that table, and every table row is named.
import { describe, expect, it } from 'vitest';
import { QUADLET_TABLE } from '../../src/export/quadlet.js';
import { recipeJsonSchema } from '../../src/recipe/schema.js';
import { PODMAN_FLAG_TABLE } from '../../src/render/podman-args.js';

type Schema = {
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  anyOf?: Schema[];
};

/** Key paths of the recipe schema: `volumes.*.disk` for a record's entries, `ports[].host` for a list's. */
function keyPaths(s: Schema, at = '', out = new Set<string>()): Set<string> {
  for (const alt of [s, ...(s.anyOf ?? [])]) {
    for (const [k, v] of Object.entries(alt.properties ?? {})) {
      const p = at ? `${at}.${k}` : k;
      out.add(p);
      keyPaths(v, p, out);
    }
    if (typeof alt.additionalProperties === 'object') keyPaths(alt.additionalProperties, `${at}.*`, out);
    if (alt.items) keyPaths(alt.items, `${at}[]`, out);
  }
  return out;
}

/** [key, unit, Quadlet, Kubernetes, compose import]: `flag:ROW`/`quadlet:ROW` name a table row; text says how. */
const REACH: readonly (readonly [string, string, string, string, string])[] = [
  ['version', 'checked only', 'checked only', 'checked only', 'never: compose has no recipe version'],
  ['name', 'unit: unit and container name', 'quadlet:name', 'object names', 'from the service name'],
  ['description', 'unit: Description=', 'Description=', 'not exported', 'never: compose has none'],
  [
    'enabled',
    'unit: enable/disable',
    '[Install] only when enabled',
    'not exported',
    'never: every service is enabled',
  ],
  ['image', 'unit: the pinned image', 'quadlet:image', 'container image', 'from image'],
  ['build', 'unit: the built image', 'Image= of the built tag', 'image: the built tag', 'from build'],
  ['build.context', 'build', 'build', 'build', 'from build.context'],
  ['build.file', 'build', 'build', 'build', 'from build.dockerfile'],
  ['build.args', 'build', 'build', 'build', 'from build.args'],
  ['build.target', 'build', 'build', 'build', 'from build.target'],
  ['command', 'unit: after the image', 'quadlet:command', 'args', 'from command'],
  ['entrypoint', 'flag:entrypoint', 'quadlet:entrypoint', 'command', 'from entrypoint'],
  ['user', 'flag:user', 'quadlet:user', 'runAsUser/runAsGroup', 'from user'],
  ['workdir', 'flag:workdir', 'quadlet:workdir', 'workingDir', 'from working_dir'],
  ['init', 'flag:init', 'quadlet:init', 'shareProcessNamespace', 'from init'],
  [
    'stop_timeout',
    'flag:stop_timeout',
    'quadlet:stop_timeout',
    'terminationGracePeriodSeconds',
    'from stop_grace_period',
  ],
  ['network', 'flag:network', 'quadlet:network', 'hostNetwork', 'from network_mode'],
  ['ports', 'flag:ports', 'quadlet:ports', 'containerPorts and a Service', 'from ports'],
  ['ports[].host', 'ports', 'ports', 'ports', 'from ports'],
  ['ports[].container', 'ports', 'ports', 'ports', 'from ports'],
  ['ports[].protocol', 'ports', 'ports', 'ports', 'from ports'],
  ['ports[].bind', 'ports', 'ports', 'ports', 'from ports'],
  ['networks', 'flag:network', 'quadlet:network', 'warning: one pod network', 'from networks'],
  ['volumes', 'flag:volumes', 'quadlet:volumes', 'PersistentVolumeClaim or hostPath', 'from volumes'],
  ['volumes.*.target', 'volumes', 'volumes', 'mountPath', 'from volumes'],
  ['volumes.*.readonly', 'volumes', 'volumes', 'readOnly', 'from volumes'],
  [
    'volumes.*.owner',
    'unit: the dir berth makes',
    'not exported: berth made the dir',
    'not exported',
    'never: compose has no owner',
  ],
  ['volumes.*.host', 'volumes', 'volumes', 'hostPath', 'from a bind mount'],
  [
    'volumes.*.disk',
    'unit: volumes, RequiresMountsFor= and WantedBy= of the disk mount',
    'volumes, RequiresMountsFor= and WantedBy= of the disk mount',
    'hostPath of type Directory, and a warning',
    'never: compose has no data disks; a bind mount under /srv/<label> becomes host:',
  ],
  ['files', 'flag:files', 'quadlet:files', 'ConfigMap', 'never: compose configs are reported'],
  ['files.*.target', 'files', 'files', 'files', 'never'],
  ['files.*.content', 'files', 'files', 'files', 'never'],
  ['files.*.mode', 'files', 'files', 'files', 'never'],
  ['env', 'flag:env', 'quadlet:env', 'env', 'from environment and env_file'],
  ['devices', 'flag:devices', 'quadlet:devices', 'hostPath, with a warning', 'from devices'],
  ['capabilities', 'flag:capabilities', 'quadlet:capabilities', 'securityContext', 'from cap_add'],
  ['privileged', 'flag:privileged', 'quadlet:privileged', 'securityContext', 'from privileged'],
  [
    'host_paths',
    'flag:host_paths',
    'quadlet:host_paths',
    'hostPath, with a warning',
    'from a bind of a host system path',
  ],
  ['host_paths[].path', 'host_paths', 'host_paths', 'hostPath', 'from a bind source'],
  ['host_paths[].target', 'host_paths', 'host_paths', 'mountPath', 'from a bind target'],
  ['host_paths[].readonly', 'host_paths', 'host_paths', 'readOnly', 'from :ro'],
  ['stop_signal', 'flag:stop_signal', 'quadlet:stop_signal', 'warning: not exported', 'from stop_signal'],
  ['dns', 'flag:dns', 'quadlet:dns', 'dnsConfig.nameservers', 'from dns'],
  ['security_opt', 'flag:security_opt', 'quadlet:security_opt', 'warning: not exported', 'from security_opt'],
  [
    'podman_socket',
    'flag:podman_socket',
    'quadlet:podman_socket',
    'hostPath Socket, with a warning',
    'from a bind of docker.sock',
  ],
  ['resources', 'flag:resources.memory', 'quadlet:resources.memory', 'limits', 'from mem_limit and deploy'],
  [
    'resources.memory',
    'flag:resources.memory',
    'quadlet:resources.memory',
    'limits.memory',
    'from mem_limit',
  ],
  [
    'resources.cpu_weight',
    'flag:resources.cpu_weight',
    'quadlet:resources.cpu_weight',
    'warning',
    'never: cpus/cpu_shares are reported',
  ],
  ['shm_size', 'flag:shm_size', 'quadlet:shm_size', 'an in-memory emptyDir', 'from shm_size'],
  ['read_only', 'flag:read_only', 'quadlet:read_only', 'readOnlyRootFilesystem', 'from read_only'],
  ['tmpfs', 'flag:tmpfs', 'quadlet:tmpfs', 'in-memory emptyDir', 'from tmpfs'],
  ['sysctls', 'flag:sysctls', 'quadlet:sysctls', 'securityContext.sysctls', 'from sysctls'],
  ['ulimits', 'flag:ulimits', 'quadlet:ulimits', 'warning', 'from ulimits'],
  ['ulimits.*.soft', 'ulimits', 'ulimits', 'warning', 'from ulimits'],
  ['ulimits.*.hard', 'ulimits', 'ulimits', 'warning', 'from ulimits'],
  ['extra_hosts', 'flag:extra_hosts', 'quadlet:extra_hosts', 'hostAliases', 'from extra_hosts'],
  ['labels', 'flag:labels', 'quadlet:labels', 'annotations', 'from labels'],
  [
    'network_aliases',
    'flag:network_aliases',
    'quadlet:network_aliases',
    'warning',
    'from networks.*.aliases',
  ],
  ['restart', 'unit: Restart=', 'Restart=', 'warning unless always', 'from restart'],
  ['health', 'flag:health', 'quadlet:health', 'probes', 'from healthcheck'],
  ['health.cmd', 'health', 'health', 'probe', 'from healthcheck.test'],
  ['health.interval', 'unit: the health timer', 'health', 'probe', 'from healthcheck.interval'],
  ['health.timeout', 'health', 'health', 'probe', 'from healthcheck.timeout'],
  ['health.retries', 'health', 'health', 'probe', 'from healthcheck.retries'],
  ['health.start_period', 'health', 'health', 'probe', 'from healthcheck.start_period'],
  ['health.on_failure', 'health', 'health', 'probe', 'never: compose has none'],
  ['update', 'berth updates', 'not exported', 'not exported', 'never: berth-only'],
  ['update.policy', 'update', 'not exported', 'not exported', 'never'],
  ['update.gate', 'update', 'not exported', 'not exported', 'never'],
  ['update.stable_for', 'update', 'not exported', 'not exported', 'never'],
  ['update.keep', 'update', 'not exported', 'not exported', 'never'],
  ['update.snapshot', 'update', 'not exported', 'not exported', 'never'],
  ['depends_on', 'unit: Requires=/After=', 'Requires=/After=', 'warning', 'from depends_on'],
  ['requires_mounts', 'unit: RequiresMountsFor=', 'RequiresMountsFor=', 'warning', 'never: compose has none'],
  ['advertise', 'berth announces', 'not exported', 'warning', 'never: compose has none'],
  ['advertise[].type', 'advertise', 'not exported', 'warning', 'never'],
  ['advertise[].port', 'advertise', 'not exported', 'warning', 'never'],
  ['advertise[].name', 'advertise', 'not exported', 'warning', 'never'],
  ['advertise[].txt', 'advertise', 'not exported', 'warning', 'never'],
];

const named = (prefix: string) =>
  REACH.flatMap((r) => r.filter((c) => c.startsWith(prefix)).map((c) => c.slice(prefix.length)));

describe('every recipe key reaches the unit, both exports and compose import', () => {
  it('has a row for each key of the schema, and none for a key it does not have', () => {
    const schema = [...keyPaths(recipeJsonSchema() as Schema)].sort();
    expect(REACH.map((r) => r[0]).sort()).toEqual(schema);
  });

  it('names only rows the flag and Quadlet tables have, and names each of them', () => {
    const flags = PODMAN_FLAG_TABLE.map((r) => r.key).filter((k) => k !== 'env (secrets)');
    const quadlet = QUADLET_TABLE.map((r) => r.key).filter((k) => k !== 'env (secrets)');
    expect([...new Set(named('flag:'))].sort()).toEqual([...flags].sort());
    expect([...new Set(named('quadlet:'))].sort()).toEqual([...quadlet].sort());
  });
});
