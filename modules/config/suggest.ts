/**
 * "Did you mean": the closest of a few known names to what was written, for config error messages.
 * Pure; the names are short (config keys, table names, region codes), so a plain dynamic-programming distance is fast.
 */

/** Optimal string alignment distance (Levenshtein plus the swap of two neighbours), on lower-cased text. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) => [i, ...Array<number>(t.length).fill(0)]);
  for (let j = 1; j <= t.length; j++) d[0][j] = j;
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[s.length][t.length];
}

/**
 * The known name closest to `written`, if it is close enough to be a slip: a difference of case or punctuation, or at
 * most a third of the name's letters (at least 2) off. On a tie, the first in `known`'s order.
 */
export function closest(written: string, known: Iterable<string>): string | undefined {
  const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = squash(name) === squash(written) ? 0 : editDistance(written, name);
    if (best === undefined || distance < best.distance) best = { name, distance };
  }
  if (best === undefined) return undefined;
  return best.distance <= Math.max(2, Math.floor(written.length / 3)) ? best.name : undefined;
}

/** " (did you mean X?)" or "" when nothing known is close. */
export function didYouMean(written: string, known: Iterable<string>): string {
  const match = closest(written, known);
  return match === undefined ? "" : `did you mean ${JSON.stringify(match)}?`;
}
