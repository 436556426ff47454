// Thin adapter over ./format (Go templates, tabwriter, go-units) for the commands.
import * as F from './format/index.js';

export const renderTemplate = F.renderTemplate;
export const parseTemplate = F.parseTemplate;
export const bytesSize = F.bytesSize;
export const humanDuration = F.humanDuration;

/** go-units HumanSize (precision 4: "1.239MB"), used for reclaimed space and disk usage. */
export function humanSize(size: number): string {
  return F.humanSize(size, 4);
}

/** go-units HumanSizeWithPrecision(size, 3) ("1.24MB"), used by ps/images/stats/history/cp. */
export function humanSizePrec(size: number): string {
  return F.humanSize(size, 3);
}

/** "<duration> ago" for a unix time in seconds (docker's CreatedSince / RunningFor). */
export function since(unixSeconds: number, now = Date.now()): string {
  return `${humanDuration(Math.max(0, now - unixSeconds * 1000))} ago`;
}

/**
 * docker's formatter.Context.Write for lists: "table" (or empty) → the default table, "table <tpl>"
 * → a table with headers, "json" → one JSON object per line, anything else → the template per item.
 */
export function renderList(format: string | undefined, defaultTable: string, items: object[], headers: Record<string, string>): string {
  // `json` / `{{json .}}` of a docker list context goes through its MarshalJSON (encoding/json with
  // HTML escaping, keys sorted), unlike the template's own json function.
  if (format !== undefined && (format === 'json' || /^\{\{\s*json\s+\.\s*\}\}$/.test(format.trim()))) {
    return items.map((it) => marshalContext(it) + '\n').join('');
  }
  return F.formatRows(format, defaultTable, items, headers);
}

/** Go's json.Marshal of a context map: sorted keys, functions dropped, <, >, & and U+2028/9 escaped. */
export function marshalContext(item: object): string {
  const obj: Record<string, unknown> = {};
  for (const k of Object.keys(item).sort()) {
    const v = (item as Record<string, unknown>)[k];
    if (typeof v !== 'function' && v !== undefined) obj[k] = v;
  }
  return JSON.stringify(obj).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Go text/tabwriter over rows (docker's list settings: minwidth 10, padding 3, unless told otherwise). */
export function tabwrite(rows: string[][], opts: { minwidth?: number; padding?: number } = {}): string {
  if (opts.minwidth === undefined && opts.padding === undefined) return F.tabwrite(rows);
  return F.tabwriteText(rows.map((r) => r.join('\t') + '\n').join(''), opts.minwidth ?? 10, opts.padding ?? 3);
}
