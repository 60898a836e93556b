// Every CLI command, in the order `berth --help` lists them.
import type { Command } from '../command.js';
import { referenceCommand } from './reference.js';
import { renderCommand } from './render.js';
import { schemaCommand } from './schema.js';
import { validateCommand } from './validate.js';

export const COMMANDS: readonly Command[] = [validateCommand, renderCommand, schemaCommand, referenceCommand];
