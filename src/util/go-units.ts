// Ports of github.com/docker/go-units (sizes, human durations) and Go's time.ParseDuration.
import { formatFloat, goQuote } from './gofmt.js';

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

function sizeAndUnit(size: number, base: number, units: string[]): [number, string] {
  let i = 0;
  while (size >= base && i < units.length - 1) { size /= base; i++; }
  return [size, units[i]];
}

/** units.HumanSizeWithPrecision(size, precision): decimal units, `%.*g` (docker prints sizes with 3). */
export function humanSize(bytes: number, precision = 3): string {
  const [size, unit] = sizeAndUnit(bytes, 1000, DECIMAL_UNITS);
  return formatFloat(size, 'g', precision) + unit;
}

/** units.BytesSize: binary units, `%.4g` ("1.5MiB"). */
export function bytesSize(bytes: number): string {
  const [size, unit] = sizeAndUnit(bytes, 1024, BINARY_UNITS);
  return formatFloat(size, 'g', 4) + unit;
}

/** units.HumanDuration of a duration in milliseconds ("Less than a second" ... "3 years"). */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

// strconv.ParseFloat(s, 64), including its error messages.
function parseFloat64(s: string): number {
  const err = (why: string) => new Error(`strconv.ParseFloat: parsing ${goQuote(s)}: ${why}`);
  const sp = /^([+-]?)(inf|infinity)$/i.exec(s);
  if (sp) return sp[1] === '-' ? -Infinity : Infinity;
  if (/^nan$/i.test(s)) return NaN;
  const d = '\\d(?:_?\\d)*';
  let v: number;
  if (new RegExp(`^[+-]?(?:${d}(?:\\.(?:${d})?)?|\\.${d})(?:[eE][+-]?${d})?$`).test(s)) v = Number(s.replace(/_/g, ''));
  else {
    const h = /^([+-]?)0[xX]_?([0-9a-fA-F_]*)(?:\.([0-9a-fA-F_]*))?[pP]([+-]?\d[\d_]*)$/.exec(s);
    const ip = h?.[2].replace(/_/g, '') ?? '', fp = h?.[3]?.replace(/_/g, '') ?? '';
    if (!h || !(ip + fp)) throw err('invalid syntax');
    v = (h[1] === '-' ? -1 : 1) * parseInt(ip + fp, 16) * 2 ** (Number(h[4].replace(/_/g, '')) - 4 * fp.length);
  }
  if (!Number.isFinite(v)) throw err('value out of range');
  return v;
}

const KB = 1000, KIB = 1024;
const DECIMAL_MULT: Record<string, number> = { k: KB, m: KB ** 2, g: KB ** 3, t: KB ** 4, p: KB ** 5 };
const BINARY_MULT: Record<string, number> = { k: KIB, m: KIB ** 2, g: KIB ** 3, t: KIB ** 4, p: KIB ** 5 };

// go-units parseSize: "<number>[ ]<suffix>", suffix k/m/g/t/p with optional "b" or "ib", or plain "b".
function parseSize(s: string, mults: Record<string, number>): number {
  let num: string, sfx: string;
  const space = s.indexOf(' ');
  if (space >= 0) {
    num = s.slice(0, space);
    sfx = s.slice(space + 1);
  } else {
    let sep = -1;
    for (let i = s.length - 1; i >= 0; i--) if ('0123456789.'.includes(s[i])) { sep = i; break; }
    if (sep < 0) throw new Error(`invalid size: '${s}'`);
    num = s.slice(0, sep + 1);
    sfx = s.slice(sep + 1);
  }
  let size = parseFloat64(num);
  if (size < 0) throw new Error(`invalid size: '${s}'`);
  const int = (x: number) => Math.trunc(x) || 0; // Go's int64(); also turns -0 into 0
  if (!sfx) return int(size);
  const bad = () => new Error(`invalid suffix: '${sfx}'`);
  if (Buffer.byteLength(sfx) > 3) throw bad();
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') {
    if (sfx.length > 1) throw bad();
    return int(size);
  }
  const mul = mults[sfx[0]];
  if (!mul) throw bad();
  size *= mul;
  if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) throw bad();
  return int(size);
}

/**
 * units.RAMInBytes (`-m 64m`, `--shm-size 1g`): "64m", "512k", "1.5g", "1 GiB", "100" (bytes).
 * Suffixes are binary and case-insensitive, with an optional "b" / "ib". Throws go-units' errors.
 */
export function parseBytes(s: string): number {
  return parseSize(s, BINARY_MULT);
}

/** units.FromHumanSize: like parseBytes but with decimal multipliers ("32kB" = 32000). */
export function fromHumanSize(s: string): number {
  return parseSize(s, DECIMAL_MULT);
}

const DURATION_UNITS: Record<string, bigint> = {
  ns: 1n, us: 1000n, 'µs': 1000n, 'μs': 1000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n,
};
const MAX_NS = 1n << 63n;

// The quoting time.ParseDuration uses in its errors: non-ASCII bytes become \xNN.
function durQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    if (ch < ' ' || ch.codePointAt(0)! >= 0x80) out += [...Buffer.from(ch)].map((b) => '\\x' + b.toString(16).padStart(2, '0')).join('');
    else out += ch === '"' || ch === '\\' ? '\\' + ch : ch;
  }
  return out + '"';
}

/** time.ParseDuration ("1h30m", "500ms", "1.5s", "-2m"), returned in milliseconds. */
export function parseDuration(input: string): number {
  const invalid = () => new Error(`time: invalid duration ${durQuote(input)}`);
  let s = input, neg = false;
  if (s[0] === '-' || s[0] === '+') { neg = s[0] === '-'; s = s.slice(1); }
  if (s === '0') return 0;
  if (s === '') throw invalid();
  let total = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || (s[0] >= '0' && s[0] <= '9'))) throw invalid();
    const int = /^\d*/.exec(s)![0];
    s = s.slice(int.length);
    let v = 0n;
    for (const c of int) {
      if (v > MAX_NS / 10n) throw invalid(); // overflow
      v = v * 10n + BigInt(c);
      if (v > MAX_NS) throw invalid();
    }
    let frac = 0n, scale = 1, post = false;
    if (s[0] === '.') {
      const fd = /^\d*/.exec(s.slice(1))![0];
      s = s.slice(1 + fd.length);
      post = fd.length > 0;
      let overflow = false;
      for (const c of fd) {
        if (overflow) continue;
        if (frac > (MAX_NS - 1n) / 10n) { overflow = true; continue; } // extra digits are ignored
        frac = frac * 10n + BigInt(c);
        scale *= 10;
      }
    }
    if (int.length === 0 && !post) throw invalid();
    const u = /^[^\d.]*/.exec(s)![0];
    if (!u) throw new Error(`time: missing unit in duration ${durQuote(input)}`);
    s = s.slice(u.length);
    const unit = DURATION_UNITS[u];
    if (unit === undefined) throw new Error(`time: unknown unit ${durQuote(u)} in duration ${durQuote(input)}`);
    if (v > MAX_NS / unit) throw invalid();
    v *= unit;
    if (frac > 0n) {
      // Go computes the fractional part in float64, like this.
      v += BigInt(Math.trunc(Number(frac) * (Number(unit) / scale)));
      if (v > MAX_NS) throw invalid();
    }
    total += v;
    if (total > MAX_NS) throw invalid();
  }
  if (!neg && total > MAX_NS - 1n) throw invalid();
  return (neg ? -Number(total) : Number(total)) / 1e6;
}

/** Go's time.Duration.String for nanoseconds: "0s", "500ms", "5s", "1m30.5s", "1h0m0s". */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let n = Math.abs(Math.round(ns));
  const frac = (v: number, div: number) => { const s = (v / div).toFixed(9).replace(/\.?0+$/, ''); return s; };
  let out: string;
  if (n < 1e3) out = `${n}ns`;
  else if (n < 1e6) out = `${frac(n, 1e3)}µs`;
  else if (n < 1e9) out = `${frac(n, 1e6)}ms`;
  else {
    const h = Math.floor(n / 3600e9); n -= h * 3600e9;
    const m = Math.floor(n / 60e9); n -= m * 60e9;
    const s = `${frac(n, 1e9)}s`;
    out = h ? `${h}h${m}m${s}` : m ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}
