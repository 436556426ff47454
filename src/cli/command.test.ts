import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkArgs, parseArgs, tokenize, type CmdDef, type OptDef } from './command.js';
import { UsageError } from './errors.js';

const opts: OptDef[] = [
  { long: 'all', short: 'a', kind: 'bool', desc: '' },
  { long: 'quiet', short: 'q', kind: 'bool', desc: '' },
  { long: 'human', short: 'H', kind: 'bool', desc: '', def: true },
  { long: 'no-trunc', kind: 'bool', desc: '' },
  { long: 'env', short: 'e', kind: 'list', desc: '' },
  { long: 'name', kind: 'string', desc: '' },
  { long: 'last', short: 'n', kind: 'int', desc: '', def: -1 },
  { long: 'network', kind: 'list', desc: '', alias: ['net'] },
];

test('pflag syntax: combined shorthands, =values, attached values, aliases', () => {
  const r = parseArgs({ name: 'x', options: opts }, ['-aq', '-eA=1', '-e=B=2', '--env', 'C', '--name=web', '-n', '3', '--net', 'host', 'arg']);
  assert.equal(r.opts.all, true);
  assert.equal(r.opts.quiet, true);
  assert.deepEqual(r.opts.env, ['A=1', 'B=2', 'C']);
  assert.equal(r.opts.name, 'web');
  assert.equal(r.opts.last, 3);
  assert.deepEqual(r.opts.network, ['host']);
  assert.deepEqual(r.args, ['arg']);
  assert.ok(r.opts._changed.has('name'));
  assert.ok(!r.opts._changed.has('quiet') === false);
});

test('booleans accept =true/=false; defaults apply', () => {
  const r = parseArgs({ name: 'x', options: opts }, ['-H=false', '--no-trunc', '--all=false']);
  assert.equal(r.opts.human, false);
  assert.equal(r.opts.noTrunc, true);
  assert.equal(r.opts.all, false);
  const d = parseArgs({ name: 'x', options: opts }, []);
  assert.equal(d.opts.human, true);
  assert.equal(d.opts.last, -1);
  assert.deepEqual(d.opts.env, []);
  assert.throws(() => parseArgs({ name: 'x', options: opts }, ['--all=maybe']), /invalid argument "maybe" for "-a, --all" flag: strconv.ParseBool: parsing "maybe": invalid syntax/);
});

test('negative numbers are values; interspersed positionals', () => {
  const r = parseArgs({ name: 'x', options: opts }, ['a', '-n', '-1', 'b', '-q']);
  assert.equal(r.opts.last, -1);
  assert.deepEqual(r.args, ['a', 'b']);
  assert.equal(r.opts.quiet, true);
});

test('non-interspersed commands stop at the first positional', () => {
  const r = parseArgs({ name: 'run', options: opts, interspersed: false }, ['-q', 'img', 'ls', '-a', '--', '-x']);
  assert.equal(r.opts.quiet, true);
  assert.equal(r.opts.all, false);
  assert.deepEqual(r.args, ['img', 'ls', '-a', '--', '-x']);
});

test('pflag error texts', () => {
  assert.throws(() => tokenize(['--bogus'], opts), (e: unknown) => e instanceof UsageError && e.message === 'unknown flag: --bogus');
  assert.throws(() => tokenize(['-aZ'], opts), /^Error: unknown shorthand flag: 'Z' in -aZ$/);
  assert.throws(() => tokenize(['--name'], opts), /flag needs an argument: --name/);
  assert.throws(() => tokenize(['-e'], opts), /flag needs an argument: 'e' in -e/);
  assert.throws(() => parseArgs({ name: 'x', options: opts }, ['-n', 'abc']), /invalid argument "abc" for "-n, --last" flag: strconv.ParseInt: parsing "abc": invalid syntax/);
});

test('help flags', () => {
  assert.equal(tokenize(['--help'], opts).help, true);
  assert.equal(tokenize(['-h'], opts).help, true);
  assert.throws(() => tokenize(['-h'], opts, { hNotHelp: true }), /unknown shorthand flag: 'h' in -h/);
});

test('argument count messages (docker wording) and exit codes', () => {
  const def = (args: CmdDef['args'], usageExit?: number): CmdDef => ({ name: 'x', usage: '[OPTIONS] A', short: 'Do x', args, usageExit, run: async () => 0 });
  const msg = (d: CmdDef, a: string[]) => { try { checkArgs(d, 'shoal x', a); return ''; } catch (e) { return `${(e as UsageError).code} ${(e as Error).message.split('\n')[0]}`; } };
  assert.equal(msg(def({ min: 1 }, 125), []), '125 "shoal x" requires at least 1 argument.');
  assert.equal(msg(def({ min: 2 }), ['a']), '1 "shoal x" requires at least 2 arguments.');
  assert.equal(msg(def({ min: 1, max: 1 }), []), '1 "shoal x" requires exactly 1 argument.');
  assert.equal(msg(def({ max: 0 }), ['a']), '1 "shoal x" accepts no arguments.');
  assert.equal(msg(def({ max: 1 }), ['a', 'b']), '1 "shoal x" requires at most 1 argument.');
  assert.equal(msg(def({ min: 1, max: 2 }), []), '1 "shoal x" requires at least 1 and at most 2 arguments.');
  try { checkArgs(def({ min: 1 }), 'shoal x', []); } catch (e) {
    assert.equal((e as Error).message, `"shoal x" requires at least 1 argument.\nSee 'shoal x --help'.\n\nUsage:  shoal x [OPTIONS] A\n\nDo x`);
  }
});
