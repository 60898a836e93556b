// A required variable the import makes a berth secret of (`${DB_PASSWORD:?}` with no value)
// is carried through the compose document as a mark no real value holds; the converter
// turns it into ${secret:NAME} where a recipe can hold one (env, files).
export const secretMark = (name: string) => `\u0001berth-secret:${name}\u0001`;
export const SECRET_MARK_RE = /\u0001berth-secret:([A-Za-z0-9_]+)\u0001/g;

/** A required variable whose name says it is a secret: password, secret, key or token. */
export const namesSecret = (name: string) => /pass(word|wd)?|secret|key|token/i.test(name);

/** Text with each mark as ${secret:NAME}, and the names found. */
export function unmark(text: string): { text: string; names: string[] } {
  const names: string[] = [];
  const out = text.replace(SECRET_MARK_RE, (_m, n: string) => {
    names.push(n);
    return `\${secret:${n}}`;
  });
  return { text: out, names };
}
