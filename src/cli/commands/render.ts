import { dirname, resolve } from 'node:path';
import { formatDiagnostic } from '../../recipe/diagnostics.js';
import { checkRecipeSet, readRecipe, recipeFiles } from '../../recipe/load.js';
import { renderUnit } from '../../render/unit.js';
import { type Command, EXIT_FAILED, EXIT_OK, UsageError } from '../command.js';
import { checkContext, renderContext } from '../../context.js';

export const renderCommand: Command = {
  name: 'render',
  summary: 'print the systemd unit berth writes for a recipe',
  usage: 'berth render FILE [--json]',
  help: "FILE's sibling recipes are read too, so depends_on and port clashes are checked as apply would.",
  options: { json: { type: 'boolean' } },
  async run({ config, positionals, options, io }) {
    if (positionals.length !== 1) throw new UsageError('render takes exactly one recipe FILE');
    const file = positionals[0]!;
    const ctx = checkContext(config);
    const target = await readRecipe(file, ctx);
    const siblings = (await recipeFiles([dirname(file)]).catch(() => [])).filter(
      (f) => resolve(f) !== resolve(file),
    );
    const others = await Promise.all(siblings.map((f) => readRecipe(f, ctx)));
    checkRecipeSet([target, ...others].sort((a, b) => a.file.localeCompare(b.file)));
    if (!target.app) {
      for (const d of target.diagnostics) io.out(formatDiagnostic(d));
      return EXIT_FAILED;
    }
    const unit = renderUnit(target.app, renderContext(config, [target.app]));
    if (options.json) io.out(JSON.stringify(unit, null, 2));
    else
      for (const u of [unit, ...unit.companions])
        io.out(`${u === unit ? '' : `\n# ---- ${u.name}\n`}${u.text.trimEnd()}`);
    return EXIT_OK;
  },
};
