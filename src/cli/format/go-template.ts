// A Go text/template implementation (the parts docker users type in --format), with docker's
// template functions. Semantics and error messages follow Go's text/template and docker/cli/templates.
import { formatValue, goJSON, goQuote, goStructType, goTypeName, isPlainObject, mapEntries, sprint, sprintf, sprintln } from '../../util/gofmt.js';

// Go's invalid reflect.Value (a missing map key): prints "<no value>".
const MISSING: unique symbol = Symbol('no value');
// Marks "no value piped in from the previous command".
const NOFINAL: unique symbol = Symbol('no final');
const BREAK: unique symbol = Symbol('break');
const CONTINUE: unique symbol = Symbol('continue');

// ---------------------------------------------------------------------------------------------
// Lexer

type TokType = 'text' | 'left' | 'right' | 'space' | 'ident' | 'kw' | 'field' | 'var' | 'dot' | 'nil' | 'bool'
  | 'string' | 'raw' | 'charconst' | 'number' | 'pipe' | 'lparen' | 'rparen' | 'declare' | 'assign' | 'char' | 'eof' | 'error';
interface Tok { t: TokType; v: string; pos: number; line: number }

const KEYWORDS = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'template', 'with']);
const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isAlnum = (c: string | undefined) => c !== undefined && /^[\p{L}\p{Nd}_]$/u.test(c);
const runeHash = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} '${c}'`;

function lex(input: string): Tok[] {
  const toks: Tok[] = [];
  let pos = 0, line = 1;
  const push = (t: TokType, start: number, startLine: number, v = input.slice(start, pos)) => { toks.push({ t, v, pos: start, line: startLine }); };
  const countNL = (a: number, b: number) => { for (let i = a; i < b; i++) if (input[i] === '\n') line++; };
  const skipSpaces = () => { const s = pos; while (isSpace(input[pos])) pos++; countNL(s, pos); };
  const atRight = (p: number): [boolean, boolean] =>
    isSpace(input[p]) && input[p + 1] === '-' && input.startsWith('}}', p + 2) ? [true, true] : [input.startsWith('}}', p), false];
  const fail = (msg: string, l = line) => { toks.push({ t: 'error', v: msg, pos, line: l }); return toks; };
  // Go's atTerminator: what may follow a field, variable or identifier.
  const atTerm = (p: number) => { const c = input[p]; return c === undefined || isSpace(c) || '.,|:()'.includes(c) || input.startsWith('}}', p); };

  for (;;) {
    const x = input.indexOf('{{', pos);
    const end = x < 0 ? input.length : x;
    const trimLeft = x >= 0 && input[x + 2] === '-' && isSpace(input[x + 3]);
    let textEnd = end;
    if (trimLeft) while (textEnd > pos && isSpace(input[textEnd - 1])) textEnd--;
    if (textEnd > pos) push('text', pos, line, input.slice(pos, textEnd));
    countNL(pos, end);
    pos = end;
    if (x < 0) { push('eof', pos, line, ''); return toks; }
    const inner = x + 2 + (trimLeft ? 2 : 0);
    if (input.startsWith('/*', inner)) {
      const close = input.indexOf('*/', inner + 2);
      if (close < 0) return fail('unclosed comment');
      countNL(x, close);
      pos = close + 2;
      const [delim, trim] = atRight(pos);
      if (!delim) return fail('comment ends before closing delimiter');
      pos += trim ? 4 : 2;
      if (trim) skipSpaces();
      continue;
    }
    push('left', x, line, '{{');
    countNL(x, inner);
    pos = inner;
    let depth = 0;
    for (;;) {
      const [delim, trim] = atRight(pos);
      if (delim) {
        if (depth > 0) return fail('unclosed left paren');
        if (trim) { countNL(pos, pos + 1); pos += 2; }
        push('right', pos, line, '}}');
        pos += 2;
        if (trim) skipSpaces();
        break;
      }
      const start = pos, sl = line, c = input[pos];
      if (c === undefined) return fail('unclosed action');
      if (isSpace(c)) {
        while (isSpace(input[pos])) pos++;
        // A space run ending in " -}}": leave the last space to the trim-marked delimiter.
        if (input[pos] === '-' && input.startsWith('}}', pos + 1)) { pos--; if (pos === start) continue; }
        countNL(start, pos);
        push('space', start, sl);
        continue;
      }
      pos++;
      if (c === '=') push('assign', start, sl);
      else if (c === ':') {
        if (input[pos] !== '=') return fail('expected :=');
        pos++;
        push('declare', start, sl);
      } else if (c === '|') push('pipe', start, sl);
      else if (c === '"' || c === '\'') {
        for (;;) {
          const ch = input[pos++];
          if (ch === '\\' && input[pos] !== undefined && input[pos] !== '\n') { pos++; continue; }
          if (ch === undefined || ch === '\n' || ch === '\\') return fail(c === '"' ? 'unterminated quoted string' : 'unterminated character constant');
          if (ch === c) break;
        }
        push(c === '"' ? 'string' : 'charconst', start, sl);
      } else if (c === '`') {
        const close = input.indexOf('`', pos);
        if (close < 0) return fail('unterminated raw quoted string');
        pos = close + 1;
        push('raw', start, sl);
        countNL(start, pos);
      } else if (c === '$' || (c === '.' && !(input[pos] >= '0' && input[pos] <= '9'))) {
        if (atTerm(pos)) push(c === '$' ? 'var' : 'dot', start, sl);
        else {
          while (isAlnum(input[pos])) pos++;
          if (!atTerm(pos)) return fail(`bad character ${runeHash(input[pos])}`);
          push(c === '$' ? 'var' : 'field', start, sl);
        }
      } else if (c === '.' || c === '+' || c === '-' || (c >= '0' && c <= '9')) {
        pos = start;
        if (input[pos] === '+' || input[pos] === '-') pos++;
        let digits = '0123456789_';
        if (input[pos] === '0') {
          pos++;
          const p = input[pos]?.toLowerCase();
          if (p === 'x') digits = '0123456789abcdefABCDEF_'; else if (p === 'o') digits = '01234567_'; else if (p === 'b') digits = '01_';
          if (digits.length !== 11) pos++;
        }
        const run = (set: string) => { while (input[pos] !== undefined && set.includes(input[pos])) pos++; };
        run(digits);
        if (input[pos] === '.') { pos++; run(digits); }
        if (digits.length === 11 && 'eE'.includes(input[pos] ?? '#')) { pos++; if ('+-'.includes(input[pos] ?? '#')) pos++; run('0123456789_'); }
        if (digits.length === 23 && 'pP'.includes(input[pos] ?? '#')) { pos++; if ('+-'.includes(input[pos] ?? '#')) pos++; run('0123456789_'); }
        if (input[pos] === 'i') pos++;
        if (isAlnum(input[pos])) { pos++; return fail(`bad number syntax: ${goQuote(input.slice(start, pos))}`); }
        push('number', start, sl);
      } else if (isAlnum(c)) {
        while (isAlnum(input[pos])) pos++;
        if (!atTerm(pos)) return fail(`bad character ${runeHash(input[pos])}`);
        const w = input.slice(start, pos);
        push(KEYWORDS.has(w) ? 'kw' : w === 'nil' ? 'nil' : w === 'true' || w === 'false' ? 'bool' : 'ident', start, sl);
      } else if (c === '(') { push('lparen', start, sl); depth++; }
      else if (c === ')') {
        push('rparen', start, sl);
        if (--depth < 0) return fail('unexpected right paren');
      } else if (c < '\x7f' && c >= ' ') push('char', start, sl);
      else return fail(`unrecognized character in action: ${runeHash(String.fromCodePoint(input.codePointAt(start)!))}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Parse tree

interface Pipe { k: 'pipe'; pos: number; decl: string[]; isAssign: boolean; cmds: Cmd[] }
interface Cmd { k: 'cmd'; pos: number; args: Arg[] }
type Arg = Pipe
  | { k: 'field'; pos: number; ident: string[] }
  | { k: 'var'; pos: number; ident: string[] }
  | { k: 'chain'; pos: number; node: Arg; fields: string[] }
  | { k: 'ident'; pos: number; name: string }
  | { k: 'dot' | 'nil'; pos: number }
  | { k: 'bool'; pos: number; value: boolean }
  | { k: 'number'; pos: number; value: number; text: string }
  | { k: 'string'; pos: number; value: string; text: string };
type Node =
  | { k: 'text'; pos: number; text: string }
  | { k: 'action'; pos: number; pipe: Pipe }
  | { k: 'if' | 'with' | 'range'; pos: number; pipe: Pipe; list: Node[]; elseList?: Node[] }
  | { k: 'break' | 'continue' | 'end' | 'else'; pos: number };
type AnyNode = Node | Cmd | Arg;

function str(n: AnyNode): string {
  const list = (l: Node[]) => l.map(str).join('');
  switch (n.k) {
    case 'text': return n.text;
    case 'action': return `{{${str(n.pipe)}}}`;
    case 'if': case 'with': case 'range':
      return `{{${n.k} ${str(n.pipe)}}}${list(n.list)}${n.elseList ? `{{else}}${list(n.elseList)}` : ''}{{end}}`;
    case 'break': case 'continue': case 'end': case 'else': return `{{${n.k}}}`;
    case 'pipe': return (n.decl.length ? n.decl.join(', ') + (n.isAssign ? ' = ' : ' := ') : '') + n.cmds.map(str).join(' | ');
    case 'cmd': return n.args.map((a) => (a.k === 'pipe' ? `(${str(a)})` : str(a))).join(' ');
    case 'field': return n.ident.map((x) => '.' + x).join('');
    case 'var': return n.ident.join('.');
    case 'chain': return (n.node.k === 'pipe' ? `(${str(n.node)})` : str(n.node)) + n.fields.map((x) => '.' + x).join('');
    case 'ident': return n.name;
    case 'dot': return '.';
    case 'nil': return 'nil';
    case 'bool': return String(n.value);
    case 'number': case 'string': return n.text;
  }
}

function tokString(t: Tok): string {
  if (t.t === 'eof') return 'EOF';
  if (t.t === 'error') return t.v;
  if (t.t === 'kw' || t.t === 'dot' || t.t === 'nil') return `<${t.v}>`;
  const chars = [...t.v];
  return chars.length > 10 ? goQuote(chars.slice(0, 10).join('')) + '...' : goQuote(t.v);
}

// strconv.Unquote for "..." and '...' literals (raw strings are handled by the caller).
function unquote(s: string): string {
  const body = s.slice(1, -1), q = s[0];
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      if (c === q) throw new Error('invalid syntax');
      out += c;
      continue;
    }
    const e = body[++i];
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };
    if (e in simple) out += simple[e];
    else if (e === q) out += q;
    else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8, h = body.slice(i + 1, i + 1 + n);
      if (h.length !== n || !/^[0-9a-fA-F]+$/.test(h)) throw new Error('invalid syntax');
      const cp = parseInt(h, 16);
      if (e !== 'x' && (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))) throw new Error('invalid syntax');
      // \x escapes are bytes; a lone byte >= 0x80 is not valid UTF-8, which JS can't hold.
      out += e === 'x' && cp >= 0x80 ? '\ufffd' : String.fromCodePoint(cp);
      i += n;
    } else if (e >= '0' && e <= '7') {
      const o = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(o) || parseInt(o, 8) > 255) throw new Error('invalid syntax');
      const cp = parseInt(o, 8);
      out += cp >= 0x80 ? '\ufffd' : String.fromCharCode(cp);
      i += 2;
    } else throw new Error('invalid syntax');
  }
  if (q === '\'' && [...out].length !== 1) throw new Error('invalid syntax');
  return out;
}

// Go's number literal rules (ParseInt/ParseUint base 0, then ParseFloat).
function parseNumber(text: string): number | undefined {
  if (text.startsWith('\'')) return unquote(text).codePointAt(0);
  if (text.endsWith('i')) return undefined; // complex constants are not supported
  const sign = text[0] === '-' ? -1 : 1;
  const body = text.replace(/^[+-]/, '');
  const us = (d: string) => `[${d}](?:_?[${d}])*`;
  let m: RegExpExecArray | null;
  if ((m = new RegExp(`^0[xX]_?(${us('0-9a-fA-F')})$`).exec(body))) return sign * parseInt(m[1].replace(/_/g, ''), 16);
  if ((m = new RegExp(`^0[bB]_?(${us('01')})$`).exec(body))) return sign * parseInt(m[1].replace(/_/g, ''), 2);
  if ((m = new RegExp(`^0[oO]?_?(${us('0-7')})$`).exec(body))) return sign * parseInt(m[1].replace(/_/g, ''), 8);
  if (new RegExp(`^(?:${us('0-9')}(?:\\.(?:${us('0-9')})?)?|\\.${us('0-9')})(?:[eE][+-]?${us('0-9')})?$`).test(body)) {
    const v = Number(body.replace(/_/g, ''));
    return Number.isFinite(v) ? sign * v : undefined;
  }
  const hex = /^0[xX]_?((?:[0-9a-fA-F_]*))(?:\.([0-9a-fA-F_]*))?[pP]([+-]?[0-9_]+)$/.exec(body);
  if (hex && (hex[1] + (hex[2] ?? '')).replace(/_/g, '')) {
    const ip = hex[1].replace(/_/g, ''), fp = (hex[2] ?? '').replace(/_/g, '');
    return sign * parseInt(ip + fp || '0', 16) * 2 ** (Number(hex[3].replace(/_/g, '')) - 4 * fp.length);
  }
  return undefined;
}

class Parser {
  private i = 0;
  private last: Tok;
  private vars = ['$'];
  private rangeDepth = 0;
  private actionLine = 0;

  constructor(private toks: Tok[], private funcs: Set<string>, private name = '') { this.last = toks[0]; }

  private errorf(msg: string): never {
    throw new Error(`template: ${this.name}:${this.last.line}: ${msg}`);
  }
  private next(): Tok { this.last = this.toks[Math.min(this.i++, this.toks.length - 1)]; return this.last; }
  private backup(n = 1) { this.i -= n; }
  private peek(): Tok { return this.toks[Math.min(this.i, this.toks.length - 1)]; }
  private nextNonSpace(): Tok { let t; do t = this.next(); while (t.t === 'space'); return t; }
  private peekNonSpace(): Tok { const i = this.i, t = this.nextNonSpace(); this.i = i; return t; }
  private unexpected(t: Tok, context: string): never {
    if (t.t === 'error') {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== t.line) {
        extra = ` in action started at :${this.actionLine}`;
        if (t.v.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.errorf(t.v + extra);
    }
    this.errorf(`unexpected ${tokString(t)} in ${context}`);
  }
  private expect(type: TokType, context: string): Tok {
    const t = this.nextNonSpace();
    if (t.t !== type) this.unexpected(t, context);
    return t;
  }

  parse(): Node[] {
    const root: Node[] = [];
    while (this.peek().t !== 'eof') {
      const n = this.textOrAction();
      if (n.k === 'end' || n.k === 'else') this.errorf(`unexpected ${str(n)}`);
      root.push(n);
    }
    return root;
  }

  private itemList(): [Node[], Node] {
    const list: Node[] = [];
    while (this.peekNonSpace().t !== 'eof') {
      const n = this.textOrAction();
      if (n.k === 'end' || n.k === 'else') return [list, n];
      list.push(n);
    }
    this.errorf('unexpected EOF');
  }

  private textOrAction(): Node {
    const t = this.nextNonSpace();
    if (t.t === 'text') return { k: 'text', pos: t.pos, text: t.v };
    if (t.t !== 'left') this.unexpected(t, 'input');
    this.actionLine = t.line;
    try { return this.action(); } finally { this.actionLine = 0; }
  }

  private action(): Node {
    const t = this.nextNonSpace();
    if (t.t === 'kw') {
      switch (t.v) {
        case 'if': case 'with': case 'range': return this.control(t.v);
        case 'end': return { k: 'end', pos: this.expect('right', 'end').pos };
        case 'else': {
          const p = this.peekNonSpace();
          // "{{else if ...}}" / "{{else with ...}}" leave the keyword pending for control().
          if (p.t === 'kw' && (p.v === 'if' || p.v === 'with')) return { k: 'else', pos: p.pos };
          return { k: 'else', pos: this.expect('right', 'else').pos };
        }
        case 'break': case 'continue': {
          const r = this.nextNonSpace();
          if (r.t !== 'right') this.unexpected(r, `{{${t.v}}}`);
          if (this.rangeDepth === 0) this.errorf(`{{${t.v}}} outside {{range}}`);
          return { k: t.v, pos: t.pos };
        }
        default: this.errorf(`{{${t.v}}} is not supported`);
      }
    }
    this.backup();
    const pos = this.peekNonSpace().pos;
    return { k: 'action', pos, pipe: this.pipeline('command', 'right') };
  }

  private control(kind: 'if' | 'with' | 'range'): Node {
    const mark = this.vars.length;
    try {
      const pipe = this.pipeline(kind, 'right');
      if (kind === 'range') this.rangeDepth++;
      let [list, next] = this.itemList();
      if (kind === 'range') this.rangeDepth--;
      let elseList: Node[] | undefined;
      if (next.k === 'else') {
        const p = this.peekNonSpace();
        if (kind !== 'range' && p.t === 'kw' && p.v === kind) {
          // {{if a}}x{{else if b}}y{{end}} is {{if a}}x{{else}}{{if b}}y{{end}}{{end}}
          this.nextNonSpace();
          elseList = [this.control(kind)];
        } else {
          [elseList, next] = this.itemList();
          if (next.k !== 'end') this.errorf(`expected end; found ${str(next)}`);
        }
      }
      return { k: kind, pos: pipe.pos, pipe, list, elseList };
    } finally {
      this.vars.length = mark;
    }
  }

  private pipeline(context: string, end: TokType): Pipe {
    const pipe: Pipe = { k: 'pipe', pos: this.peekNonSpace().pos, decl: [], isAssign: false, cmds: [] };
    for (;;) {
      const v = this.peekNonSpace();
      if (v.t !== 'var') break;
      this.nextNonSpace();
      const n = this.peekNonSpace();
      if (n.t === 'assign' || n.t === 'declare') {
        pipe.isAssign = n.t === 'assign';
        this.nextNonSpace();
        pipe.decl.push(v.v);
        this.vars.push(v.v);
        break;
      }
      if (n.t === 'char' && n.v === ',') {
        this.nextNonSpace();
        pipe.decl.push(v.v);
        this.vars.push(v.v);
        if (context === 'range' && pipe.decl.length < 2) {
          const p = this.peekNonSpace();
          if (p.t === 'var' || p.t === 'right' || p.t === 'rparen') continue;
          this.errorf('range can only initialize variables');
        }
        this.errorf(`too many declarations in ${context}`);
      }
      this.backup(); // "$x" is an operand, not a declaration
      break;
    }
    for (;;) {
      const t = this.nextNonSpace();
      if (t.t === end) {
        if (!pipe.cmds.length) this.errorf(`missing value for ${context}`);
        pipe.cmds.slice(1).forEach((c, i) => {
          if (['bool', 'dot', 'nil', 'number', 'string'].includes(c.args[0].k)) this.errorf(`non executable command in pipeline stage ${i + 2}`);
        });
        return pipe;
      }
      if (['bool', 'charconst', 'dot', 'field', 'ident', 'number', 'nil', 'raw', 'string', 'var', 'lparen'].includes(t.t)) {
        this.backup();
        pipe.cmds.push(this.command());
      } else this.unexpected(t, context);
    }
  }

  private command(): Cmd {
    const cmd: Cmd = { k: 'cmd', pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const op = this.operand();
      if (op) cmd.args.push(op);
      const t = this.next();
      if (t.t === 'space') continue;
      if (t.t === 'right' || t.t === 'rparen') this.backup();
      else if (t.t !== 'pipe') this.unexpected(t, 'operand');
      break;
    }
    if (!cmd.args.length) this.errorf('empty command');
    return cmd;
  }

  private operand(): Arg | undefined {
    const node = this.term();
    if (!node || this.peek().t !== 'field') return node;
    const pos = this.peek().pos;
    const fields: string[] = [];
    while (this.peek().t === 'field') fields.push(this.next().v.slice(1));
    switch (node.k) {
      case 'field': return { k: 'field', pos, ident: [...node.ident, ...fields] };
      case 'var': return { k: 'var', pos, ident: [...node.ident, ...fields] };
      case 'bool': case 'string': case 'number': case 'nil': case 'dot':
        this.errorf(`unexpected . after term ${goQuote(str(node))}`);
    }
    return { k: 'chain', pos, node, fields };
  }

  private term(): Arg | undefined {
    const t = this.nextNonSpace();
    switch (t.t) {
      case 'ident':
        if (!this.funcs.has(t.v)) this.errorf(`function ${goQuote(t.v)} not defined`);
        return { k: 'ident', pos: t.pos, name: t.v };
      case 'dot': return { k: 'dot', pos: t.pos };
      case 'nil': return { k: 'nil', pos: t.pos };
      case 'var': {
        const ident = t.v.split('.');
        if (!this.vars.includes(ident[0])) this.errorf(`undefined variable ${goQuote(ident[0])}`);
        return { k: 'var', pos: t.pos, ident };
      }
      case 'field': return { k: 'field', pos: t.pos, ident: [t.v.slice(1)] };
      case 'bool': return { k: 'bool', pos: t.pos, value: t.v === 'true' };
      case 'number': case 'charconst': {
        let value: number | undefined;
        try { value = parseNumber(t.v); } catch { value = undefined; }
        if (value === undefined) this.errorf(t.t === 'charconst' ? `malformed character constant: ${t.v}` : `illegal number syntax: ${goQuote(t.v)}`);
        return { k: 'number', pos: t.pos, value, text: t.v };
      }
      case 'lparen': return this.pipeline('parenthesized pipeline', 'rparen');
      case 'string': case 'raw': {
        let value: string;
        if (t.t === 'raw') value = t.v.slice(1, -1).replace(/\r/g, '');
        else try { value = unquote(t.v); } catch { this.errorf('invalid syntax'); }
        return { k: 'string', pos: t.pos, value, text: t.v };
      }
    }
    this.backup();
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Functions

// Parameter kinds: Go string / int, interface{} (a missing value arrives as nil),
// and reflect.Value (a missing value arrives as MISSING, as the comparison builtins see it).
type PType = 'string' | 'int' | 'any' | 'value';
interface Fn { params: PType[]; variadic?: PType; andOr?: boolean; call: (...args: any[]) => unknown }
const PTYPE_NAME: Record<PType, string> = { string: 'string', int: 'int', any: 'interface {}', value: 'reflect.Value' };

/** Go's template truth: false, 0, nil, and empty strings/slices/maps are false. */
function truth(v: unknown): boolean {
  if (v === MISSING || v === null || v === undefined) return false;
  switch (typeof v) {
    case 'boolean': return v;
    case 'number': return v !== 0;
    case 'bigint': return v !== 0n;
    case 'string': return v.length > 0;
  }
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  if (isPlainObject(v)) return Object.keys(v).length > 0;
  return true;
}

const isNil = (v: unknown) => v === MISSING || v === null || v === undefined;
function basicKind(v: unknown): string {
  if (isNil(v)) return 'nil';
  if (typeof v === 'bigint') return 'number';
  return ['boolean', 'number', 'string'].includes(typeof v) ? typeof v : 'other';
}

function eq(a: unknown, ...bs: unknown[]): boolean {
  if (!bs.length) throw new Error('missing argument for comparison');
  const k1 = basicKind(a);
  for (const b of bs) {
    const k2 = basicKind(b);
    if (k1 !== k2) {
      if (k1 !== 'nil' && k2 !== 'nil') throw new Error('incompatible types for comparison');
    } else if (k1 === 'other') throw new Error(`non-comparable type ${formatValue(b)}: ${goTypeName(b)}`);
    else if (k1 === 'nil' || a == b) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  const k1 = basicKind(a), k2 = basicKind(b);
  if (k1 === 'nil' || k1 === 'other' || k2 === 'nil' || k2 === 'other') throw new Error('invalid type for comparison');
  if (k1 !== k2) throw new Error('incompatible types for comparison');
  if (k1 === 'boolean') throw new Error('invalid type for comparison');
  return typeof a === 'string' ? Buffer.compare(Buffer.from(a), Buffer.from(b as string)) < 0 : (a as number) < (b as number);
}

function length(v: unknown): number {
  if (isNil(v)) throw new Error('len of nil pointer');
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (v instanceof Map) return v.size;
  if (typeof v === 'object' && !(v instanceof Date)) return Object.keys(v as object).length;
  throw new Error(`len of type ${goTypeName(v)}`);
}

function indexArg(ix: unknown, cap: number): number {
  if (typeof ix !== 'number' || !Number.isInteger(ix)) throw new Error(`cannot index slice/array with type ${goTypeName(ix)}`);
  if (ix < 0 || ix > cap) throw new Error(`index out of range: ${ix}`);
  return ix;
}

function index(item: unknown, ...ixs: unknown[]): unknown {
  if (isNil(item)) throw new Error('index of untyped nil');
  let cur: unknown = item;
  for (const ix of ixs) {
    if (isNil(cur)) throw new Error('index of nil pointer');
    if (typeof cur === 'string' || Array.isArray(cur)) {
      const bytes = typeof cur === 'string' ? Buffer.from(cur) : undefined;
      const len = bytes ? bytes.length : (cur as unknown[]).length;
      const x = indexArg(ix, len);
      if (x === len) throw new Error(`reflect: ${bytes ? 'string' : 'slice'} index out of range`);
      cur = bytes ? bytes[x] : (cur as unknown[])[x] ?? null;
    } else if (typeof cur === 'object' && !(cur instanceof Date)) {
      if (isNil(ix)) throw new Error('value is nil; should be of type string');
      if (typeof ix !== 'string') throw new Error(`value has type ${goTypeName(ix)}; should be string`);
      const m = cur as Record<string, unknown>;
      const v = cur instanceof Map ? cur.get(ix) : Object.hasOwn(m, ix) ? m[ix] : undefined;
      if (v !== undefined) { cur = v; continue; }
      // A missing key yields the map's zero value: "" for map[string]string (labels, options),
      // nil (printed as <no value>) otherwise. JS has no element type, so infer it from the values.
      const values = cur instanceof Map ? [...cur.values()] : Object.values(m);
      cur = values.every((x) => typeof x === 'string') ? '' : MISSING;
    } else throw new Error(`can't index item of type ${goTypeName(cur)}`);
  }
  return cur;
}

function slice(item: unknown, ...ixs: unknown[]): unknown {
  if (isNil(item)) throw new Error('slice of untyped nil');
  if (ixs.length > 3) throw new Error(`too many slice indexes: ${ixs.length}`);
  const isStr = typeof item === 'string';
  if (!isStr && !Array.isArray(item)) throw new Error(`can't slice item of type ${goTypeName(item)}`);
  if (isStr && ixs.length === 3) throw new Error('cannot 3-index slice a string');
  const buf = isStr ? Buffer.from(item) : undefined;
  const len = buf ? buf.length : (item as unknown[]).length;
  const idx = [0, len];
  ixs.forEach((x, i) => { idx[i] = indexArg(x, len); });
  if (idx[0] > idx[1]) throw new Error(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  return buf ? buf.subarray(idx[0], idx[1]).toString() : (item as unknown[]).slice(idx[0], idx[1]);
}

// Per-rune case mapping like Go's strings.ToUpper/ToLower (no multi-rune expansions such as ß -> SS).
const mapRunes = (s: string, f: (c: string) => string) => [...s].map((c) => { const m = f(c); return [...m].length === 1 ? m : c; }).join('');

// strings.Title: upper-case the first letter of each word.
function title(s: string): string {
  const isSep = (c: string) => {
    if (c <= '\x7f') return !/[A-Za-z0-9_]/.test(c);
    if (/[\p{L}\p{Nd}]/u.test(c)) return false;
    return /\s/u.test(c);
  };
  let prev = ' ', out = '';
  for (const c of s) { out += isSep(prev) ? mapRunes(c, (x) => x.toUpperCase()) : c; prev = c; }
  return out;
}

// docker's join: strings.Join for slices, fmt.Sprint per element; map values are sorted.
function join(elems: unknown, sep: string): string {
  if (isNil(elems)) return '';
  if (Array.isArray(elems)) return elems.map((e) => sprint(e)).join(sep);
  if (typeof elems === 'object' && !(elems instanceof Date)) return mapEntries(elems as object).map(([, v]) => sprint(v)).sort().join(sep);
  throw new Error(`expected slice, got ${goTypeName(elems)}`);
}

const textArg = (args: unknown[]) => (args.length === 1 && typeof args[0] === 'string' ? args[0] : sprint(...args));
const fixed = (params: PType[], call: Fn['call']): Fn => ({ params, call });
const variadic = (params: PType[], v: PType, call: Fn['call']): Fn => ({ params, variadic: v, call });

const BUILTINS: Record<string, Fn> = {
  and: { params: ['value'], variadic: 'value', andOr: true, call: () => undefined },
  or: { params: ['value'], variadic: 'value', andOr: true, call: () => undefined },
  not: fixed(['value'], (v) => !truth(v)),
  len: fixed(['value'], length),
  index: variadic(['value'], 'value', index),
  slice: variadic(['value'], 'value', slice),
  print: variadic([], 'any', sprint),
  printf: variadic(['string'], 'any', sprintf),
  println: variadic([], 'any', sprintln),
  eq: variadic(['value'], 'value', eq),
  ne: fixed(['value', 'value'], (a, b) => !eq(a, b)),
  lt: fixed(['value', 'value'], lt),
  le: fixed(['value', 'value'], (a, b) => lt(a, b) || eq(a, b)),
  gt: fixed(['value', 'value'], (a, b) => !lt(a, b) && !eq(a, b)),
  ge: fixed(['value', 'value'], (a, b) => !lt(a, b)),
  call: variadic(['value'], 'value', (fn, ...args) => {
    if (typeof fn !== 'function') throw new Error(`non-function of type ${goTypeName(fn)}`);
    return fn(...args.map((a) => (a === MISSING ? null : a)));
  }),
  html: variadic([], 'any', (...a) => textArg(a).replace(/[\0"'&<>]/g, (c) => ({ '\0': '\uFFFD', '"': '&#34;', '\'': '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!)),
  js: variadic([], 'any', (...a) => [...textArg(a)].map((c) => {
    const m: Record<string, string> = { '\\': '\\\\', '\'': '\\\'', '"': '\\"', '<': '\\u003C', '>': '\\u003E', '&': '\\u0026', '=': '\\u003D' };
    if (m[c]) return m[c];
    const cp = c.codePointAt(0)!;
    if (cp < 0x20 || (cp >= 0x80 && !/[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u.test(c))) return '\\u' + cp.toString(16).toUpperCase().padStart(4, '0');
    return c;
  }).join('')),
  urlquery: variadic([], 'any', (...a) => [...Buffer.from(textArg(a))].map((b) => {
    const c = String.fromCharCode(b);
    return /[A-Za-z0-9\-_.~]/.test(c) ? c : c === ' ' ? '+' : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }).join('')),
  // docker/cli/templates basicFunctions
  json: fixed(['any'], goJSON),
  split: fixed(['string', 'string'], (s: string, sep: string) => (sep === '' ? [...s] : s.split(sep))),
  join: fixed(['any', 'string'], join),
  title: fixed(['string'], title),
  lower: fixed(['string'], (s: string) => mapRunes(s, (c) => c.toLowerCase())),
  upper: fixed(['string'], (s: string) => mapRunes(s, (c) => c.toUpperCase())),
  pad: fixed(['string', 'int', 'int'], (s: string, pre: number, post: number) => {
    if (s === '') return s;
    if (pre < 0 || post < 0) throw new Error('strings: negative Repeat count');
    return ' '.repeat(pre) + s + ' '.repeat(post);
  }),
  truncate: fixed(['string', 'int'], (s: string, n: number) => {
    const b = Buffer.from(s); // Go slices bytes
    if (b.length < n) return s;
    if (n < 0) throw new Error(`runtime error: slice bounds out of range [:${n}]`);
    return b.subarray(0, n).toString();
  }),
};

// docker's HeaderFunctions: while rendering a table header these leave the column title intact.
const id = (s: unknown) => s;
const HEADER_FUNCS: Record<string, Fn> = {
  json: fixed(['string'], id), split: fixed(['string', 'string'], id), join: fixed(['string', 'string'], id),
  title: fixed(['string'], id), lower: fixed(['string'], id), upper: fixed(['string'], id), truncate: fixed(['string', 'int'], id),
};

// ---------------------------------------------------------------------------------------------
// Execution

function fieldOf(obj: object, name: string): unknown {
  if (Object.hasOwn(obj, name) || (name in obj && !(name in Object.prototype))) return (obj as Record<string, unknown>)[name];
  return undefined;
}

class ExecError extends Error {}

class State {
  out: string[] = [];
  private vars: { name: string; value: unknown }[];
  private node: AnyNode | undefined;

  constructor(private text: string, private funcs: Record<string, Fn>, root: unknown, private name = '') {
    this.vars = [{ name: '$', value: root }];
  }

  private at(n: AnyNode) { this.node = n; }

  private errorf(msg: string): never {
    if (!this.node) throw new ExecError(`template: ${this.name}: ${msg}`);
    const pos = this.node.pos, before = this.text.slice(0, pos), nl = before.lastIndexOf('\n');
    const line = before.split('\n').length, col = Buffer.byteLength(before.slice(nl + 1));
    let ctx = str(this.node);
    if (Buffer.byteLength(ctx) > 20) ctx = [...ctx].slice(0, 20).join('') + '...';
    throw new ExecError(`template: ${this.name}:${line}:${col}: executing "${this.name}" at <${ctx}>: ${msg}`);
  }

  private varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i].name === name) return this.vars[i].value;
    this.errorf(`undefined variable: ${name}`);
  }
  private setVar(name: string, value: unknown) {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i].name === name) { this.vars[i].value = value; return; }
    this.errorf(`undefined variable: ${name}`);
  }

  walkList(dot: unknown, list: Node[]) { for (const n of list) this.walk(dot, n); }

  private walk(dot: unknown, n: Node) {
    switch (n.k) {
      case 'text': this.out.push(n.text); return;
      case 'action': {
        const v = this.evalPipeline(dot, n.pipe);
        if (!n.pipe.decl.length) this.printValue(n, v);
        return;
      }
      case 'if': case 'with': {
        const mark = this.vars.length;
        const v = this.evalPipeline(dot, n.pipe);
        if (truth(v)) this.walkList(n.k === 'with' ? v : dot, n.list);
        else if (n.elseList) this.walkList(dot, n.elseList);
        this.vars.length = mark;
        return;
      }
      case 'range': return this.walkRange(dot, n);
      case 'break': throw BREAK;
      case 'continue': throw CONTINUE;
    }
  }

  private walkRange(dot: unknown, r: Extract<Node, { list: Node[] }>) {
    this.at(r);
    const mark = this.vars.length;
    const decl = r.pipe.decl;
    const val = this.evalPipeline(dot, r.pipe);
    const one = (key: unknown, elem: unknown) => {
      if (r.pipe.isAssign) {
        this.setVar(decl[0], decl.length > 1 ? key : elem);
        if (decl.length > 1) this.setVar(decl[1], elem);
      } else if (decl.length) {
        this.vars[this.vars.length - 1].value = elem;
        if (decl.length > 1) this.vars[this.vars.length - 2].value = key;
      }
      const inner = this.vars.length;
      try { this.walkList(elem, r.list); } catch (e) { if (e !== CONTINUE) throw e; } finally { this.vars.length = inner; }
    };
    try {
      let ran = false;
      if (isNil(val)) { /* ranging over nil: no iterations */ }
      else if (Array.isArray(val)) val.forEach((e, i) => { ran = true; one(i, e ?? null); });
      else if (typeof val === 'number' && Number.isInteger(val)) {
        if (decl.length > 1) this.errorf(`can't use ${formatValue(val)} to iterate over more than one variable`);
        for (let i = 0; i < val; i++) { ran = true; one(i, i); }
      } else if (typeof val === 'object' && !(val instanceof Date)) {
        for (const [k, v] of mapEntries(val as object)) { ran = true; one(k, v ?? null); }
      } else this.errorf(`range can't iterate over ${formatValue(val)}`);
      if (!ran && r.elseList) this.walkList(dot, r.elseList);
    } catch (e) {
      if (e !== BREAK) throw e;
    } finally {
      this.vars.length = mark;
    }
  }

  private printValue(n: AnyNode, v: unknown) {
    this.at(n);
    if (v === MISSING || v === undefined) { this.out.push('<no value>'); return; }
    if (typeof v === 'function') this.errorf(`can't print ${str(n)} of type ${goTypeName(v)}`);
    this.out.push(formatValue(v));
  }

  private evalPipeline(dot: unknown, pipe: Pipe): unknown {
    this.at(pipe);
    let v: unknown = NOFINAL;
    for (const c of pipe.cmds) v = this.evalCommand(dot, c, v);
    for (const name of pipe.decl) {
      if (pipe.isAssign) this.setVar(name, v);
      else this.vars.push({ name, value: v });
    }
    return v;
  }

  private notAFunction(args: Arg[], final: unknown) {
    if (args.length > 1 || final !== NOFINAL) this.errorf(`can't give argument to non-function ${str(args[0])}`);
  }

  private evalCommand(dot: unknown, cmd: Cmd, final: unknown): unknown {
    const first = cmd.args[0];
    switch (first.k) {
      case 'field': this.at(first); return this.evalFieldChain(dot, dot, first, first.ident, cmd.args, final);
      case 'chain': return this.evalChain(dot, first, cmd.args, final);
      case 'ident': return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe': this.notAFunction(cmd.args, final); return this.evalPipeline(dot, first);
      case 'var': return this.evalVariable(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.k) {
      case 'dot': return dot;
      case 'nil': this.errorf('nil is not a command');
      default: return first.value;
    }
  }

  private evalVariable(dot: unknown, v: Extract<Arg, { k: 'var' }>, args: Arg[], final: unknown): unknown {
    this.at(v);
    const value = this.varValue(v.ident[0]);
    if (v.ident.length === 1) { this.notAFunction(args, final); return value; }
    return this.evalFieldChain(dot, value, v, v.ident.slice(1), args, final);
  }

  private evalChain(dot: unknown, c: Extract<Arg, { k: 'chain' }>, args: Arg[], final: unknown): unknown {
    this.at(c);
    if (c.node.k === 'nil') this.errorf(`indirection through explicit nil in ${str(c)}`);
    const v = this.evalArg(dot, c.node, 'value');
    return this.evalFieldChain(dot, v, c, c.fields, args, final);
  }

  private evalFieldChain(dot: unknown, recv: unknown, node: AnyNode, ident: string[], args: Arg[], final: unknown): unknown {
    for (let i = 0; i < ident.length - 1; i++) recv = this.evalField(dot, ident[i], node, [], NOFINAL, recv);
    return this.evalField(dot, ident[ident.length - 1], node, args, final, recv);
  }

  private evalField(dot: unknown, name: string, node: AnyNode, args: Arg[], final: unknown, recv: unknown): unknown {
    if (recv === MISSING || recv === undefined) return MISSING;
    if (recv === null) this.errorf(`nil pointer evaluating interface {}.${name}`);
    if (typeof recv === 'object' && !Array.isArray(recv) && !(recv instanceof Date)) {
      const v = recv instanceof Map ? recv.get(name) : fieldOf(recv, name);
      // A function-valued property plays the part of a Go method: it is called, with any arguments.
      if (typeof v === 'function') {
        return this.evalCall(dot, { params: [], variadic: 'any', call: (...a) => v.apply(recv, a) }, node, name, args, final);
      }
      if (args.length > 1 || final !== NOFINAL) this.errorf(`${name} is not a method but has arguments`);
      if (v === undefined && goStructType(recv) !== undefined) this.errorf(`can't evaluate field ${name} in type ${goTypeName(recv)}`);
      return v === undefined ? MISSING : v;
    }
    this.errorf(`can't evaluate field ${name} in type ${goTypeName(recv)}`);
  }

  private evalFunction(dot: unknown, ident: Extract<Arg, { k: 'ident' }>, node: AnyNode, args: Arg[], final: unknown): unknown {
    this.at(ident);
    const fn = this.funcs[ident.name];
    if (!fn) this.errorf(`${goQuote(ident.name)} is not a defined function`);
    return this.evalCall(dot, fn, node, ident.name, args, final);
  }

  private evalCall(dot: unknown, fn: Fn, node: AnyNode, name: string, args: Arg[], final: unknown): unknown {
    const a = args.slice(1);
    const numIn = a.length + (final !== NOFINAL ? 1 : 0);
    const nFixed = fn.params.length;
    if (fn.variadic) {
      if (numIn < nFixed) this.errorf(`wrong number of args for ${name}: want at least ${nFixed} got ${a.length}`);
    } else if (numIn !== nFixed) this.errorf(`wrong number of args for ${name}: want ${nFixed} got ${numIn}`);
    if (fn.andOr) {
      // and/or short-circuit and return the deciding operand itself.
      let v: unknown;
      for (const n of a) {
        v = this.evalArg(dot, n, 'value');
        if (truth(v) === (name === 'or')) return v;
      }
      return final !== NOFINAL ? final : v;
    }
    const argv: unknown[] = [];
    let i = 0;
    for (; i < nFixed && i < a.length; i++) argv.push(this.evalArg(dot, a[i], fn.params[i]));
    for (; i < a.length; i++) argv.push(this.evalArg(dot, a[i], fn.variadic!));
    if (final !== NOFINAL) {
      const t = fn.variadic && numIn - 1 >= nFixed ? fn.variadic : fn.params[numIn - 1];
      argv.push(this.validate(final, t));
    }
    try {
      const r = fn.call(...argv);
      return r === undefined ? MISSING : r;
    } catch (e) {
      if (e instanceof ExecError) throw e;
      this.at(node);
      this.errorf(`error calling ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private validate(v: unknown, type: PType): unknown {
    if (v === MISSING || v === undefined) {
      if (type === 'value') return MISSING;
      if (type === 'any') return null;
      this.errorf(`invalid value; expected ${PTYPE_NAME[type]}`);
    }
    const bad = (type === 'string' && typeof v !== 'string') || (type === 'int' && !(typeof v === 'number' && Number.isInteger(v)));
    if (bad) this.errorf(`wrong type for value; expected ${PTYPE_NAME[type]}; got ${v === null ? 'interface {}' : goTypeName(v)}`);
    return v;
  }

  private evalArg(dot: unknown, n: Arg, type: PType): unknown {
    this.at(n);
    switch (n.k) {
      case 'dot': return this.validate(dot, type);
      case 'nil':
        if (type === 'any' || type === 'value') return null;
        this.errorf(`cannot assign nil to ${PTYPE_NAME[type]}`);
      case 'field': return this.validate(this.evalFieldChain(dot, dot, n, n.ident, [n], NOFINAL), type);
      case 'var': return this.validate(this.evalVariable(dot, n, [n], NOFINAL), type);
      case 'pipe': return this.validate(this.evalPipeline(dot, n), type);
      case 'ident': return this.validate(this.evalFunction(dot, n, n, [n], NOFINAL), type);
      case 'chain': return this.validate(this.evalChain(dot, n, [n], NOFINAL), type);
    }
    if (type === 'string' && n.k !== 'string') this.errorf(`expected string; found ${str(n)}`);
    if (type === 'int' && !(n.k === 'number' && Number.isInteger(n.value))) this.errorf(`expected integer; found ${str(n)}`);
    return n.value;
  }
}

// ---------------------------------------------------------------------------------------------
// API

export interface TemplateOptions {
  /** Turn the two-character sequences `\t` and `\n` into tab and newline before parsing, as the docker CLI does (default true). */
  escapes?: boolean;
  /** Extra template functions; they receive their arguments as JS values (nil as null). */
  funcs?: Record<string, (...args: any[]) => unknown>;
  /** The template's name in error messages (docker names a few: "version"); default none. */
  name?: string;
}

/** A parsed template; parse once, execute per row. */
export class Template {
  readonly source: string;
  private readonly root: Node[];
  private readonly funcs: Record<string, Fn>;
  private readonly name: string;

  constructor(tpl: string, opts: TemplateOptions = {}) {
    this.source = opts.escapes === false ? tpl : tpl.replace(/\\([tn])/g, (_m, c: string) => (c === 't' ? '\t' : '\n'));
    this.funcs = { ...BUILTINS };
    for (const [name, f] of Object.entries(opts.funcs ?? {})) this.funcs[name] = variadic([], 'any', f);
    this.name = opts.name ?? '';
    this.root = new Parser(lex(this.source), new Set(Object.keys(this.funcs)), this.name).parse();
  }

  /** Render with `data` as dot; throws Go's "template: :L:C: executing ..." errors (with `partial`: the output so far). */
  execute(data: unknown): string {
    const s = new State(this.source, this.funcs, data ?? MISSING, this.name);
    try { s.walkList(data ?? MISSING, this.root); } catch (e) {
      // the output written before the error (Go's Execute leaves it in the writer)
      if (e instanceof ExecError) Object.assign(e, { partial: s.out.join('') });
      throw e;
    }
    return s.out.join('');
  }

  /**
   * Render a table header the way docker does: the string-mangling functions pass the column
   * title through unchanged, and an execution error keeps whatever was written before it.
   */
  executeHeader(header: unknown): string {
    const s = new State(this.source, { ...this.funcs, ...HEADER_FUNCS }, header);
    try { s.walkList(header, this.root); } catch (e) { if (!(e instanceof ExecError)) throw e; }
    return s.out.join('');
  }
}

/** Parse a Go template; throws `template: :1: ...` errors for bad syntax or unknown functions. */
export function parseTemplate(tpl: string, opts?: TemplateOptions): Template {
  return new Template(tpl, opts);
}

/** Render a docker --format template against `data`. */
export function renderTemplate(tpl: string, data: unknown, opts?: TemplateOptions): string {
  return new Template(tpl, opts).execute(data);
}
