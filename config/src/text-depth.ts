/**
 * Nesting depth of a config document's *text*, measured in one linear pass before any parser
 * runs: the yaml library needs ~1 s and ~200 MB to refuse 200 KB of `[[[[…`, and recursive
 * consumers of a decoded value would overflow the stack. Depth counts containers (objects and
 * arrays; YAML block mappings and sequences, flow collections).
 *
 * JSON: exact (strings skipped with their escapes).
 * YAML: an estimate that errs high where it must guess, so that a document the parser would find
 * deep is never reported shallow. It tracks flow collections (`[`, `{`, outside quoted scalars
 * and comments), block indentation (a stack of columns; a sequence may share its parent
 * mapping's column), compact nesting on one line (`- - a: b`), quoted scalars across lines,
 * block scalars (`|`, `>`: more-indented lines are content) and document markers. Where it is
 * unsure whether something is a quote, a comment or block-scalar content, it scans it as
 * structure. A block mapping is counted when its first `key: ` is seen, so a flow collection
 * used as a mapping key (`[a]: b`) is counted one level short; that is the slack.
 */

export interface TextPosition {
  readonly line: number;
  readonly column: number;
}

const TAB = 9;
const LF = 10;
const CR = 13;
const SPACE = 32;
const BANG = 33;
const DQUOTE = 34;
const HASH = 35;
const PERCENT = 37;
const AMP = 38;
const SQUOTE = 39;
const STAR = 42;
const COMMA = 44;
const DASH = 45;
const DOT = 46;
const COLON = 58;
const GT = 62;
const QMARK = 63;
const LBRACKET = 91;
const BACKSLASH = 92;
const RBRACKET = 93;
const LBRACE = 123;
const PIPE = 124;
const RBRACE = 125;

/** Where the JSON text first nests deeper than `limit`, or null. */
export function jsonTooDeep(text: string, limit: number): TextPosition | null {
  let depth = 0;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === DQUOTE) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) i++;
        else if (d === DQUOTE || d === LF) break;
      }
    } else if (c === LBRACKET || c === LBRACE) {
      if (++depth > limit) return { line, column: i - lineStart + 1 };
    } else if (c === RBRACKET || c === RBRACE) {
      depth--;
    } else if (c === LF) {
      line++;
      lineStart = i + 1;
    }
  }
  return null;
}

/** Where the YAML text (by the estimate above) first nests deeper than `limit`, or null. */
export function yamlTooDeep(text: string, limit: number): TextPosition | null {
  return new YamlDepthScanner(text, limit).run();
}

const SEQ = 1;
const MAP = 2;
const NONE = -2;

const isBlank = (c: number) => c === SPACE || c === TAB;
const isFlowIndicator = (c: number) => c === COMMA || c === LBRACKET || c === RBRACKET || c === LBRACE || c === RBRACE;

class YamlDepthScanner {
  readonly #t: string;
  readonly #limit: number;
  /** Open block collections: column and kind. */
  readonly #cols: number[] = [];
  readonly #kinds: number[] = [];
  #flow = 0;
  /** Open quoted scalar: its quote character, or 0. */
  #quote = 0;
  /** Inside a block scalar: lines indented more than this column are its content. */
  #blockScalar = NONE;
  /** A node may start here (quotes and brackets only open a scalar / collection at a node start). */
  #expect = true;
  /** The last flow token was quoted or a collection: an adjacent `:` is a value indicator. */
  #jsonLike = false;
  /** Column of the last node started on this line; a `: ` after it makes it a mapping key. */
  #pending = -1;
  #line = 0;
  #lineStart = 0;
  #exceeded: TextPosition | null = null;

  constructor(text: string, limit: number) {
    this.#t = text;
    this.#limit = limit;
  }

  run(): TextPosition | null {
    const t = this.#t;
    let s = t.charCodeAt(0) === 0xfeff ? 1 : 0;
    while (this.#exceeded === null) {
      let e = s;
      while (e < t.length && t.charCodeAt(e) !== LF && t.charCodeAt(e) !== CR) e++;
      this.#line++;
      this.#lineStart = s;
      this.#scanLine(s, e);
      if (e >= t.length) break;
      s = t.charCodeAt(e) === CR && t.charCodeAt(e + 1) === LF ? e + 2 : e + 1;
    }
    return this.#exceeded;
  }

  #scanLine(s: number, e: number): void {
    const t = this.#t;
    if (this.#isDocumentMarker(s, e)) {
      this.#cols.length = 0;
      this.#kinds.length = 0;
      this.#flow = 0;
      this.#quote = 0;
      this.#blockScalar = NONE;
      if (t.charCodeAt(s) === DOT) return;
      this.#scanBlockLine(s + 3, s, e, true);
      return;
    }
    let p = s;
    if (this.#quote !== 0) {
      p = this.#scanQuoted(p, e);
      if (this.#quote !== 0) return;
      if (this.#flow === 0) this.#expect = false;
    }
    if (this.#flow > 0) {
      p = this.#scanFlow(p, e);
      if (this.#flow > 0) return;
      this.#scanBlock(p, e);
      return;
    }
    if (p > s) {
      this.#scanBlock(p, e);
      return;
    }
    this.#scanBlockLine(s, s, e, false);
  }

  #isDocumentMarker(s: number, e: number): boolean {
    const t = this.#t;
    const c = t.charCodeAt(s);
    if ((c !== DASH && c !== DOT) || t.charCodeAt(s + 1) !== c || t.charCodeAt(s + 2) !== c) return false;
    return s + 3 >= e || isBlank(t.charCodeAt(s + 3));
  }

  /** A line (or the rest of a `---` line) in block context, from `from`; `s` is the line start. */
  #scanBlockLine(from: number, s: number, e: number, afterMarker: boolean): void {
    const t = this.#t;
    let indent = from;
    while (indent < e && t.charCodeAt(indent) === SPACE) indent++;
    let q = indent;
    while (q < e && isBlank(t.charCodeAt(q))) q++;
    if (this.#blockScalar !== NONE) {
      if (q >= e || indent - s > this.#blockScalar) return;
      this.#blockScalar = NONE;
    }
    if (q >= e || t.charCodeAt(q) === HASH) return;
    if (!afterMarker && indent === s && t.charCodeAt(s) === PERCENT && this.#cols.length === 0) return;
    this.#closeTo(indent - s, this.#isIndicator(indent, e, DASH) ? SEQ : MAP);
    this.#expect = true;
    this.#scanBlock(indent, e);
  }

  /** A line's first node at `col`: close the block collections it is not inside. */
  #closeTo(col: number, kind: number): void {
    const cols = this.#cols;
    const kinds = this.#kinds;
    while (cols.length > 0 && (cols.at(-1) as number) > col) {
      cols.pop();
      kinds.pop();
    }
    // A mapping key at the column of a sequence (a mapping's value may share its column) closes it.
    if (kind === MAP && cols.at(-1) === col && kinds.at(-1) === SEQ) {
      cols.pop();
      kinds.pop();
    }
  }

  /** A block collection of `kind` has an entry at `col`: the open one, or a new nested one. */
  #open(col: number, kind: number): void {
    if (this.#cols.at(-1) === col && this.#kinds.at(-1) === kind) return;
    this.#push(col, kind);
  }

  #push(col: number, kind: number): void {
    this.#cols.push(col);
    this.#kinds.push(kind);
    this.#check(this.#lineStart + col);
  }

  #check(at: number): void {
    if (this.#exceeded === null && this.#cols.length + this.#flow > this.#limit) {
      this.#exceeded = { line: this.#line, column: at - this.#lineStart + 1 };
    }
  }

  #isIndicator(p: number, e: number, c: number): boolean {
    return this.#t.charCodeAt(p) === c && (p + 1 >= e || isBlank(this.#t.charCodeAt(p + 1)));
  }

  /** Block content from `from` to the line end `e`. */
  #scanBlock(from: number, e: number): void {
    const t = this.#t;
    this.#pending = -1;
    let p = from;
    while (p < e && this.#exceeded === null) {
      const c = t.charCodeAt(p);
      if (isBlank(c)) {
        p++;
        continue;
      }
      if (c === HASH && (p === this.#lineStart || isBlank(t.charCodeAt(p - 1)))) return;
      if (!this.#expect) {
        if (c === COLON && (p + 1 >= e || isBlank(t.charCodeAt(p + 1)))) {
          if (this.#pending >= 0) this.#open(this.#pending, MAP);
          this.#pending = -1;
          this.#expect = true;
        }
        p++;
        continue;
      }
      if ((c === DASH || c === QMARK || c === COLON) && (p + 1 >= e || isBlank(t.charCodeAt(p + 1)))) {
        this.#open(p - this.#lineStart, c === DASH ? SEQ : MAP);
        p++;
        continue;
      }
      if (c === AMP || c === BANG) {
        while (p < e && !isBlank(t.charCodeAt(p))) p++;
        continue;
      }
      if (c === PIPE || c === GT) {
        this.#blockScalar = this.#cols.length > 0 ? (this.#cols.at(-1) as number) : -1;
        return;
      }
      // A node starts here: scalar, quoted scalar, alias or flow collection.
      this.#pending = p - this.#lineStart;
      this.#expect = false;
      if (c === DQUOTE || c === SQUOTE) {
        this.#quote = c;
        p = this.#scanQuoted(p + 1, e);
        if (this.#quote !== 0) return;
      } else if (c === LBRACKET || c === LBRACE) {
        this.#flow = 1;
        this.#check(p);
        this.#expect = true;
        p = this.#scanFlow(p + 1, e);
        if (this.#flow > 0) return;
        this.#expect = false;
      } else if (c === STAR) {
        while (p < e && !isBlank(t.charCodeAt(p))) p++;
      } else {
        p++;
      }
    }
  }

  /** Inside a quoted scalar from `p`: returns where it closed, or `e` (still open). */
  #scanQuoted(from: number, e: number): number {
    const t = this.#t;
    let p = from;
    if (this.#quote === DQUOTE) {
      while (p < e) {
        const c = t.charCodeAt(p);
        if (c === BACKSLASH) p += 2;
        else if (c === DQUOTE) {
          this.#quote = 0;
          return p + 1;
        } else p++;
      }
      return e;
    }
    while (p < e) {
      if (t.charCodeAt(p) === SQUOTE) {
        if (t.charCodeAt(p + 1) === SQUOTE && p + 1 < e) {
          p += 2;
          continue;
        }
        this.#quote = 0;
        return p + 1;
      }
      p++;
    }
    return e;
  }

  /** Inside a flow collection from `p`: returns where the outermost one closed, or `e`. */
  #scanFlow(from: number, e: number): number {
    const t = this.#t;
    let p = from;
    while (p < e && this.#exceeded === null) {
      const c = t.charCodeAt(p);
      if (isBlank(c)) {
        p++;
        continue;
      }
      if (c === HASH && (p === this.#lineStart || isBlank(t.charCodeAt(p - 1)))) return e;
      if (this.#expect && (c === DQUOTE || c === SQUOTE)) {
        this.#quote = c;
        p = this.#scanQuoted(p + 1, e);
        if (this.#quote !== 0) return e;
        this.#expect = false;
        this.#jsonLike = true;
        continue;
      }
      p++;
      if (c === LBRACKET || c === LBRACE) {
        this.#flow++;
        this.#check(p - 1);
        this.#expect = true;
        this.#jsonLike = false;
      } else if (c === RBRACKET || c === RBRACE) {
        this.#flow--;
        this.#expect = false;
        this.#jsonLike = true;
        if (this.#flow === 0) return p;
      } else if (c === COMMA) {
        this.#expect = true;
        this.#jsonLike = false;
      } else if (c === COLON && (this.#jsonLike || p >= e || isBlank(t.charCodeAt(p)) || isFlowIndicator(t.charCodeAt(p)))) {
        this.#expect = true;
        this.#jsonLike = false;
      } else if (c === QMARK && (p >= e || isBlank(t.charCodeAt(p)))) {
        this.#expect = true;
      } else if (this.#expect && (c === AMP || c === BANG)) {
        while (p < e && !isBlank(t.charCodeAt(p)) && !isFlowIndicator(t.charCodeAt(p))) p++;
      } else {
        this.#expect = false;
        this.#jsonLike = false;
      }
    }
    return p;
  }
}
