// Plain-text tables for a terminal: columns as wide as their widest cell, as a terminal
// shows it (wide characters take two columns, combining marks none). Pure.

/** Characters a terminal gives two columns: East Asian wide ones and emoji. */
const WIDE =
  /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1faff}\u{20000}-\u{3fffd}]/u;

/** Columns a terminal gives the text (combining marks take none). */
export function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += /\p{M}/u.test(ch) ? 0 : WIDE.test(ch) ? 2 : 1;
  return w;
}

const padEnd = (text: string, width: number) => text + ' '.repeat(Math.max(0, width - displayWidth(text)));

/** The rows (the first is the header) as aligned lines, two spaces between columns. */
export function tableLines(rows: readonly (readonly string[])[]): string[] {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => displayWidth(r[i] ?? ''))));
  return rows.map((r) =>
    r
      .map((c, i) => padEnd(c, widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}
