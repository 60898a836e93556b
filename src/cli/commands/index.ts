// Every CLI command, in the order `berth --help` lists them. Each entry names its command and
// loads the module only when that command runs (or its --help is asked for), so a command pays
// only for the modules it uses and `berth --help` loads none.
import type { CommandEntry } from '../command.js';

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'validate',
    summary: 'check recipes and report every problem with file, line and field',
    load: async () => (await import('./validate.js')).validateCommand,
  },
  {
    name: 'import',
    summary: 'turn a docker-compose file into recipes, one per service, and say what changed',
    load: async () => (await import('./import.js')).importCommand,
  },
  {
    name: 'plan',
    summary: 'show what apply would change, step by step, without changing anything',
    load: async () => (await import('./plan.js')).planCommand,
  },
  {
    name: 'apply',
    summary: 'make the running apps match the recipes (only what changed)',
    load: async () => (await import('./apply.js')).applyCommand,
  },
  {
    name: 'status',
    summary: 'show every app: state, health, uptime, restarts, ports, recipe errors',
    load: async () => (await import('./status.js')).statusCommand,
  },
  {
    name: 'search',
    summary: 'find apps in the catalog of vetted recipes',
    load: async () => (await import('./catalog.js')).searchCommand,
  },
  {
    name: 'add',
    summary: 'add an app from the catalog to the recipes (--enable: and start it)',
    load: async () => (await import('./catalog.js')).addCommand,
  },
  {
    name: 'start',
    summary: "start an app's unit",
    load: async () => (await import('./units.js')).startCommand,
  },
  {
    name: 'stop',
    summary: "stop an app's unit (until the next boot or start)",
    load: async () => (await import('./units.js')).stopCommand,
  },
  {
    name: 'restart',
    summary: "restart an app's unit",
    load: async () => (await import('./units.js')).restartCommand,
  },
  {
    name: 'logs',
    summary: "show an app's output (-f to follow)",
    load: async () => (await import('./logs-exec.js')).logsCommand,
  },
  {
    name: 'exec',
    summary: "run a command inside an app's container",
    load: async () => (await import('./logs-exec.js')).execCommand,
  },
  {
    name: 'remove',
    summary: 'remove an app: its unit and container go, its data stays (unless --purge)',
    load: async () => (await import('./remove.js')).removeCommand,
  },
  {
    name: 'update',
    summary:
      "update apps to their image's newest version, with a snapshot, a health gate and automatic rollback",
    load: async () => (await import('./update.js')).updateCommand,
  },
  {
    name: 'rollback',
    summary: 'go back to the image an app ran before its last update (--data: and to its data then)',
    load: async () => (await import('./update.js')).rollbackCommand,
  },
  {
    name: 'history',
    summary: "list an app's updates and rollbacks: time, old → new, result, reason",
    load: async () => (await import('./update.js')).historyCommand,
  },
  {
    name: 'snapshots',
    summary: "list an app's data snapshots (taken before each update) with their sizes",
    load: async () => (await import('./update.js')).snapshotsCommand,
  },
  {
    name: 'events',
    summary: 'list the last events: apps failing and recovering, updates, rollbacks, disks',
    load: async () => (await import('./notify.js')).eventsCommand,
  },
  {
    name: 'notify',
    summary: 'send a test message to the notification channels, or check notify.yaml',
    load: async () => (await import('./notify.js')).notifyCommand,
  },
  {
    name: 'prune',
    summary:
      'remove the images, networks, snapshots and set-aside data berth made and no longer needs; say the space freed',
    load: async () => (await import('./prune.js')).pruneCommand,
  },
  {
    name: 'disks',
    summary: 'list the disks: model, size, mounts, what berth keeps there, temperature, SMART health, asleep',
    load: async () => (await import('./disks.js')).disksCommand,
  },
  {
    name: 'lan',
    summary: 'show what this machine sees on the LAN: mDNS services, DLNA/UPnP devices, NetBIOS names',
    load: async () => (await import('./lan.js')).lanCommand,
  },
  {
    name: 'doctor',
    summary: 'check that this machine has what berth needs, and say what to fix',
    load: async () => (await import('./doctor.js')).doctorCommand,
  },
  {
    name: 'os',
    summary: 'the appliance OS: its version and slots, updates (A/B, rolled back on failure), going back',
    load: async () => (await import('./os.js')).osCommand,
  },
  {
    name: 'settings',
    summary: 'import settings and recipes from the BERTH partition, and report what was done',
    load: async () => (await import('./settings.js')).settingsCommand,
  },
  {
    name: 'supervise',
    summary: 'the boot-time service: apply, then keep apps in line with the recipes dir',
    load: async () => (await import('./supervise.js')).superviseCommand,
  },
  {
    name: 'export',
    summary: 'write apps as Quadlet files (podman) or Kubernetes manifests (a cluster such as k3s)',
    load: async () => (await import('./export.js')).exportCommand,
  },
  {
    name: 'render',
    summary: 'print the systemd unit berth writes for a recipe',
    load: async () => (await import('./render.js')).renderCommand,
  },
  {
    name: 'schema',
    summary: 'print the recipe JSON Schema (for editor completion)',
    load: async () => (await import('./schema.js')).schemaCommand,
  },
  {
    name: 'reference',
    summary: 'print the recipe reference (Markdown, generated from the schema)',
    load: async () => (await import('./reference.js')).referenceCommand,
  },
];
