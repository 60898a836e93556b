// Watches the recipes dir. Editors save by writing a temp file and renaming it, or by
// truncating and writing: a burst of events, so changes are debounced into one call.
import { watch } from 'node:fs';

export function watchRecipes(dir: string, debounceMs: number, onChange: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(dir, { persistent: true }, () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  });
  watcher.on('error', () => {});
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}
