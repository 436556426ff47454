import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayWidth, formatRows, headerName, tabwrite, tabwriteText } from './table.js';

const PS_DEFAULT = 'table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}\\t{{.Names}}';
const PS_HEADERS = { ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', RunningFor: 'CREATED', Status: 'STATUS', Ports: 'PORTS', Names: 'NAMES' };
const IMAGES_DEFAULT = 'table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}';
const IMAGES_HEADERS = { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', CreatedSince: 'CREATED', Size: 'SIZE' };

const ctrs = [
  { ID: '4f66ad9a0b2e', Image: 'nginx:1.27', Command: '"/docker-entrypoint.…"', RunningFor: '2 hours ago', Status: 'Up 2 hours', Ports: '0.0.0.0:8080->80/tcp', Names: 'web' },
  { ID: 'c0ffee123456', Image: 'redis', Command: '"docker-entrypoint.s…"', RunningFor: '3 days ago', Status: 'Exited (0) 2 days ago', Ports: '', Names: 'cache' },
];

test('tabwrite pads every cell but the last to max(width + 3, 10)', () => {
  assert.equal(tabwrite([['a', 'bb', 'c'], ['dddddddddddd', 'e', 'f']]),
    'a              bb        c\n' +
    'dddddddddddd   e         f\n');
  assert.equal(tabwrite([['x']]), 'x\n');
  assert.equal(tabwrite([]), '');
  assert.equal(tabwrite([['last cell is never padded', 'z']]), 'last cell is never padded   z\n');
  assert.equal(tabwrite([['a', 'b'], ['long trailing cell'], ['c', 'd']]), 'a         b\nlong trailing cell\nc         d\n');
});

test('tabwrite reproduces the docker ps / images headers exactly', () => {
  assert.equal(tabwrite([['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES']]),
    'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n');
  assert.equal(tabwrite([['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']]),
    'REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n');
});

test('tabwriteText: columns are blocks of consecutive lines that have the cell', () => {
  // The "b" column of lines 1-2 and the "cccc" column of line 4 are distinct (elastic tabstops).
  assert.equal(tabwriteText('aaaa\tbbbbbbbbbbbb\td\naa\tb\tdd\na\t\naa\tcccc\teee\n'),
    'aaaa      bbbbbbbbbbbb   d\n' +
    'aa        b              dd\n' +
    'a         \n' +
    'aa        cccc      eee\n');
  // A line without tabs ends every column block.
  assert.equal(tabwriteText('x\tverylongcell\ty\nx\tz\n\nx\tq\tw\n'),
    'x         verylongcell   y\n' +
    'x         z\n' +
    '\n' +
    'x         q         w\n');
  // A trailing tab makes the previous cell part of a column (and emits padding).
  assert.equal(tabwriteText('a\t\n'), 'a         \n');
  assert.equal(tabwriteText('a\tb\t\nccc\td\t\n'), 'a         b         \nccc       d         \n');
  // Empty cells are padded too.
  assert.equal(tabwriteText('\tx\nlonger cell\ty\n'), '              x\nlonger cell   y\n');
});

test('tabwriteText: unterminated last line, vertical tabs and form feeds', () => {
  assert.equal(tabwriteText('a\tb\nc\td'), 'a         b\nc         d');
  assert.equal(tabwriteText('a\tb\nc\t'), 'a         b\nc'); // a trailing empty cell is dropped by Flush
  assert.equal(tabwriteText('a\vb\n'), 'a         b\n');
  assert.equal(tabwriteText('aaaaaaaaaaaaaa\tb\fc\td\n'), 'aaaaaaaaaaaaaa   b\nc         d\n');
  assert.equal(tabwriteText(''), '');
});

test('displayWidth counts wide characters as 2 and combining marks as 0, like go-runewidth', () => {
  assert.equal(displayWidth('abc'), 3);
  assert.equal(displayWidth('日本語'), 6);
  assert.equal(displayWidth('한국'), 4);
  assert.equal(displayWidth('ｆｕｌｌ'), 8);
  assert.equal(displayWidth('é'), 1);
  assert.equal(displayWidth('e\u0301'), 1);
  assert.equal(displayWidth('🐳'), 2);
  assert.equal(displayWidth('👨‍👩‍👧'), 2);
  assert.equal(displayWidth('…'), 1);
  assert.equal(tabwrite([['日本', 'x'], ['abcdefghijk', 'y']]), '日本          x\nabcdefghijk   y\n');
});

test('headerName splits CamelCase field names like docker headers', () => {
  assert.equal(headerName('CreatedAt'), 'CREATED AT');
  assert.equal(headerName('ID'), 'ID');
  assert.equal(headerName('LocalVolumes'), 'LOCAL VOLUMES');
  assert.equal(headerName('CPUPerc'), 'CPU PERC');
  assert.equal(headerName('NetIO'), 'NET IO');
  assert.equal(headerName('Names'), 'NAMES');
  assert.equal(headerName('health_status'), 'HEALTH STATUS');
});

test('formatRows: default table format (docker ps)', () => {
  const want =
    'CONTAINER ID   IMAGE        COMMAND                  CREATED       STATUS                  PORTS                  NAMES\n' +
    '4f66ad9a0b2e   nginx:1.27   "/docker-entrypoint.…"   2 hours ago   Up 2 hours              0.0.0.0:8080->80/tcp   web\n' +
    'c0ffee123456   redis        "docker-entrypoint.s…"   3 days ago    Exited (0) 2 days ago                          cache\n';
  assert.equal(formatRows(undefined, PS_DEFAULT, ctrs, PS_HEADERS), want);
  assert.equal(formatRows('', PS_DEFAULT, ctrs, PS_HEADERS), want);
  assert.equal(formatRows('table', PS_DEFAULT, ctrs, PS_HEADERS), want);
});

test('formatRows: a table with no rows still prints the header', () => {
  assert.equal(formatRows(undefined, PS_DEFAULT, [], PS_HEADERS), 'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n');
  assert.equal(formatRows(undefined, IMAGES_DEFAULT, [], IMAGES_HEADERS), 'REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n');
});

test('formatRows: custom table formats', () => {
  assert.equal(formatRows('table {{.Names}}\\t{{.Status}}', PS_DEFAULT, ctrs, PS_HEADERS),
    'NAMES     STATUS\n' +
    'web       Up 2 hours\n' +
    'cache     Exited (0) 2 days ago\n');
  // fields without a header get a derived title; header functions leave titles intact
  assert.equal(formatRows('table {{truncate .ID 4}}\t{{.CreatedAt}}\t{{lower .Names}}', PS_DEFAULT,
    [{ ID: 'abcdef', CreatedAt: '2024-01-02', Names: 'WEB' }], PS_HEADERS),
    'CONTAINER ID   CREATED AT   NAMES\n' +
    'abcd           2024-01-02   web\n');
  // "table" needs no space, and surrounding spaces are trimmed
  assert.equal(formatRows('table{{.Names}}  ', PS_DEFAULT, ctrs, PS_HEADERS), 'NAMES\nweb\ncache\n');
  // pad is not a header function: it pads the title as well
  assert.equal(formatRows('table {{pad .Names 1 1}}|', PS_DEFAULT, ctrs.slice(0, 1), PS_HEADERS), ' NAMES |\n web |\n');
});

test('formatRows: header for methods like .Label uses the last label component', () => {
  const rows = [{ Names: 'web', Label: (k: string) => ({ 'com.docker.compose.project': 'shop' } as Record<string, string>)[k] ?? '' }];
  assert.equal(formatRows('table {{.Names}}\t{{.Label "com.docker.compose.project"}}', PS_DEFAULT, rows, PS_HEADERS),
    'NAMES     project\nweb       shop\n');
});

test('formatRows: non-table formats print one rendered line per row, no header', () => {
  assert.equal(formatRows('{{.ID}}: {{.Names}}', PS_DEFAULT, ctrs, PS_HEADERS), '4f66ad9a0b2e: web\nc0ffee123456: cache\n');
  assert.equal(formatRows('{{.Names}}\\t{{.Status}}', PS_DEFAULT, ctrs, PS_HEADERS), 'web\tUp 2 hours\ncache\tExited (0) 2 days ago\n');
  assert.equal(formatRows('{{.Names}}', PS_DEFAULT, [], PS_HEADERS), '');
  assert.equal(formatRows(' {{.Names}} ', PS_DEFAULT, ctrs.slice(0, 1), PS_HEADERS), 'web\n');
});

test('formatRows: json prints each row as a JSON object with sorted keys', () => {
  assert.equal(formatRows('json', PS_DEFAULT, [{ Names: 'web', ID: 'abc', Labels: 'a=b' }], PS_HEADERS),
    '{"ID":"abc","Labels":"a=b","Names":"web"}\n');
  assert.equal(formatRows('{{json .}}', PS_DEFAULT, [{ b: 1, a: 2 }], PS_HEADERS), '{"a":2,"b":1}\n');
  assert.equal(formatRows('json', PS_DEFAULT, [], PS_HEADERS), '');
});

test('formatRows: quiet prints only IDs and ignores --format', () => {
  assert.equal(formatRows(undefined, PS_DEFAULT, ctrs, PS_HEADERS, { quiet: true }), '4f66ad9a0b2e\nc0ffee123456\n');
  assert.equal(formatRows('table {{.Names}}', PS_DEFAULT, ctrs, PS_HEADERS, { quiet: true }), '4f66ad9a0b2e\nc0ffee123456\n');
  assert.equal(formatRows(undefined, 'table {{.Name}}', [{ Name: 'vol1' }], {}, { quiet: true, quietFormat: '{{.Name}}' }), 'vol1\n');
});

test('formatRows: errors are reported like docker', () => {
  assert.throws(() => formatRows('{{.Names | nope}}', PS_DEFAULT, ctrs, PS_HEADERS),
    { message: 'template parsing error: template: :1: function "nope" not defined' });
  assert.throws(() => formatRows('{{.Names.X}}', PS_DEFAULT, ctrs, PS_HEADERS),
    { message: 'template parsing error: template: :1:8: executing "" at <.Names.X>: can\'t evaluate field X in type string' });
  // a bad template is rejected even when there is nothing to print
  assert.throws(() => formatRows('table {{if}}', PS_DEFAULT, [], PS_HEADERS), /missing value for if/);
});
