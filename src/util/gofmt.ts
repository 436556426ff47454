// Go fmt / strconv / encoding/json behaviour needed to print exactly what the docker CLI prints.
// JS values stand in for Go values: integral numbers act as int, other numbers as float64,
// arrays as []interface{}, Map and plain objects as map[string]interface{}, null/undefined as nil.

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

/**
 * Marks a plain object as a Go struct (the symbol's value is its type name, e.g. "types.Version"):
 * fmt prints its field values in order ({a b}) and templates refuse fields it does not have.
 */
export const GO_STRUCT: unique symbol = Symbol.for('shoal.goStruct');

/** The Go type name of an object marked with GO_STRUCT. */
export function goStructType(v: unknown): string | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  const t = (v as { [GO_STRUCT]?: unknown })[GO_STRUCT];
  return typeof t === 'string' ? t : undefined;
}

/** Go's reflect type name for a JS value, as seen in fmt and template error messages. */
export function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  const struct = goStructType(v);
  if (struct !== undefined) return struct;
  switch (typeof v) {
    case 'string': return 'string';
    case 'boolean': return 'bool';
    case 'number': return Number.isInteger(v) ? 'int' : 'float64';
    case 'bigint': return 'int64';
    case 'function': return 'func()';
  }
  if (Array.isArray(v)) return '[]interface {}';
  if (v instanceof Date) return 'time.Time';
  return 'map[string]interface {}';
}

/** Sorted [key, value] pairs of a map-like value (Go sorts map keys when printing and ranging). */
export function mapEntries(v: object): [string, unknown][] {
  const entries: [string, unknown][] = v instanceof Map
    ? [...v.entries()].map(([k, x]) => [String(k), x])
    : Object.entries(v).filter(([, x]) => x !== undefined);
  return entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

// A non-plain object with its own toString (or an Error) plays the part of a Go fmt.Stringer / error.
function stringerOf(v: object): string | undefined {
  if (v instanceof Error) return v.message;
  if (v instanceof Date) return goTimeString(v);
  if (Array.isArray(v) || v instanceof Map || isPlainObject(v)) return undefined;
  const ts = (v as { toString?: unknown }).toString;
  return typeof ts === 'function' && ts !== Object.prototype.toString ? String(ts.call(v)) : undefined;
}

function pad2(n: number, w = 2): string { return String(n).padStart(w, '0'); }

/** time.Time.String() of a Date, in UTC: "2006-01-02 15:04:05.999999999 +0000 UTC". */
export function goTimeString(d: Date): string {
  const frac = d.getUTCMilliseconds() ? '.' + pad2(d.getUTCMilliseconds(), 3).replace(/0+$/, '') : '';
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}${frac} +0000 UTC`;
}

// ---------------------------------------------------------------------------------------------
// strconv.FormatFloat

// Exact decimal expansion of a positive finite double: value = 0.<digits> * 10^dp.
function exactDigits(x: number): [string, number] {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x);
  const hi = dv.getUint32(0), lo = dv.getUint32(4);
  let e = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (e === 0) e = 1; else m |= 1n << 52n;
  e -= 1075;
  let digits: string, dp: number;
  if (e >= 0) { digits = (m << BigInt(e)).toString(); dp = digits.length; }
  else { digits = (m * 5n ** BigInt(-e)).toString(); dp = digits.length + e; }
  return [digits.replace(/0+$/, ''), dp];
}

// Shortest digits that round-trip (what Go uses for precision -1); JS computes the same digits.
function shortestDigits(x: number): [string, number] {
  const [mant, exp] = x.toExponential().split('e');
  return [mant.replace('.', '').replace(/0+$/, ''), Number(exp) + 1];
}

// Round to nd digits; exact ties go to even, as strconv's decimal rounding does.
function roundDigits(d: string, dp: number, nd: number): [string, number] {
  if (nd < 0 || nd >= d.length) return [d, dp];
  const up = d[nd] === '5' && nd + 1 === d.length ? nd > 0 && Number(d[nd - 1]) % 2 === 1 : d[nd] >= '5';
  if (!up) return [d.slice(0, nd).replace(/0+$/, ''), dp];
  let i = nd - 1;
  while (i >= 0 && d[i] === '9') i--;
  if (i < 0) return ['1', dp + 1];
  return [d.slice(0, i) + String(Number(d[i]) + 1), dp];
}

function fmtE(d: string, dp: number, prec: number, ch: string): string {
  let s = d[0] ?? '0';
  if (prec > 0) s += '.' + d.slice(1, 1 + prec).padEnd(prec, '0');
  const exp = d.length === 0 ? 0 : dp - 1;
  return s + ch + (exp < 0 ? '-' : '+') + pad2(Math.abs(exp));
}

function fmtF(d: string, dp: number, prec: number): string {
  let s = dp > 0 ? d.slice(0, dp).padEnd(dp, '0') : '0';
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) { const j = dp + i - 1; s += j >= 0 && j < d.length ? d[j] : '0'; }
  }
  return s;
}

/** strconv.FormatFloat(x, verb, prec, 64); prec -1 = shortest representation. */
export function formatFloat(x: number, verb: 'e' | 'E' | 'f' | 'F' | 'g' | 'G', prec = -1): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x), v = verb.toLowerCase(), shortest = prec < 0;
  if (v === 'g' && prec === 0) prec = 1;
  let d = '', dp = 0;
  if (a !== 0) {
    if (shortest) [d, dp] = shortestDigits(a);
    else {
      [d, dp] = exactDigits(a);
      [d, dp] = roundDigits(d, dp, v === 'e' ? prec + 1 : v === 'f' ? dp + prec : prec);
    }
  }
  const ech = verb === 'E' || verb === 'G' ? 'E' : 'e';
  let body: string;
  if (v === 'e') body = fmtE(d, dp, shortest ? Math.max(d.length - 1, 0) : prec, ech);
  else if (v === 'f') body = fmtF(d, dp, shortest ? Math.max(d.length - dp, 0) : prec);
  else {
    let p = shortest ? d.length : prec;
    let eprec = p > d.length && d.length >= dp ? d.length : p;
    if (shortest) eprec = 6;
    const exp = dp - 1;
    if (exp < -4 || exp >= eprec) {
      if (p > d.length) p = d.length;
      body = fmtE(d, dp, p - 1, ech);
    } else {
      if (p > dp) p = d.length;
      body = fmtF(d, dp, Math.max(p - dp, 0));
    }
  }
  return (neg ? '-' : '') + body;
}

// ---------------------------------------------------------------------------------------------
// strconv.Quote

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** strconv.Quote (asciiOnly = QuoteToASCII); quote may be '\'' for rune literals. */
export function goQuote(s: string, asciiOnly = false, quote = '"'): string {
  let out = quote;
  for (const ch of s) {
    let r = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') { out += '\\' + ch; continue; }
    if (PRINTABLE.test(ch) && (!asciiOnly || r < 0x80)) { out += ch; continue; }
    const esc = ({ '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' } as Record<string, string>)[ch];
    if (esc) out += esc;
    else if (r < 0x20 || r === 0x7f) out += '\\x' + r.toString(16).padStart(2, '0');
    else {
      if (r >= 0xd800 && r <= 0xdfff) r = 0xfffd; // lone surrogate: Go would see invalid UTF-8
      out += r < 0x10000 ? '\\u' + r.toString(16).padStart(4, '0') : '\\U' + r.toString(16).padStart(8, '0');
    }
  }
  return out + quote;
}

// ---------------------------------------------------------------------------------------------
// fmt.Sprintf / Sprint / Sprintln

interface Flags { plus: boolean; minus: boolean; sharp: boolean; space: boolean; zero: boolean; wid?: number; prec?: number }
const NOFLAGS: Flags = { plus: false, minus: false, sharp: false, space: false, zero: false };

function runeLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function pad(s: string, f: Flags, zeroOK = true): string {
  const n = (f.wid ?? 0) - runeLen(s);
  if (n <= 0) return s;
  if (f.minus) return s + ' '.repeat(n);
  return (f.zero && zeroOK ? '0' : ' ').repeat(n) + s;
}

function fmtInteger(n: number | bigint, verb: string, f: Flags): string {
  const neg = n < 0;
  const abs = typeof n === 'bigint' ? (neg ? -n : n) : Math.abs(n);
  if (verb === 'c') return pad(String.fromCodePoint(Number(abs)), f);
  if (verb === 'q') return pad(goQuote(String.fromCodePoint(Number(abs)), f.plus, '\''), f);
  if (verb === 'U') {
    let s = 'U+' + abs.toString(16).toUpperCase().padStart(f.prec ?? 4, '0');
    if (f.sharp) s += ` '${String.fromCodePoint(Number(abs))}'`;
    return pad(s, f, false);
  }
  const base = verb === 'x' || verb === 'X' ? 16 : verb === 'o' || verb === 'O' ? 8 : verb === 'b' ? 2 : 10;
  let digits = typeof abs === 'number' && !Number.isSafeInteger(abs) ? BigInt(abs).toString(base) : abs.toString(base);
  if (verb === 'X') digits = digits.toUpperCase();
  const sign = neg ? '-' : f.plus ? '+' : f.space ? ' ' : '';
  if (f.prec !== undefined) digits = f.prec === 0 && digits === '0' ? '' : digits.padStart(f.prec, '0');
  else if (f.zero && !f.minus && f.wid !== undefined) digits = digits.padStart(f.wid - sign.length, '0');
  let prefix = '';
  if (verb === 'O') prefix = '0o';
  else if (f.sharp) prefix = base === 16 ? (verb === 'X' ? '0X' : '0x') : base === 2 ? '0b' : base === 8 && digits[0] !== '0' ? '0' : '';
  return pad(sign + prefix + digits, f, false);
}

function fmtFloatVerb(x: number, verb: string, f: Flags): string {
  const v = verb === 'v' ? 'g' : verb;
  const prec = f.prec ?? ('eEfF'.includes(v) ? 6 : -1);
  let s = formatFloat(x, v as 'e', prec);
  if (s === 'NaN' || s.endsWith('Inf')) {
    // fmt keeps the sign of +Inf; NaN only gets one when asked; neither is zero padded.
    if (s === 'NaN') s = f.plus ? '+NaN' : f.space ? ' NaN' : 'NaN';
    else if (s === '+Inf' && f.space && !f.plus) s = ' Inf';
    return pad(s, f, false);
  }
  if (s[0] !== '-' && (f.plus || f.space)) s = (f.plus ? '+' : ' ') + s;
  if (f.zero && !f.minus && f.wid !== undefined && /^[-+ ]/.test(s) && s.length < f.wid) {
    return s[0] + '0'.repeat(f.wid - s.length) + s.slice(1);
  }
  return pad(s, f);
}

function fmtString(s: string, verb: string, f: Flags): string | undefined {
  switch (verb) {
    case 'v': case 's':
      return pad(f.prec !== undefined ? [...s].slice(0, f.prec).join('') : s, f);
    case 'q':
      if (f.sharp && !/[`\x00-\x08\x0a-\x1f\x7f\ufeff]/.test(s)) return pad('`' + s + '`', f);
      return pad(goQuote(f.prec !== undefined ? [...s].slice(0, f.prec).join('') : s, f.plus), f);
    case 'x': case 'X': {
      let bytes = [...Buffer.from(s, 'utf8')];
      if (f.prec !== undefined) bytes = bytes.slice(0, f.prec);
      const pre = f.sharp ? '0x' : '';
      const hex = bytes.map((b) => b.toString(16).padStart(2, '0'));
      const out = f.space ? hex.map((h) => pre + h).join(' ') : (hex.length ? pre : '') + hex.join('');
      return pad(verb === 'X' ? out.toUpperCase() : out, f);
    }
  }
  return undefined;
}

// Format one operand for a verb; undefined means "bad verb for this type".
function fmtArg(arg: unknown, verb: string, f: Flags, depth: number): string | undefined {
  if (arg === null || arg === undefined) return depth > 0 || verb === 'v' ? pad('<nil>', f) : undefined;
  switch (typeof arg) {
    case 'boolean': return verb === 't' || verb === 'v' ? pad(String(arg), f) : undefined;
    case 'bigint': return 'vdbcoOqxXU'.includes(verb) ? fmtInteger(arg, verb === 'v' ? 'd' : verb, f) : undefined;
    case 'number':
      if (Number.isInteger(arg) && Math.abs(arg) < 2 ** 63) {
        if ('vdbcoOqxXU'.includes(verb)) return fmtInteger(arg, verb === 'v' ? 'd' : verb, f);
        // JS can't tell 3 from 3.0, so float verbs are accepted for integral numbers too.
        return 'eEfFgG'.includes(verb) ? fmtFloatVerb(arg, verb, f) : undefined;
      }
      return 'veEfFgG'.includes(verb) ? fmtFloatVerb(arg, verb, f) : undefined;
    case 'string': return fmtString(arg, verb, f);
    case 'function': return pad('0x0', f);
    case 'symbol': return pad(arg.toString(), f);
  }
  const o = arg as object;
  const str = stringerOf(o);
  if (str !== undefined) return 'vsqxX'.includes(verb) ? fmtString(str, verb === 'v' ? 's' : verb, f) : undefined;
  const sub = (x: unknown) => fmtArg(x, verb, f, depth + 1) ?? badVerb(x, verb, f);
  if (Array.isArray(o)) return '[' + o.map(sub).join(' ') + ']';
  if (goStructType(o) !== undefined) return '{' + Object.values(o).map(sub).join(' ') + '}';
  return 'map[' + mapEntries(o).map(([k, x]) => sub(k) + ':' + sub(x)).join(' ') + ']';
}

function badVerb(arg: unknown, verb: string, f: Flags): string {
  if (arg === null || arg === undefined) return `%!${verb}(<nil>)`;
  return `%!${verb}(${goTypeName(arg)}=${fmtArg(arg, 'v', f, 0)})`;
}

/** %v formatting of a single value, as fmt.Sprint(v) prints it. */
export function formatValue(v: unknown): string {
  return fmtArg(v, 'v', NOFLAGS, 0)!;
}

/** fmt.Sprintf for the verbs docker users reach for: %v %s %d %q %f %g %e %x %X %t %c %b %o %U %T %%. */
export function sprintf(format: string, ...args: unknown[]): string {
  let out = '', argNum = 0, i = 0;
  while (i < format.length) {
    const pct = format.indexOf('%', i);
    if (pct < 0) { out += format.slice(i); break; }
    out += format.slice(i, pct);
    i = pct + 1;
    const f: Flags = { ...NOFLAGS };
    for (; i < format.length; i++) {
      const c = format[i];
      if (c === '+') f.plus = true;
      else if (c === '-') { f.minus = true; f.zero = false; }
      else if (c === '#') f.sharp = true;
      else if (c === ' ') f.space = true;
      else if (c === '0') f.zero = !f.minus;
      else break;
    }
    const num = (): number | undefined => {
      if (format[i] === '*') {
        i++;
        const a = args[argNum++];
        return typeof a === 'number' && Number.isInteger(a) ? a : undefined;
      }
      const m = /^\d+/.exec(format.slice(i));
      if (!m) return undefined;
      i += m[0].length;
      return Number(m[0]);
    };
    f.wid = num();
    if (f.wid !== undefined && f.wid < 0) { f.minus = true; f.zero = false; f.wid = -f.wid; }
    if (format[i] === '.') { i++; f.prec = num() ?? 0; if (f.prec < 0) f.prec = undefined; }
    if (i >= format.length) { out += '%!(NOVERB)'; break; }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') { out += '%'; continue; }
    if (argNum >= args.length) { out += `%!${verb}(MISSING)`; continue; }
    const arg = args[argNum++];
    if (verb === 'T') { out += pad(goTypeName(arg), f); continue; }
    out += fmtArg(arg, verb, f, 0) ?? badVerb(arg, verb, f);
  }
  if (argNum < args.length) {
    out += '%!(EXTRA ' + args.slice(argNum).map((a) => (a === null || a === undefined ? '<nil>' : `${goTypeName(a)}=${formatValue(a)}`)).join(', ') + ')';
  }
  return out;
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(...args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(a);
  });
  return out;
}

/** fmt.Sprintln: always spaces between operands, trailing newline. */
export function sprintln(...args: unknown[]): string {
  return args.map(formatValue).join(' ') + '\n';
}

// ---------------------------------------------------------------------------------------------
// encoding/json with SetEscapeHTML(false), as docker's `json` template function uses it.

/** time.Time's JSON form (RFC3339Nano, UTC). */
export function goRFC3339Nano(d: Date): string {
  return d.toISOString().replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac ? `.${frac}Z` : 'Z'));
}

/** Compact JSON like Go's encoder: no HTML escaping, U+2028/2029 escaped, Map keys sorted; NaN/Inf throw. */
export function goJSON(v: unknown): string {
  if (v === null || v === undefined || typeof v === 'function' || typeof v === 'symbol') return 'null';
  switch (typeof v) {
    case 'boolean': return String(v);
    case 'bigint': return v.toString();
    case 'number':
      if (!Number.isFinite(v)) throw new Error(`json: unsupported value: ${formatFloat(v, 'g')}`);
      return JSON.stringify(v);
    case 'string': return JSON.stringify(v).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  }
  if (v instanceof Date) return `"${goRFC3339Nano(v)}"`;
  if (Array.isArray(v)) return '[' + v.map(goJSON).join(',') + ']';
  const toJSON = (v as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return goJSON(toJSON.call(v));
  const entries = v instanceof Map ? mapEntries(v)
    : Object.entries(v as object).filter(([, x]) => x !== undefined && typeof x !== 'function');
  return '{' + entries.map(([k, x]) => goJSON(k) + ':' + goJSON(x)).join(',') + '}';
}
