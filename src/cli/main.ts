#!/usr/bin/env node
// The `berth` executable. Every command is a new process, so start-up is most of a short
// command's time: this loads the whole CLI as one bundle (dist/cli/berth.cjs, made by
// scripts/build.js) and spares V8 compiling it again. Where Node has a compile cache
// (22.1+) it is used; on older Node (the appliance's 20) V8's code cache is kept by hand,
// one per command, in dist/cli/code-cache/ (dropped by each build). BERTH_DEBUG loads the
// bundle with source maps (stack traces name the TypeScript sources) and no cache. Without a
// bundle (tsc alone built dist/), the modules are imported one by one.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import nodeModule from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

interface Cli {
  main(argv: readonly string[]): Promise<number>;
  commandNames: readonly string[];
}

const here = dirname(fileURLToPath(import.meta.url));
const bundle = join(here, 'berth.cjs');
const cacheDir = join(here, 'code-cache');
const argv = process.argv.slice(2);

/**
 * The command word, to pick its code cache before the CLI is loaded: the first argument that
 * is neither an option nor the value of a global option that takes one (as run.ts reads it;
 * a miss only means no cache).
 */
function commandWord(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') break;
    if (!a.startsWith('-')) return /^[a-z]{1,20}$/.test(a) ? a : '';
    if (/^--(recipes|data-dir|unit-dir)$/.test(a)) i++;
  }
  return 'none';
}

/** V8 rejects a cache made under other flags: keep one per set of flags. */
function flagsKey(): string {
  let h = 5381;
  for (const c of `${process.execArgv.join(' ')}|${process.env.NODE_OPTIONS ?? ''}`)
    h = ((h * 33) ^ c.charCodeAt(0)) >>> 0;
  return h.toString(36);
}

/** Compiles the bundle with this command's V8 code cache; save() writes one if there was none. */
function loadCached(): { cli: Cli; save(cli: Cli): void } {
  const source = readFileSync(bundle, 'utf8');
  // A copy: a match is a slice that keeps the whole 2 MB source alive for as long as `save`
  // (which holds `build`) lives, and in the supervisor that is the whole run.
  const match = /berth-build=([0-9a-f]+)\s*$/.exec(source.slice(-64))?.[1];
  const build = match && Buffer.from(match, 'latin1').toString('latin1');
  const name = commandWord(argv);
  const file =
    build && name
      ? join(cacheDir, `${build}-${process.version}-${process.arch}-${flagsKey()}-${name}.bin`)
      : undefined;
  let cachedData: Buffer | undefined;
  try {
    if (file) cachedData = readFileSync(file);
  } catch {
    // No cache yet.
  }
  // The same wrapper Node puts around a CommonJS module.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundle,
    ...(cachedData ? { cachedData } : {}),
  });
  const module = { exports: {} as Cli };
  (script.runInThisContext() as (...a: unknown[]) => void)(
    module.exports,
    nodeModule.createRequire(bundle),
    module,
    bundle,
    here,
  );
  const stale = !cachedData || script.cachedDataRejected === true;
  return {
    cli: module.exports,
    // After the command ran, so the cache holds the functions it used, not only the top level.
    save(cli) {
      // A command's --help would make a cache without the command's own functions.
      const help = argv.includes('--help') || argv.includes('-h');
      const known = name === 'none' || (cli.commandNames.includes(name) && !help);
      if (!file || !stale || !known) return;
      const tmp = `${file}.${process.pid}`;
      try {
        mkdirSync(cacheDir, { recursive: true });
        // Caches of earlier builds are of no more use.
        for (const f of readdirSync(cacheDir))
          if (!f.startsWith(`${build}-`)) rmSync(join(cacheDir, f), { force: true });
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, file);
      } catch {
        // A read-only install runs without a cache.
        try {
          rmSync(tmp, { force: true });
        } catch {
          // Nothing was written.
        }
      }
    },
  };
}

async function load(): Promise<{ cli: Cli; save?(cli: Cli): void }> {
  if (!existsSync(bundle)) return { cli: await import('./berth.js') };
  const enableCompileCache = (nodeModule as { enableCompileCache?: (dir?: string) => unknown })
    .enableCompileCache;
  if (process.env.BERTH_DEBUG) process.setSourceMapsEnabled(true);
  else if (enableCompileCache) enableCompileCache(cacheDir);
  else return loadCached();
  return { cli: nodeModule.createRequire(import.meta.url)(bundle) as Cli };
}

const { cli, save } = await load();
process.exitCode = await cli.main(argv);
save?.(cli);
