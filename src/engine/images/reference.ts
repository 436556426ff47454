import { BadRequest } from '../../api/errors.js';

// Docker's image reference grammar (distribution/reference): [domain/]path[:tag][@digest],
// normalized so "busybox" is docker.io/library/busybox and printed back in familiar form.

export interface Reference { domain: string; path: string; tag?: string; digest?: string }

const alnum = '[a-z0-9]+';
const sep = '(?:[._]|__|[-]+)';
const component = `${alnum}(?:${sep}${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domain = `${domainComponent}(?:\\.${domainComponent})*(?::[0-9]+)?`;
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const namePat = `(?:${domain}/)?${component}(?:/${component})*`;
const referenceRe = new RegExp(`^(${namePat})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const nameSplitRe = new RegExp(`^(?:(${domain})/)?(${component}(?:/${component})*)$`);
const tagRe = new RegExp(`^${tagPat}$`);
export const ID_RE = /^[a-f0-9]{64}$/;
export const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export const DEFAULT_DOMAIN = 'docker.io';
const invalid = (why?: string) => new BadRequest(why ? `invalid reference format: ${why}` : 'invalid reference format');

/** Parses a fully qualified reference (domain included), like distribution's reference.Parse. */
function parseQualified(s: string): Reference {
  const m = referenceRe.exec(s);
  if (!m) {
    if (s === '') throw invalid('repository name must have at least one component');
    if (referenceRe.test(s.toLowerCase())) throw invalid('repository name must be lowercase');
    throw invalid();
  }
  if (m[1].length > 255) throw invalid('repository name must not be more than 255 characters');
  if (m[3] && !/^sha256:[a-f0-9]{64}$/.test(m[3]) && m[3].startsWith('sha256:')) throw new BadRequest('invalid digest format');
  const n = nameSplitRe.exec(m[1])!;
  return { domain: n[1] ?? '', path: n[2], tag: m[2], digest: m[3] };
}

/** "busybox" -> docker.io/library/busybox, "localhost:5000/x" keeps its registry (ParseNormalizedNamed). */
export function parseNormalizedNamed(s: string): Reference {
  if (ID_RE.test(s)) throw new BadRequest(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  const i = s.indexOf('/');
  let dom = DEFAULT_DOMAIN;
  let rest = s;
  if (i !== -1 && (/[.:]/.test(s.slice(0, i)) || s.slice(0, i) === 'localhost')) {
    dom = s.slice(0, i);
    rest = s.slice(i + 1);
  }
  if (dom === 'index.docker.io') dom = DEFAULT_DOMAIN;
  if (dom === DEFAULT_DOMAIN && !rest.includes('/')) rest = `library/${rest}`;
  const colon = rest.indexOf(':');
  const remote = colon === -1 ? rest.split('@')[0] : rest.slice(0, colon);
  if (remote.toLowerCase() !== remote) throw invalid('repository name must be lowercase');
  return parseQualified(`${dom}/${rest}`);
}

export function withTag(ref: Reference, tag: string): Reference {
  if (!tagRe.test(tag)) throw new BadRequest('invalid tag format');
  return { domain: ref.domain, path: ref.path, tag };
}

/** Adds ":latest" to a reference that has neither tag nor digest. */
export function tagNameOnly(ref: Reference): Reference {
  return ref.tag || ref.digest ? ref : { ...ref, tag: 'latest' };
}

export function fullName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return fullName(ref);
  const rest = ref.path.startsWith('library/') ? ref.path.slice(8) : ref.path;
  return rest.includes('/') ? ref.path : rest;
}

export function familiarString(ref: Reference): string {
  return familiarName(ref) + (ref.tag ? `:${ref.tag}` : '') + (ref.digest ? `@${ref.digest}` : '');
}

/** What a string names: an image ID (full, as Docker's ParseAnyReference) or a repository reference. */
export function parseAnyReference(s: string): { id: string } | { ref: Reference } {
  if (ID_RE.test(s)) return { id: `sha256:${s}` };
  if (DIGEST_RE.test(s)) return { id: s };
  return { ref: parseNormalizedNamed(s) };
}

/** Go's path.Match, used by the `reference` filter (a `*` never crosses a `/`). */
export function globMatch(pattern: string, s: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i]);
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) throw new BadRequest('syntax error in pattern');
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = '^' + cls.slice(1).replace(/[\]\\]/g, '\\$&');
      else cls = cls.replace(/[\]\\^]/g, '\\$&');
      re += `[${cls}]`;
      i = end;
    } else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`).test(s);
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Docker's reference.FamiliarMatch: the pattern may match "name:tag" or just "name". */
export function familiarMatch(pattern: string, ref: Reference): boolean {
  return globMatch(pattern, familiarString(ref)) || globMatch(pattern, familiarName(ref));
}
