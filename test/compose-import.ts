// A compose file written into a fresh folder (with .env and other files beside it) and
// imported into a fresh recipes dir: shared by the compose test files.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll } from 'vitest';
import { formatComposeMessage, importCompose, type ImportOptions } from '../src/compose/import.js';
import type { CheckContext } from '../src/recipe/check.js';
import { CHECK_CTX } from './helpers.js';

export interface ImpOptions extends Partial<Omit<ImportOptions, 'outDir' | 'ctx' | 'env'>> {
  env?: string;
  out?: string;
  files?: Record<string, string>;
  procEnv?: Record<string, string>;
  ctx?: CheckContext;
}

/** A work dir removed after the file's tests, and `imp` importing a compose text there. */
export function composeWorkdir(prefix = 'berth-compose-') {
  const work = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  let n = 0;
  const imp = async (yaml: string, opts: ImpOptions = {}) => {
    const { env, out: outOpt, files, procEnv, ctx, ...rest } = opts;
    const dir = join(work, `p${++n}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'compose.yaml'), yaml);
    if (env) writeFileSync(join(dir, '.env'), env);
    for (const [name, text] of Object.entries(files ?? {})) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    const out = outOpt ?? join(dir, 'recipes');
    mkdirSync(out, { recursive: true });
    const r = await importCompose(join(dir, 'compose.yaml'), {
      profiles: [],
      ...rest,
      outDir: out,
      // berth's data dir of the test's own: an import may seed secrets there.
      ctx: ctx ?? { ...CHECK_CTX, dataDir: join(work, 'data') },
      env: procEnv ?? {},
    });
    return { ...r, dir, out, text: r.messages.map(formatComposeMessage).join('\n') };
  };
  return { work, imp };
}
