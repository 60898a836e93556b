// README's recipe reference and the README commands must match the code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withReference } from '../../src/cli/commands/reference.js';
import { recipeJsonSchema } from '../../src/recipe/schema.js';

const root = join(import.meta.dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

describe('README', () => {
  it('has the recipe reference generated from the current schema (run `npm run docs`)', () => {
    expect(withReference(readme)).toBe(readme);
  });

  it('ships the recipe JSON Schema next to the recipes, as berth schema prints it (run `npm run docs`)', () => {
    const shipped = JSON.parse(readFileSync(join(root, 'recipes', 'recipe.schema.json'), 'utf8'));
    expect(shipped).toEqual(recipeJsonSchema());
  });

  it('opens with the two commands, and .ci/run runs the test one', () => {
    const block = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const commands = block
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(/\s+#.*$/, ''));
    expect(commands).toHaveLength(2);
    const ci = readFileSync(join(root, '.ci', 'run'), 'utf8');
    expect(ci.trimEnd().split('\n').at(-1)).toBe(commands[1]);
  });
});
