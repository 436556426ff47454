// docker's table output: its text/tabwriter fork and the formatter.Context semantics of --format.
import { isPlainObject } from '../../util/gofmt.js';
import { parseTemplate, type Template } from './go-template.js';

// Display width as github.com/mattn/go-runewidth (used by docker's tabwriter fork) measures it:
// East Asian wide/fullwidth characters and emoji count 2, combining marks and controls 0.
const WIDE = /[\u1100-\u115f\u231a\u231b\u2329\u232a\u23e9-\u23ec\u23f0\u23f3\u25fd\u25fe\u2614\u2615\u2648-\u2653\u267f\u2693\u26a1\u26aa\u26ab\u26bd\u26be\u26c4\u26c5\u26ce\u26d4\u26ea\u26f2\u26f3\u26f5\u26fa\u26fd\u2705\u270a\u270b\u2728\u274c\u274e\u2753-\u2755\u2757\u2795-\u2797\u27b0\u27bf\u2b1b\u2b1c\u2b50\u2b55\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\ua960-\ua97f\uac00-\ud7a3\uf900-\ufaff\ufe10-\ufe19\ufe30-\ufe6f\uff00-\uff60\uffe0-\uffe6\u{16fe0}-\u{18aff}\u{1b000}-\u{1b2ff}\u{1f004}\u{1f0cf}\u{1f18e}\u{1f191}-\u{1f19a}\u{1f200}-\u{1f251}\u{1f300}-\u{1f64f}\u{1f680}-\u{1f6ff}\u{1f7e0}-\u{1f7eb}\u{1f90c}-\u{1f9ff}\u{1fa70}-\u{1faff}\u{20000}-\u{3fffd}]/u;
const ZERO = /[\p{Mn}\p{Me}\p{Cf}\p{Cc}]/u;
// Made on first use: creating a Segmenter loads ICU data, which every CLI start would pay for.
let graphemes: Intl.Segmenter | undefined;

export function displayWidth(s: string): number {
  if (/^[\x20-\x7e]*$/.test(s)) return s.length;
  let w = 0;
  for (const { segment } of (graphemes ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' })).segment(s)) {
    // A grapheme cluster takes the width of its first rune that has any width.
    for (const ch of segment) {
      if (ZERO.test(ch)) continue;
      w += WIDE.test(ch) ? 2 : 1;
      break;
    }
  }
  return w;
}

// Elastic tabstops as text/tabwriter computes them: a column is a run of consecutive lines that
// have a tab-terminated cell at that index; its width is max(minwidth, widest cell + padding).
// The last cell of a line is not tab-terminated, belongs to no column and is never padded.
function layout(lines: string[][], minwidth: number, padding: number, partialLast: boolean): string {
  const out: string[] = [];
  const widths: number[] = [];
  const cellw = lines.map((l) => l.map(displayWidth));
  const writeLines = (l0: number, l1: number) => {
    for (let i = l0; i < l1; i++) {
      lines[i].forEach((c, j) => out.push(j < widths.length ? c + ' '.repeat(widths[j] - cellw[i][j]) : c));
      if (!(partialLast && i === lines.length - 1)) out.push('\n');
    }
  };
  const format = (l0: number, l1: number) => {
    const column = widths.length;
    for (let t = l0; t < l1; t++) {
      if (column >= lines[t].length - 1) continue;
      writeLines(l0, t);
      l0 = t;
      let width = minwidth;
      for (; t < l1 && column < lines[t].length - 1; t++) width = Math.max(width, cellw[t][column] + padding);
      widths.push(width);
      format(l0, t);
      widths.pop();
      l0 = t;
    }
    writeLines(l0, l1);
  };
  format(0, lines.length);
  return out.join('');
}

/**
 * Go's text/tabwriter over raw text with docker's settings (minwidth 10, tabwidth 1, padding 3,
 * pad ' ', no flags): cells end at '\t' or '\v', lines at '\n' or '\f' ('\f' also flushes).
 */
export function tabwriteText(text: string, minwidth = 10, padding = 3): string {
  const sections = text.split('\f');
  return sections.map((sec, si) => {
    const lines = sec.split('\n').map((l) => l.split(/[\t\v]/));
    const last = si === sections.length - 1;
    if (last) {
      // Text after the final newline is an unterminated line: Flush only keeps its last
      // cell if it is non-empty, and writes no newline after it.
      const tail = lines[lines.length - 1];
      if (tail[tail.length - 1] === '') tail.pop();
    }
    return layout(lines, minwidth, padding, last);
  }).join('');
}

/** Rows of cells through docker's tabwriter: each row is written as cells joined by '\t' plus '\n'. */
export function tabwrite(rows: string[][]): string {
  return tabwriteText(rows.map((r) => r.join('\t') + '\n').join(''));
}

/** Column title for a field without an explicit header: "CreatedAt" -> "CREATED AT". */
export function headerName(field: string): string {
  return field
    .replace(/([a-z\d])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/[-_]/g, ' ')
    .toUpperCase();
}

// The header row renders the same template against a map of column titles (docker's
// SubHeaderContext); fields without a title get headerName(field).
function headerContext(headers: Record<string, string>): object {
  const label = (name: string) => name.split('.').pop()!.replace(/[-_]/g, ' ');
  return new Proxy({ ...headers }, {
    get: (t, k) => {
      if (typeof k !== 'string' || k in Object.prototype) return Reflect.get(t, k);
      if (k === 'Label') return label;
      return Object.hasOwn(t, k) ? t[k] : headerName(k);
    },
    has: (t, k) => (typeof k === 'string' && !(k in Object.prototype)) || Reflect.has(t, k),
  });
}

// docker marshals list contexts as maps, so `{{json .}}` of a row has its keys sorted.
function sortedRow(row: object): object {
  if (!isPlainObject(row)) return row;
  return Object.fromEntries(Object.keys(row).sort().map((k) => [k, row[k]]));
}

export interface FormatOptions {
  /** -q/--quiet: print only `quietFormat` per row, ignoring any --format (as docker does). */
  quiet?: boolean;
  /** Template used for --quiet (default `{{.ID}}`). */
  quietFormat?: string;
}

function compile(src: string): Template {
  try {
    return parseTemplate(src);
  } catch (e) {
    throw new Error(`template parsing error: ${(e as Error).message}`);
  }
}

/**
 * Render rows the way docker's formatter.Context does for `--format`:
 * "" / "table" -> defaultFormat; "json" -> `{{json .}}` per row; "table <tpl>" -> a header line
 * plus one line per row through the tabwriter; anything else -> the template per row, one line each.
 * Errors are thrown as "template parsing error: template: ..." like docker reports them.
 */
export function formatRows(
  format: string | undefined,
  defaultFormat: string,
  rows: object[],
  headers: Record<string, string>,
  opts: FormatOptions = {},
): string {
  let f = format ?? '';
  if (opts.quiet) f = opts.quietFormat ?? '{{.ID}}';
  else if (f === '' || f === 'table') f = defaultFormat;
  const isTable = f.startsWith('table');
  let src: string;
  if (f === 'table') src = ''; // a bare "table" custom format renders empty lines
  else if (f === 'json') src = '{{json .}}';
  else src = (isTable ? f.slice('table'.length) : f).replace(/^ +| +$/g, '');
  const tpl = compile(src);
  let body = '';
  for (const row of rows) {
    try {
      body += tpl.execute(sortedRow(row)) + '\n';
    } catch (e) {
      throw new Error(`template parsing error: ${(e as Error).message}`);
    }
  }
  if (!isTable) return body;
  return tabwriteText(tpl.executeHeader(headerContext(headers)) + '\n' + body);
}
