/**
 * A `*` wildcard pattern, matched case-insensitively in time linear in the text, whatever the
 * pattern: the first and last pieces are anchored, the ones between are found left to right,
 * each at its first place after the previous (for `*`-only patterns the first place is always
 * right, so nothing is ever tried twice). A regular expression would backtrack: `a*a*a*zzz`
 * against 5,000 characters took seconds and held the whole process.
 */
export class Wildcard {
  private readonly pieces: string[];

  constructor(readonly glob: string) {
    this.pieces = glob.toLowerCase().split('*');
  }

  test(text: string): boolean {
    const s = text.toLowerCase();
    const p = this.pieces;
    if (p.length === 1) return s === p[0];
    const first = p[0]!;
    const last = p[p.length - 1]!;
    if (s.length < first.length + last.length || !s.startsWith(first) || !s.endsWith(last)) return false;
    let at = first.length;
    const end = s.length - last.length;
    for (let i = 1; i < p.length - 1; i++) {
      const piece = p[i]!;
      if (piece === '') continue;
      const found = s.indexOf(piece, at);
      if (found < 0 || found + piece.length > end) return false;
      at = found + piece.length;
    }
    return true;
  }
}
