// Where things live. Defaults are the appliance's; options and BERTH_* variables override them.
import { homedir, hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ALLOWED_ROOTS } from './recipe/check.js';

export interface Config {
  recipesDir: string;
  dataDir: string;
  unitDir: string;
  /** Drive the user service manager on the session bus instead of the system manager. */
  user: boolean;
  allowedRoots: string[];
  hostname: string;
  podman: string;
  /** The supervisor's control socket. */
  socketPath: string;
  /** The `berth/` folder of the BERTH partition (settings and recipes given at flash time). */
  settingsDir: string;
  /** Where notifications go (channels, per-channel events, quiet hours). */
  notifyFile: string;
  /** Settings per disk (spin-down). */
  disksFile: string;
  /** The catalog of vetted recipes (`berth search`, `berth add`). */
  catalogDir: string;
  /** Interfaces to advertise on; undefined means every non-loopback interface. */
  advertiseInterfaces?: string[];
  /** The appliance OS: its os-release, EFI partition and systemd-sysupdate (berth os). */
  os: OsPaths;
}

export interface OsPaths {
  release: string;
  espDir: string;
  sysupdate: string;
  /** The public key update signatures are checked with (sysupdate's own keyring). */
  pubring: string;
  /** A file holding the update URL the image was built with, if any. */
  urlFile: string;
}

export interface ConfigOverrides {
  recipes?: string | undefined;
  'data-dir'?: string | undefined;
  'unit-dir'?: string | undefined;
  user?: boolean | undefined;
}

/** The catalog shipped in the package: <package>/recipes/catalog, from the bundle or a module. */
function shippedCatalog(): string {
  // The CLI runs as one CommonJS bundle, dist/cli/berth.cjs, where import.meta is empty.
  if (typeof __dirname === 'string') return join(__dirname, '..', '..', 'recipes', 'catalog');
  return fileURLToPath(new URL('../recipes/catalog', import.meta.url));
}

export function resolveConfig(o: ConfigOverrides, env: NodeJS.ProcessEnv = process.env): Config {
  const user = o.user ?? env.BERTH_USER === '1';
  const userUnitDir = join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'systemd', 'user');
  const dataDir = o['data-dir'] ?? env.BERTH_DATA_DIR ?? '/var/lib/berth';
  const recipesDir = o.recipes ?? env.BERTH_RECIPES_DIR ?? '/etc/berth/recipes';
  return {
    recipesDir,
    dataDir,
    unitDir: o['unit-dir'] ?? env.BERTH_UNIT_DIR ?? (user ? userUnitDir : '/etc/systemd/system'),
    user,
    allowedRoots: env.BERTH_ALLOWED_ROOTS?.split(':').filter(Boolean) ?? [...DEFAULT_ALLOWED_ROOTS],
    hostname: env.BERTH_HOSTNAME ?? hostname(),
    podman: env.BERTH_PODMAN ?? '/usr/bin/podman',
    settingsDir: env.BERTH_SETTINGS_DIR ?? '/boot/berth/berth',
    catalogDir: env.BERTH_CATALOG_DIR ?? shippedCatalog(),
    // Beside the recipes folder: /etc/berth/notify.yaml on the appliance.
    notifyFile: env.BERTH_NOTIFY_FILE ?? join(dirname(recipesDir), 'notify.yaml'),
    disksFile: env.BERTH_DISKS_FILE ?? join(dirname(recipesDir), 'disks.yaml'),
    os: {
      release: env.BERTH_OS_RELEASE ?? '/usr/lib/os-release',
      espDir: env.BERTH_ESP_DIR ?? '/efi',
      sysupdate: env.BERTH_SYSUPDATE ?? '/usr/lib/systemd/systemd-sysupdate',
      pubring: env.BERTH_OS_PUBRING ?? '/usr/lib/systemd/import-pubring.gpg',
      urlFile: env.BERTH_OS_URL_FILE ?? '/usr/lib/berth/os-update-url',
    },
    socketPath:
      env.BERTH_SOCKET ?? join(user ? (env.XDG_RUNTIME_DIR ?? '/run') : '/run', 'berth', 'control.sock'),
    ...(env.BERTH_ADVERTISE_INTERFACES
      ? { advertiseInterfaces: env.BERTH_ADVERTISE_INTERFACES.split(',').filter(Boolean) }
      : {}),
  };
}
