// `npm run build`, after tsc has type-checked and compiled src/ into dist/ module by module:
// bundles the CLI (src/cli/berth.ts and everything it imports, packages included) into one
// CommonJS file, dist/cli/berth.cjs, which dist/cli/main.js loads with a code cache.
// One file instead of hundreds of modules is most of berth's start-up time: Node resolves,
// reads and compiles each module separately. Commands stay lazy inside the bundle: a module
// is only evaluated when a command imports it.
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { build } from 'esbuild';

const out = 'dist/cli/berth.cjs';

/** Packages' modules that berth never uses at run time, replaced by empty ones. */
const unused = {
  name: 'berth-unused',
  setup(b) {
    // zod's messages in other languages: berth reports in English (zod's default, set by zod itself).
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({ contents: 'export {};' }));
    // @homebridge/ciao registers a process-wide stack-trace rewriter when loaded; berth's stack
    // traces map through Node's own source maps under BERTH_DEBUG instead.
    b.onResolve({ filter: /^source-map-support\/register$/ }, () => ({ path: 'ssr', namespace: 'empty' }));
    b.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: '' }));
  },
};

const result = await build({
  entryPoints: ['src/cli/berth.ts'],
  outfile: out,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Optional packages of dbus-next that berth does not use (X11 bus lookup, fd passing):
  // left as require() calls that fail at run time as they do without the bundle.
  external: ['x11', 'usocket'],
  plugins: [unused],
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: true,
  logLevel: 'warning',
  // config.ts finds the shipped catalog through __dirname in this bundle, import.meta.url elsewhere.
  logOverride: { 'empty-import-meta': 'silent' },
});
if (result.errors.length > 0) process.exit(1);

const text = await readFile(out, 'utf8');
// esbuild turns import('literal') into a lazy require; one left over (a computed name) would
// fail at run time, since main.ts compiles the bundle as a plain script.
if (/\bimport\(/.test(text)) {
  console.error(
    `${out}: an import() with a computed module name is left in the bundle; name the module literally`,
  );
  process.exit(1);
}
// V8 keeps the bundle's source for as long as berth runs, two bytes a character if a single
// one is not Latin-1 (4 MB instead of 2 in the supervisor): esbuild escapes such characters
// in strings, but not in regular expressions, so write those as \u escapes.
const wide = /[^\x00-\x7f]/.exec(text);
if (wide) {
  const at = text.slice(Math.max(0, wide.index - 60), wide.index + 20);
  console.error(
    `${out}: a non-ASCII character '${wide[0]}' is left in the bundle (…${at}…); write it as a \\u escape`,
  );
  process.exit(1);
}
// The build's identity, last in the file, names the code caches made from it (main.ts).
const id = createHash('sha256').update(text).digest('hex').slice(0, 16);
await writeFile(out, `${text}//# berth-build=${id}\n`);
await rm('dist/cli/code-cache', { recursive: true, force: true });
