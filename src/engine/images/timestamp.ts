import { BadRequest } from '../../api/errors.js';
import { parseDuration } from './changes.js';

/**
 * Docker's timetypes.GetTimestamp for `until`/`since` filters, in ms since the epoch: a Go duration
 * ("24h", counted back from now), unix seconds ("1700000000.5"), or an RFC 3339 / date-only string.
 */
export function parseTimestamp(value: string, now = Date.now()): number {
  if (value !== '0' && /^(\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/.test(value)) {
    try { return now - parseDuration(value) / 1e6; } catch { /* not a duration after all */ }
  }
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const t = Date.parse(value.replace(/(\.\d{3})\d+/, '$1'));
  if (Number.isNaN(t)) throw new BadRequest(`failed to parse value as time or duration: "${value}"`);
  return t;
}
