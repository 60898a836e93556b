// `berth search`: every word must match somewhere; the better the place, the higher the app. Pure.
import type { CatalogApp } from './catalog.js';

function wordScore(app: CatalogApp, word: string): number {
  const w = word.toLowerCase();
  if (app.name === w) return 100;
  if (app.name.startsWith(w) || app.title.toLowerCase().startsWith(w)) return 80;
  if (app.tags.includes(w)) return 60;
  if (app.name.includes(w) || app.title.toLowerCase().includes(w)) return 50;
  if (app.tags.some((t) => t.startsWith(w))) return 40;
  if (app.summary.toLowerCase().includes(w)) return 30;
  if (app.recipes.some((r) => r.includes(w))) return 20;
  return 0;
}

export function searchCatalog(apps: readonly CatalogApp[], words: readonly string[]): CatalogApp[] {
  const scored = apps.flatMap((app) => {
    const scores = words.map((w) => wordScore(app, w));
    return scores.every((s) => s > 0) ? [{ app, score: scores.reduce((a, b) => a + b, 0) }] : [];
  });
  return scored.sort((a, b) => b.score - a.score || a.app.name.localeCompare(b.app.name)).map((s) => s.app);
}
