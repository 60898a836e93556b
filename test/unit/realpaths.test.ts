// The allowed roots hold for the paths as the file system resolves them, not only their names.
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRecipes } from '../../src/recipe/load.js';

async function setup() {
  const root = await mkdtemp(join(tmpdir(), 'berth-real-'));
  const srv = join(root, 'srv');
  const recipes = join(root, 'recipes');
  await mkdir(join(srv, 'real'), { recursive: true });
  await mkdir(recipes);
  const ctx = { allowedRoots: [srv], dataDir: join(root, 'data') };
  const load = async (text: string) => {
    await writeFile(join(recipes, 'a.yaml'), text);
    return loadRecipes([recipes], ctx);
  };
  return { root, srv, recipes, load };
}

describe('allowed roots, resolved', () => {
  it('refuses a host path under a root that is a symlink to /, at its file:line:col', async () => {
    const { srv, load } = await setup();
    await symlink('/', join(srv, 'x'));
    const set = await load(
      `name: a\nimage: docker.io/library/nginx:1.27\nvolumes:\n  data: {target: /data, host: ${srv}/x}\n`,
    );
    expect(set.apps).toEqual([]);
    expect(set.diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`)).toEqual([
      `4:31 host path ${srv}/x resolves to / (through a symlink), which is a system or berth directory and cannot be given to an app; use a directory under ${srv}`,
    ]);
  });

  it('refuses a host path whose link leads outside the roots; accepts one that stays inside', async () => {
    const { root, srv, load } = await setup();
    await mkdir(join(root, 'elsewhere'));
    await symlink(join(root, 'elsewhere'), join(srv, 'out'));
    await symlink(join(srv, 'real'), join(srv, 'in'));
    const bad = await load(
      `name: a\nimage: docker.io/library/nginx:1.27\nvolumes:\n  data: {target: /data, host: ${srv}/out/sub}\n`,
    );
    expect(bad.diagnostics[0]?.message).toMatch(
      /resolves to .*elsewhere\/sub \(through a symlink\), which is outside the allowed roots/,
    );
    const good = await load(
      `name: a\nimage: docker.io/library/nginx:1.27\nvolumes:\n  data: {target: /data, host: ${srv}/in}\n`,
    );
    expect(good.diagnostics).toEqual([]);
    expect(good.apps).toHaveLength(1);
  });

  it('refuses a build context next to the recipe that links outside, and a Containerfile that does', async () => {
    const { recipes, srv, load } = await setup();
    await symlink('/etc', join(recipes, 'ctx'));
    const ctx = await load('name: a\nbuild: ctx\n');
    expect(ctx.diagnostics[0]?.message).toMatch(
      /the build context .*ctx resolves to \/etc \(through a symlink\)/,
    );
    await mkdir(join(srv, 'web'));
    await symlink('/etc/passwd', join(srv, 'web', 'Containerfile'));
    const file = await load(`name: a\nbuild: {context: ${srv}/web, file: Containerfile}\n`);
    expect(file.diagnostics[0]?.message).toMatch(/the Containerfile .* resolves to \/etc\/passwd/);
  });
});
