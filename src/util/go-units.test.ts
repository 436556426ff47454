import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesSize, fromHumanSize, humanDuration, humanSize, parseBytes, parseDuration } from './go-units.js';

const KB = 1000, MB = KB * 1000, GB = MB * 1000, TB = GB * 1000, PB = TB * 1000;
const KiB = 1024, MiB = KiB * 1024, GiB = MiB * 1024, TiB = GiB * 1024, PiB = TiB * 1024;
const SEC = 1000, MIN = 60 * SEC, HOUR = 60 * MIN, DAY = 24 * HOUR, WEEK = 7 * DAY, MONTH = 30 * DAY, YEAR = 365 * DAY;

test('humanSize with precision 4 matches go-units HumanSize', () => {
  // go-units size_test.go TestHumanSize
  assert.equal(humanSize(1000, 4), '1kB');
  assert.equal(humanSize(1024, 4), '1.024kB');
  assert.equal(humanSize(1000000, 4), '1MB');
  assert.equal(humanSize(1048576, 4), '1.049MB');
  assert.equal(humanSize(2 * MB, 4), '2MB');
  assert.equal(humanSize(3.42 * GB, 4), '3.42GB');
  assert.equal(humanSize(5.372 * TB, 4), '5.372TB');
  assert.equal(humanSize(2.22 * PB, 4), '2.22PB');
  assert.equal(humanSize(10000000000000 * PB, 4), '1e+04YB');
});

test('humanSize defaults to docker CLI precision 3 (%.3g)', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(1), '1B');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(1000), '1kB');
  assert.equal(humanSize(1234), '1.23kB');
  assert.equal(humanSize(1234567), '1.23MB');
  assert.equal(humanSize(45.6e6), '45.6MB');
  assert.equal(humanSize(4.1e9), '4.1GB');
  assert.equal(humanSize(7.8e6), '7.8MB');
  assert.equal(humanSize(187654321), '188MB');
  // %.3g rounds 999.999 up to 1e+03 without moving to the next unit: a real docker quirk.
  assert.equal(humanSize(999999), '1e+03kB');
  assert.equal(humanSize(1125), '1.12kB'); // 1.125 is exact in binary: ties go to even
  assert.equal(humanSize(1135), '1.14kB');
  assert.equal(humanSize(-5), '-5B');
});

test('bytesSize matches go-units BytesSize', () => {
  assert.equal(bytesSize(0), '0B');
  assert.equal(bytesSize(1023), '1023B');
  assert.equal(bytesSize(1024), '1KiB');
  assert.equal(bytesSize(1024 * 1024), '1MiB');
  assert.equal(bytesSize(1572864), '1.5MiB');
  assert.equal(bytesSize(2 * MiB), '2MiB');
  assert.equal(bytesSize(3.42 * GiB), '3.42GiB');
  assert.equal(bytesSize(5.372 * TiB), '5.372TiB');
  assert.equal(bytesSize(2.22 * PiB), '2.22PiB');
  assert.equal(bytesSize(KiB * KiB * KiB * KiB * KiB * PiB), '1.049e+06YiB');
});

test('humanDuration matches go-units HumanDuration', () => {
  const cases: [number, string][] = [
    [0, 'Less than a second'],
    [450, 'Less than a second'],
    [999, 'Less than a second'],
    [-5 * MIN, 'Less than a second'],
    [1 * SEC, '1 second'],
    [1999, '1 second'],
    [45 * SEC, '45 seconds'],
    [46 * SEC, '46 seconds'],
    [59 * SEC, '59 seconds'],
    [60 * SEC, 'About a minute'],
    [119 * SEC, 'About a minute'],
    [3 * MIN, '3 minutes'],
    [35 * MIN, '35 minutes'],
    [35 * MIN + 40 * SEC, '35 minutes'],
    [45 * MIN, '45 minutes'],
    [45 * MIN + 40 * SEC, '45 minutes'],
    [46 * MIN, '46 minutes'],
    [59 * MIN, '59 minutes'],
    [1 * HOUR, 'About an hour'],
    [1 * HOUR + 29 * MIN, 'About an hour'],
    [1 * HOUR + 31 * MIN, '2 hours'],
    [1 * HOUR + 59 * MIN, '2 hours'],
    [3 * HOUR, '3 hours'],
    [3 * HOUR + 29 * MIN, '3 hours'],
    [3 * HOUR + 31 * MIN, '4 hours'],
    [3 * HOUR + 59 * MIN, '4 hours'],
    [3 * HOUR + 60 * MIN, '4 hours'],
    [24 * HOUR, '24 hours'],
    [1 * DAY + 12 * HOUR, '36 hours'],
    [2 * DAY, '2 days'],
    [7 * DAY, '7 days'],
    [13 * DAY + 5 * HOUR, '13 days'],
    [2 * WEEK, '2 weeks'],
    [2 * WEEK + 4 * DAY, '2 weeks'],
    [3 * WEEK, '3 weeks'],
    [4 * WEEK, '4 weeks'],
    [4 * WEEK + 3 * DAY, '4 weeks'],
    [1 * MONTH, '4 weeks'],
    [1 * MONTH + 2 * WEEK, '6 weeks'],
    [2 * MONTH, '2 months'],
    [2 * MONTH + 2 * WEEK, '2 months'],
    [3 * MONTH, '3 months'],
    [3 * MONTH + 1 * WEEK, '3 months'],
    [5 * MONTH + 2 * WEEK, '5 months'],
    [13 * MONTH, '13 months'],
    [23 * MONTH, '23 months'],
    [24 * MONTH, '24 months'],
    [24 * MONTH + 2 * WEEK, '2 years'],
    [3 * YEAR + 2 * MONTH, '3 years'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `humanDuration(${ms})`);
});

test('parseBytes matches go-units RAMInBytes', () => {
  const ok: [string, number][] = [
    ['32', 32], ['32b', 32], ['32B', 32],
    ['32k', 32 * KiB], ['32K', 32 * KiB], ['32kb', 32 * KiB], ['32Kb', 32 * KiB], ['32Kib', 32 * KiB], ['32KIB', 32 * KiB],
    ['32Mb', 32 * MiB], ['32Gb', 32 * GiB], ['32Tb', 32 * TiB], ['32Pb', 32 * PiB], ['32PB', 32 * PiB], ['32P', 32 * PiB],
    ['32.3', 32], ['32.3 mb', Math.trunc(32.3 * MiB)], ['0.3MB', Math.trunc(0.3 * MiB)],
    // the forms people pass to `docker run -m` / `--shm-size`
    ['64m', 67108864], ['512k', 524288], ['1g', 1073741824], ['1.5g', 1610612736], ['1 GiB', GiB], ['2G', 2 * GiB],
  ];
  for (const [s, want] of ok) assert.equal(parseBytes(s), want, `parseBytes(${JSON.stringify(s)})`);
  for (const s of ['', 'hello', '-32', ' 32 ', '32m b', '32bm']) assert.throws(() => parseBytes(s), Error, `parseBytes(${JSON.stringify(s)})`);
});

test('parseBytes error messages are go-units / strconv ones', () => {
  assert.throws(() => parseBytes('x'), { message: "invalid size: 'x'" });
  assert.throws(() => parseBytes(''), { message: "invalid size: ''" });
  assert.throws(() => parseBytes('-32'), { message: "invalid size: '-32'" });
  assert.throws(() => parseBytes('1x'), { message: "invalid suffix: 'x'" });
  assert.throws(() => parseBytes('32bm'), { message: "invalid suffix: 'bm'" });
  assert.throws(() => parseBytes('32MiBs'), { message: "invalid suffix: 'MiBs'" });
  assert.throws(() => parseBytes('32mx'), { message: "invalid suffix: 'mx'" });
  assert.throws(() => parseBytes('32mix'), { message: "invalid suffix: 'mix'" });
  assert.throws(() => parseBytes(' 32 '), { message: 'strconv.ParseFloat: parsing "": invalid syntax' });
  assert.throws(() => parseBytes('32m b'), { message: 'strconv.ParseFloat: parsing "32m": invalid syntax' });
  assert.throws(() => parseBytes('1.2.3'), { message: 'strconv.ParseFloat: parsing "1.2.3": invalid syntax' });
  assert.throws(() => parseBytes('1e400'), { message: 'strconv.ParseFloat: parsing "1e400": value out of range' });
});

test('parseBytes accepts what strconv.ParseFloat accepts', () => {
  assert.equal(parseBytes('1e3'), 1000);
  assert.equal(parseBytes('1e3k'), 1000 * KiB);
  assert.equal(parseBytes('1_000'), 1000);
  assert.equal(parseBytes('.5k'), 512);
  assert.equal(parseBytes('+2k'), 2048);
  assert.equal(parseBytes('0x1p4'), 16);
  assert.throws(() => parseBytes('1__0'), { message: 'strconv.ParseFloat: parsing "1__0": invalid syntax' });
});

test('fromHumanSize matches go-units FromHumanSize', () => {
  const ok: [string, number][] = [
    ['0', 0], ['0b', 0], ['0B', 0], ['0 B', 0], ['32', 32], ['32b', 32], ['32B', 32],
    ['32k', 32 * KB], ['32K', 32 * KB], ['32kb', 32 * KB], ['32Kb', 32 * KB], ['32Mb', 32 * MB], ['32Gb', 32 * GB],
    ['32Tb', 32 * TB], ['32Pb', 32 * PB], ['32.5kB', 32.5 * KB], ['32.5 kB', 32.5 * KB], ['32.5 B', 32],
    ['0.3 K', 300], ['.3kB', 300], ['0.', 0], ['0. ', 0], ['0.b', 0], ['0.B', 0], ['-0', 0], ['-0b', 0], ['-0B', 0],
    ['-0 b', 0], ['-0 B', 0], ['32.', 32], ['32.b', 32], ['32.B', 32], ['32. b', 32], ['32. B', 32], ['0 ', 0],
  ];
  for (const [s, want] of ok) assert.equal(fromHumanSize(s), want, `fromHumanSize(${JSON.stringify(s)})`);
  const bad = [' 0', ' 0b', ' 0B', ' 0 B', '0b ', '0B ', '0 B ', '', 'hello', '.', '. ', ' ', '  ', ' .', ' . ',
    '-32', '-32b', '-32B', '-32 b', '-32 B', '32b.', '32B.', '32 b.', '32 B.', '32 bb', '32 BB', '32 b b', '32 B B',
    '32  b', '32  B', ' 32 ', '32m b', '32bm'];
  for (const s of bad) assert.throws(() => fromHumanSize(s), Error, `fromHumanSize(${JSON.stringify(s)})`);
});

test('parseDuration follows time.ParseDuration, in milliseconds', () => {
  const ok: [string, number][] = [
    ['0', 0], ['+0', 0], ['-0', 0], ['10s', 10000], ['1m30s', 90000], ['500ms', 500], ['1h', 3600000],
    ['1.5h', 5400000], ['-2m', -120000], ['+5s', 5000], ['1h2m3s4ms', 3723004], ['.5s', 500], ['1.s', 1000],
    ['1us', 0.001], ['1µs', 0.001], ['1μs', 0.001], ['1500ns', 0.0015], ['2h45m', 9900000], ['0s', 0], ['0.000001ms', 0.000001],
    ['3m0.5s', 180500],
  ];
  for (const [s, want] of ok) assert.equal(parseDuration(s), want, `parseDuration(${JSON.stringify(s)})`);
});

test('parseDuration errors match Go', () => {
  assert.throws(() => parseDuration(''), { message: 'time: invalid duration ""' });
  assert.throws(() => parseDuration('3'), { message: 'time: missing unit in duration "3"' });
  assert.throws(() => parseDuration('10'), { message: 'time: missing unit in duration "10"' });
  assert.throws(() => parseDuration('10x'), { message: 'time: unknown unit "x" in duration "10x"' });
  assert.throws(() => parseDuration('1d'), { message: 'time: unknown unit "d" in duration "1d"' });
  assert.throws(() => parseDuration('-'), { message: 'time: invalid duration "-"' });
  assert.throws(() => parseDuration('s'), { message: 'time: invalid duration "s"' });
  assert.throws(() => parseDuration('.s'), { message: 'time: invalid duration ".s"' });
  assert.throws(() => parseDuration('1s 2m'), { message: 'time: unknown unit "s " in duration "1s 2m"' });
  assert.throws(() => parseDuration('3000000h'), { message: 'time: invalid duration "3000000h"' });
  assert.throws(() => parseDuration('9223372036854775808ns'), { message: 'time: invalid duration "9223372036854775808ns"' });
  assert.throws(() => parseDuration('1é'), { message: 'time: unknown unit "\\xc3\\xa9" in duration "1\\xc3\\xa9"' });
});

test('parseDuration accepts the extremes of time.Duration', () => {
  assert.equal(parseDuration('9223372036854775807ns'), 9223372036854.775807);
  assert.equal(parseDuration('-9223372036854775808ns'), -9223372036854.775808);
});

test('goDuration prints like Go', async () => {
  const { goDuration } = await import('./go-units.js');
  assert.deepEqual([0, 5e9, 60e9, 90.5e9, 3600e9, 5e8, 1500, 10].map(goDuration), ['0s', '5s', '1m0s', '1m30.5s', '1h0m0s', '500ms', '1.5µs', '10ns']);
});
