import { recipeJsonSchema } from '../../recipe/schema.js';
import { type Command, EXIT_OK } from '../command.js';

export const schemaCommand: Command = {
  name: 'schema',
  summary: 'print the recipe JSON Schema (for editor completion)',
  usage: 'berth schema',
  help: 'Save it next to your recipes and start each recipe with\n  # yaml-language-server: $schema=./recipe.schema.json',
  async run({ io }) {
    io.out(JSON.stringify(recipeJsonSchema(), null, 2));
    return EXIT_OK;
  },
};
