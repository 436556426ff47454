import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTemplate, renderTemplate } from './go-template.js';

const ctr = {
  Id: '4f66ad9a0b2e',
  Name: '/web',
  Names: 'web',
  Args: ['-g', 'daemon off;'],
  State: { Status: 'running', Running: true, Pid: 4242, ExitCode: 0, Health: null },
  Config: {
    Image: 'nginx:1.27',
    Labels: { 'com.docker.compose.project': 'shop', maintainer: 'NGINX <docker-maint@nginx.com>' },
    Env: ['PATH=/usr/bin', 'NGINX_VERSION=1.27.0'],
    Cmd: null,
  },
  Mounts: [
    { Type: 'volume', Source: '/var/lib/docker/volumes/data/_data', Destination: '/data' },
    { Type: 'bind', Source: '/etc/nginx', Destination: '/etc/nginx' },
  ],
  NetworkSettings: { Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }], '443/tcp': null } },
  Empty: [],
  Count: 3,
  Ratio: 0.25,
  Big: 1234567.5,
};
const r = (tpl: string, data: unknown = ctr) => renderTemplate(tpl, data);
const err = (tpl: string, message: string, data: unknown = ctr) => assert.throws(() => r(tpl, data), { message });

test('field access, nesting and dot', () => {
  assert.equal(r('{{.Names}}'), 'web');
  assert.equal(r('{{.State.Status}}'), 'running');
  assert.equal(r('{{ .State.Pid }}'), '4242');
  assert.equal(r('{{.State.Running}}'), 'true');
  assert.equal(r('{{.Ratio}} {{.Big}}'), '0.25 1.2345675e+06');
  assert.equal(r('{{.}}', 'plain'), 'plain');
  assert.equal(r('{{.}}', 42), '42');
  assert.equal(r('{{.Config.Labels}}'), 'map[com.docker.compose.project:shop maintainer:NGINX <docker-maint@nginx.com>]');
  assert.equal(r('{{.Args}}'), '[-g daemon off;]');
  assert.equal(r('{{.Config.Env}}'), '[PATH=/usr/bin NGINX_VERSION=1.27.0]');
  assert.equal(r('{{.Empty}}'), '[]');
  assert.equal(r('{{.}}', { b: { y: 2, x: [1, 'a'] }, a: null }), 'map[a:<nil> b:map[x:[1 a] y:2]]');
  assert.equal(r('plain text only'), 'plain text only');
  assert.equal(r(''), '');
});

test('missing keys print <no value>, nil prints <nil>', () => {
  assert.equal(r('{{.Nope}}'), '<no value>');
  assert.equal(r('{{.Nope.Deeper}}'), '<no value>');
  assert.equal(r('{{.Config.Cmd}}'), '<nil>');
  assert.equal(r('{{.State.Health}}'), '<nil>');
  assert.equal(r('{{.}}', null), '<no value>');
  assert.equal(r('{{.X}}', undefined), '<no value>');
  assert.equal(r('{{.NetworkSettings.Ports}}'), 'map[443/tcp:<nil> 80/tcp:[map[HostIp:0.0.0.0 HostPort:8080]]]');
});

test('json is compact Go JSON without a trailing newline', () => {
  assert.equal(r('{{json .State}}'), '{"Status":"running","Running":true,"Pid":4242,"ExitCode":0,"Health":null}');
  assert.equal(r('{{json .Config.Labels}}'), '{"com.docker.compose.project":"shop","maintainer":"NGINX <docker-maint@nginx.com>"}');
  assert.equal(r('{{json .Args}}'), '["-g","daemon off;"]');
  assert.equal(r('{{json .Config.Cmd}}'), 'null');
  assert.equal(r('{{json .Nope}}'), 'null');
  assert.equal(r('{{json .Names}}'), '"web"');
  assert.equal(r('{{.Mounts | json}}'), JSON.stringify(ctr.Mounts));
  assert.equal(r('{{json .}}', { a: 1, b: [true, null] }), '{"a":1,"b":[true,null]}');
  err('{{json .}}', 'template: :1:2: executing "" at <json .>: error calling json: json: unsupported value: NaN', { x: NaN });
});

test('pipelines and docker string functions', () => {
  assert.equal(r('{{.Names | upper}}'), 'WEB');
  assert.equal(r('{{upper .Names}}'), 'WEB');
  assert.equal(r('{{lower "ABC Déf"}}'), 'abc déf');
  assert.equal(r('{{upper "straße"}}'), 'STRAßE'); // per-rune mapping like Go, no "SS" expansion
  assert.equal(r('{{title "hello wide-world foo_bar"}}'), 'Hello Wide-World Foo_bar');
  assert.equal(r('{{join .Args " "}}'), '-g daemon off;');
  assert.equal(r('{{join .Config.Env ","}}'), 'PATH=/usr/bin,NGINX_VERSION=1.27.0');
  assert.equal(r('{{join .Config.Labels ","}}'), 'NGINX <docker-maint@nginx.com>,shop'); // map values, sorted
  assert.equal(r('{{join .Config.Cmd ","}}'), '');
  assert.equal(r('{{join .Nums "+"}}', { Nums: [1, 2.5, true] }), '1+2.5+true');
  assert.equal(r('{{split "a,b,c" ","}}'), '[a b c]');
  assert.equal(r('{{index (split .Config.Image ":") 1}}'), '1.27');
  assert.equal(r('{{len (split "" ",")}}'), '1');
  assert.equal(r('{{split "héllo" ""}}'), '[h é l l o]');
  assert.equal(r('{{truncate .Id 4}}'), '4f66');
  assert.equal(r('{{truncate .Id 40}}'), '4f66ad9a0b2e');
  assert.equal(r('{{truncate .Id 12}}'), '4f66ad9a0b2e');
  assert.equal(r('[{{pad .Names 2 1}}]'), '[  web ]');
  assert.equal(r('[{{pad "" 2 1}}]'), '[]');
  assert.equal(r('{{.Names | printf "%-6s|"}}'), 'web   |');
  assert.equal(r('{{.Names | upper | printf "<%s>"}}'), '<WEB>');
});

test('len, index, slice', () => {
  assert.equal(r('{{len .Args}}'), '2');
  assert.equal(r('{{len .Config.Labels}}'), '2');
  assert.equal(r('{{len "héllo"}}'), '6'); // bytes, like Go
  assert.equal(r('{{index .Args 1}}'), 'daemon off;');
  assert.equal(r('{{index .Config.Labels "com.docker.compose.project"}}'), 'shop');
  assert.equal(r('[{{index .Config.Labels "missing"}}]'), '[]'); // zero value of map[string]string
  assert.equal(r('{{index .NetworkSettings.Ports "80/tcp" 0 "HostPort"}}'), '8080');
  assert.equal(r('{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}'), '8080');
  assert.equal(r('{{index .M "missing"}}', { M: { a: 1 } }), '<no value>');
  assert.equal(r('{{index "abc" 1}}'), '98');
  assert.equal(r('{{slice "abcdef" 1 3}} {{slice .Args 1}}'), 'bc [daemon off;]');
  err('{{index .Args 5}}', 'template: :1:2: executing "" at <index .Args 5>: error calling index: index out of range: 5');
  err('{{index .Args "x"}}', 'template: :1:2: executing "" at <index .Args "x">: error calling index: cannot index slice/array with type string');
  err('{{index .Count 1}}', 'template: :1:2: executing "" at <index .Count 1>: error calling index: can\'t index item of type int');
  err('{{index .Nope 1}}', 'template: :1:2: executing "" at <index .Nope 1>: error calling index: index of untyped nil');
  err('{{len .Count}}', 'template: :1:2: executing "" at <len .Count>: error calling len: len of type int');
});

test('printf, print and println', () => {
  assert.equal(r('{{printf "%s has pid %d (%v) %q" .Names .State.Pid .State.Running .Names}}'), 'web has pid 4242 (true) "web"');
  assert.equal(r('{{printf "%.1f%%" .Ratio}}'), '0.2%'); // 0.25 is exact: ties to even
  assert.equal(r('{{printf "%05d" .Count}}'), '00003');
  assert.equal(r('{{printf "%s" .Nope}}'), '%!s(<nil>)');
  assert.equal(r('{{printf "%d"}}'), '%!d(MISSING)');
  assert.equal(r('{{printf "%v" .Args}}'), '[-g daemon off;]');
  assert.equal(r('{{print "a" 1 2 "b"}}'), 'a1 2b');
  assert.equal(r('{{print .Nope}}'), '<nil>');
  assert.equal(r('{{println "a" 1}}'), 'a 1\n');
  assert.equal(r('{{println}}'), '\n');
  assert.equal(r('{{printf "%x" 255}} {{printf "%d" 0x1F}} {{printf "%d" 0o17}} {{printf "%d" 1_000}}'), 'ff 31 15 1000');
  assert.equal(r("{{'a'}} {{printf \"%c\" 'b'}} {{1.5}} {{1e3}} {{-7}} {{+3}}"), '97 b 1.5 1000 -7 3');
});

test('range over slices, maps, ints, with else, break and continue', () => {
  assert.equal(r('{{range .Mounts}}{{.Source}}:{{.Destination}} {{end}}'), '/var/lib/docker/volumes/data/_data:/data /etc/nginx:/etc/nginx ');
  assert.equal(r('{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}'), 'com.docker.compose.project=shop;maintainer=NGINX <docker-maint@nginx.com>;');
  assert.equal(r('{{range $i, $a := .Args}}{{$i}}:{{$a}} {{end}}'), '0:-g 1:daemon off; ');
  assert.equal(r('{{range $a := .Args}}<{{$a}}>{{end}}'), '<-g><daemon off;>');
  assert.equal(r('{{range $p, $b := .NetworkSettings.Ports}}{{$p}}->{{if $b}}{{(index $b 0).HostPort}}{{else}}none{{end}} {{end}}'), '443/tcp->none 80/tcp->8080 ');
  assert.equal(r('{{range .M}}{{.}}{{end}}', { M: { b: 2, a: 1, c: 3 } }), '123'); // sorted by key
  assert.equal(r('{{range .M}}{{.}}{{end}}', { M: new Map([['b', 2], ['a', 1]]) }), '12');
  assert.equal(r('{{range .Empty}}x{{else}}none{{end}}'), 'none');
  assert.equal(r('{{range .Nope}}x{{else}}none{{end}}'), 'none');
  assert.equal(r('{{range .Config.Cmd}}x{{end}}'), '');
  assert.equal(r('{{range 3}}{{.}}{{end}}'), '012');
  assert.equal(r('{{range .Args}}{{$.Names}}{{end}}'), 'webweb');
  assert.equal(r('{{range .L}}{{if eq . 3}}{{break}}{{end}}{{.}}{{end}}', { L: [1, 2, 3, 4] }), '12');
  assert.equal(r('{{range .L}}{{if eq . 2}}{{continue}}{{end}}{{.}}{{end}}', { L: [1, 2, 3] }), '13');
  assert.equal(r('{{range .L}}[{{range .}}{{.}}{{end}}]{{end}}', { L: [[1, 2], [3]] }), '[12][3]');
  err('{{range .Names}}{{end}}', 'template: :1:8: executing "" at <.Names>: range can\'t iterate over web');
  err('{{range $i, $e := 3}}{{end}}', 'template: :1:18: executing "" at <3>: can\'t use 3 to iterate over more than one variable');
});

test('if / else if / with, and truthiness', () => {
  assert.equal(r('{{if .State.Running}}up{{else}}down{{end}}'), 'up');
  assert.equal(r('{{if .Nope}}a{{else if .Empty}}b{{else if .Count}}c{{else}}d{{end}}'), 'c');
  assert.equal(r('{{if eq .State.Status "running"}}yes{{end}}'), 'yes');
  assert.equal(r('{{if eq .State.Status "exited" "running"}}yes{{end}}'), 'yes');
  assert.equal(r('{{if ne .Names "web"}}a{{else}}b{{end}}'), 'b');
  assert.equal(r('{{if and .State.Running (gt .State.Pid 0)}}ok{{end}}'), 'ok');
  assert.equal(r('{{if or .Nope .Empty}}a{{else}}b{{end}}'), 'b');
  assert.equal(r('{{if not .Config.Cmd}}no cmd{{end}}'), 'no cmd');
  assert.equal(r('{{with .State}}{{.Status}}/{{.Pid}}{{end}}'), 'running/4242');
  assert.equal(r('{{with .Nope}}x{{else}}none{{end}}'), 'none');
  assert.equal(r('{{with .Nope}}x{{else with .Names}}{{.}}{{end}}'), 'web');
  for (const [v, want] of [[0, 'F'], [1, 'T'], ['', 'F'], ['0', 'T'], [[], 'F'], [[0], 'T'], [{}, 'F'], [{ a: 1 }, 'T'], [null, 'F'], [false, 'F'], [0.5, 'T']] as const) {
    assert.equal(r('{{if .V}}T{{else}}F{{end}}', { V: v }), want, `truth of ${JSON.stringify(v)}`);
  }
});

test('comparison and logic functions', () => {
  assert.equal(r('{{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}} {{lt 1.5 2.5}}'), 'true true true false true');
  assert.equal(r('{{eq .Nope "x"}} {{ne .Config.Cmd "x"}}'), 'false true');
  assert.equal(r('{{and 1 0}} {{and 1 "x"}} {{or 0 ""}} {{or 0 "x"}} {{not 0}} {{not "a"}}'), '0 x  x true false');
  // and/or short-circuit: the failing index is never evaluated
  assert.equal(r('{{or .Names (index .Args 99)}}'), 'web');
  assert.equal(r('{{and .Nope (index .Args 99)}}'), '<no value>');
  assert.equal(r('{{.Count | and 1}}'), '3');
  err('{{eq .Count "3"}}', 'template: :1:2: executing "" at <eq .Count "3">: error calling eq: incompatible types for comparison');
  err('{{lt true false}}', 'template: :1:2: executing "" at <lt true false>: error calling lt: invalid type for comparison');
  err('{{eq .Count}}', 'template: :1:2: executing "" at <eq .Count>: error calling eq: missing argument for comparison');
});

test('variables: declaration, assignment, scope and $', () => {
  assert.equal(r('{{$n := .Names}}{{range .Args}}{{$n}}:{{.}} {{end}}'), 'web:-g web:daemon off; ');
  assert.equal(r('{{$x := 1}}{{range .Args}}{{$x = .}}{{end}}{{$x}}'), 'daemon off;');
  assert.equal(r('{{$x := "a"}}{{if true}}{{$x := "b"}}{{$x}}{{end}}{{$x}}'), 'ba');
  assert.equal(r('{{with $s := .State}}{{$s.Status}}{{end}}'), 'running');
  assert.equal(r('{{$.State.Pid}}'), '4242');
  assert.equal(r('{{$}}', 'root'), 'root');
  assert.equal(r('{{$m := .Mounts}}{{(index $m 1).Type}}'), 'bind');
  err('{{$x}}', 'template: :1: undefined variable "$x"');
  err('{{if true}}{{$y := 1}}{{end}}{{$y}}', 'template: :1: undefined variable "$y"');
});

test('whitespace trim markers and comments', () => {
  assert.equal(r('a  {{- .Names -}}  b'), 'awebb');
  assert.equal(r('a \n\t{{- .Names}} b'), 'aweb b');
  assert.equal(r('{{.Names -}}\n\n  !'), 'web!');
  assert.equal(r('x {{- 3}}'), 'x3');
  assert.equal(r('x {{-3}}'), 'x -3');
  assert.equal(r('{{range .Args -}}\n  {{.}}\n{{- end}}'), '-gdaemon off;');
  assert.equal(r('a{{/* a comment */}}b'), 'ab');
  assert.equal(r('a {{- /* trimmed */ -}} b'), 'ab');
  assert.equal(r('{{/* multi\nline */}}{{.Names}}'), 'web');
});

test('escapes: literal \\t and \\n become tab and newline, as the docker CLI does', () => {
  assert.equal(r('{{.Names}}\\t{{.Count}}\\n'), 'web\t3\n');
  assert.equal(r('a\\\\tb'), 'a\\\tb'); // the replacement is plain text substitution, like strings.NewReplacer
  assert.equal(r('{{"x\\ty"}}'), 'x\ty');
  assert.equal(renderTemplate('{{.}}\\t{{`a\\tb`}}', 'v', { escapes: false }), 'v\\ta\\tb');
  // a newline inside a quoted string is not allowed by Go's lexer, so this docker format fails
  err('{{join .Args "\\n"}}', 'template: :1: unterminated quoted string');
});

test('string literals', () => {
  assert.equal(r('{{"a\\u00e9\\x41\\101\\"\\\\"}}'), 'aéAA"\\');
  assert.equal(r('{{`raw\\n"q"`}}', null), 'raw\n"q"'); // `\n` was replaced before parsing
  assert.equal(renderTemplate('{{`raw\\n`}}', null, { escapes: false }), 'raw\\n');
  assert.equal(r('{{"日本"}}'), '日本');
});

test('methods: function-valued properties are called with arguments', () => {
  const data = {
    labels: { 'com.example.tier': 'frontend' } as Record<string, string>,
    Label(this: { labels: Record<string, string> }, k: string) { return this.labels[k] ?? ''; },
    Upper: (s: string) => s.toUpperCase(),
    ID: () => 'abc',
  };
  assert.equal(r('{{.Label "com.example.tier"}}', data), 'frontend');
  assert.equal(r('{{.ID}}-{{"x" | .Upper}}', data), 'abc-X');
  class Ctx { constructor(private readonly id: string) {} get ID() { return this.id.slice(0, 3); } Names() { return 'n'; } }
  assert.equal(r('{{.ID}} {{.Names}} {{.Missing}}', new Ctx('abcdef')), 'abc n <no value>');
});

test('custom functions', () => {
  const t = parseTemplate('{{double .N | printf "%03d"}}', { funcs: { double: (n: number) => n * 2 } });
  assert.equal(t.execute({ N: 4 }), '008');
  assert.equal(t.execute({ N: 5 }), '010');
});

test('extra builtins: html, js, urlquery, call', () => {
  assert.equal(r('{{html "<a href=\'x\'>&</a>"}}'), '&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;');
  assert.equal(r('{{js "it\'s <b>"}}'), 'it\\\'s \\u003Cb\\u003E');
  assert.equal(r('{{urlquery "a b&c/d"}}'), 'a+b%26c%2Fd');
  assert.equal(r('{{call (index .Fns 0) 2 3}}', { Fns: [(a: number, b: number) => a + b] }), '5');
});

test('parse errors look like Go', () => {
  err('{{foo .}}', 'template: :1: function "foo" not defined');
  err('{{.Names', 'template: :1: unclosed action');
  err('x\n{{.Names\n\n', 'template: :4: unclosed action started at :2');
  err('{{if .X}}', 'template: :1: unexpected EOF');
  err('{{range .X}}a{{else}}b', 'template: :1: unexpected EOF');
  err('{{end}}', 'template: :1: unexpected {{end}}');
  err('{{else}}', 'template: :1: unexpected {{else}}');
  err('{{}}', 'template: :1: missing value for command');
  err('{{if}}{{end}}', 'template: :1: missing value for if');
  err('{{.Names !}}', 'template: :1: unexpected "!" in operand');
  err('{{.Names | "x"}}', 'template: :1: non executable command in pipeline stage 2');
  err('{{(.Names}}', 'template: :1: unclosed left paren');
  err('{{.Names)}}', 'template: :1: unexpected ")" in command');
  err('{{"abc}}', 'template: :1: unterminated quoted string');
  err('{{`abc}}', 'template: :1: unterminated raw quoted string');
  err('{{/* x }}', 'template: :1: unclosed comment');
  err('{{/* x */ .Names}}', 'template: :1: comment ends before closing delimiter');
  err('{{3x}}', 'template: :1: bad number syntax: "3x"');
  err('{{.Names#}}', 'template: :1: bad character U+0023 \'#\'');
  err('{{"a".X}}', 'template: :1: unexpected . after term "\\"a\\""');
  err('{{break}}', 'template: :1: {{break}} outside {{range}}');
  err('{{range .Args}}{{else}}{{break}}{{end}}', 'template: :1: {{break}} outside {{range}}');
  err('{{if .A}}\n{{else}}\n{{else}}{{end}}', 'template: :3: expected end; found {{else}}');
  err('{{"\\q"}}', 'template: :1: invalid syntax');
  err('\n\n{{.A | nope}}', 'template: :3: function "nope" not defined');
  err('{{define "x"}}{{end}}', 'template: :1: {{define}} is not supported');
});

test('execution errors look like Go (location, context, message)', () => {
  err('{{.Config.Cmd.X}}', 'template: :1:9: executing "" at <.Config.Cmd.X>: nil pointer evaluating interface {}.X');
  err('{{.Names.Foo}}', 'template: :1:8: executing "" at <.Names.Foo>: can\'t evaluate field Foo in type string');
  err('{{.Args.Foo}}', 'template: :1:7: executing "" at <.Args.Foo>: can\'t evaluate field Foo in type []interface {}');
  err('{{upper .Count}}', 'template: :1:8: executing "" at <.Count>: wrong type for value; expected string; got int');
  err('{{upper .Nope}}', 'template: :1:8: executing "" at <.Nope>: invalid value; expected string');
  err('{{upper 3}}', 'template: :1:8: executing "" at <3>: expected string; found 3');
  err('{{truncate .Names "2"}}', 'template: :1:18: executing "" at <"2">: expected integer; found "2"');
  err('{{.Count | upper}}', 'template: :1:11: executing "" at <upper>: wrong type for value; expected string; got int');
  err('{{join .Args}}', 'template: :1:2: executing "" at <join>: wrong number of args for join: want 2 got 1');
  err('{{printf}}', 'template: :1:2: executing "" at <printf>: wrong number of args for printf: want at least 1 got 0');
  err('{{join .Names ","}}', 'template: :1:2: executing "" at <join .Names ",">: error calling join: expected slice, got string');
  err('{{.Names 1}}', 'template: :1:2: executing "" at <.Names>: Names is not a method but has arguments');
  err('{{"x" 1}}', 'template: :1:2: executing "" at <"x">: can\'t give argument to non-function "x"');
  err('{{nil}}', 'template: :1:2: executing "" at <nil>: nil is not a command');
  err('{{pad .Names -1 0}}', 'template: :1:2: executing "" at <pad .Names -1 0>: error calling pad: strings: negative Repeat count');
  err('x\n  {{.Names.Foo.Bar.Baz.Qux}}', 'template: :2:10: executing "" at <.Names.Foo.Bar.Baz.Q...>: can\'t evaluate field Foo in type string');
  err('{{index .Config.Labels 1}}', 'template: :1:2: executing "" at <index .Config.Labels...>: error calling index: value has type int; should be string');
});

test('a parsed template can be executed repeatedly', () => {
  const t = parseTemplate('{{.ID}}\\t{{.Name}}');
  assert.equal(t.execute({ ID: 'a', Name: 'x' }), 'a\tx');
  assert.equal(t.execute({ ID: 'b', Name: 'y' }), 'b\ty');
});

test('executeHeader leaves titles intact and keeps output written before an error', () => {
  const h = { ID: 'CONTAINER ID', Names: 'NAMES', Size: 'SIZE' };
  assert.equal(parseTemplate('{{.ID | lower}}\t{{upper .Names}}\t{{truncate .Size 1}}\t{{json .ID}}').executeHeader(h), 'CONTAINER ID\tNAMES\tSIZE\tCONTAINER ID');
  assert.equal(parseTemplate('{{pad .ID 1 1}}').executeHeader(h), ' CONTAINER ID '); // pad is not overridden
  assert.equal(parseTemplate('{{.ID}}\t{{range .Names}}x{{end}}\t{{.Size}}').executeHeader(h), 'CONTAINER ID\t');
});

test('Go structs: fields in order, unknown fields are errors, named templates', async () => {
  const { GO_STRUCT } = await import('../../util/gofmt.js');
  const v: Record<string | symbol, unknown> = { Name: 'shoal', APIVersion: '1.41' };
  Object.defineProperty(v, GO_STRUCT, { value: '*types.Version' });
  assert.equal(renderTemplate('{{.APIVersion}} {{.}}', v), '1.41 {shoal 1.41}');
  assert.throws(() => renderTemplate('{{.ApiVersion}}', v, { name: 'version' }),
    { message: 'template: version:1:2: executing "version" at <.ApiVersion>: can\'t evaluate field ApiVersion in type *types.Version' });
  assert.throws(() => parseTemplate('{{.X', { name: 'version' }), { message: 'template: version:1: unclosed action' });
  // what was written before the error comes with it
  assert.throws(() => renderTemplate('a {{.Name}} {{.Nope}}', v), (e: Error & { partial?: string }) => e.partial === 'a shoal ');
});
