// The shape every CLI command has. Commands get their dependencies passed in (config,
// output streams), so tests can run them in-process against any setup.
import type { ParseArgsConfig } from 'node:util';
import type { Config } from '../config.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  isTty: boolean;
}

export interface CommandContext {
  config: Config;
  positionals: string[];
  /** Parsed options: booleans and strings by name. */
  options: Record<string, string | boolean | (string | boolean)[] | undefined>;
  io: Io;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Longer help text after the usage line. */
  help?: string;
  options?: OptionSpec;
  run(ctx: CommandContext): Promise<number>;
}

/**
 * What `berth --help` lists about a command, and how to load it: the command's module is
 * imported only when it runs, so each command pays only for what it uses.
 */
export interface CommandEntry {
  name: string;
  /** The same summary as the loaded Command's. */
  summary: string;
  load(): Promise<Command>;
}

/** A mistake in how berth was called: exit 2 with the message and a pointer to --help. */
export class UsageError extends Error {}

/** A failure the user can act on; printed as one message, exit 1, never a stack trace. */
export class UserError extends Error {}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
