// Every CLI command, in the order `berth --help` lists them.
import type { Command } from '../command.js';
import { applyCommand } from './apply.js';
import { lanCommand } from './lan.js';
import { execCommand, logsCommand } from './logs-exec.js';
import { planCommand } from './plan.js';
import { referenceCommand } from './reference.js';
import { removeCommand } from './remove.js';
import { renderCommand } from './render.js';
import { schemaCommand } from './schema.js';
import { statusCommand } from './status.js';
import { superviseCommand } from './supervise.js';
import { restartCommand, startCommand, stopCommand } from './units.js';
import { validateCommand } from './validate.js';

export const COMMANDS: readonly Command[] = [
  validateCommand,
  planCommand,
  applyCommand,
  statusCommand,
  startCommand,
  stopCommand,
  restartCommand,
  logsCommand,
  execCommand,
  removeCommand,
  lanCommand,
  superviseCommand,
  renderCommand,
  schemaCommand,
  referenceCommand,
];
