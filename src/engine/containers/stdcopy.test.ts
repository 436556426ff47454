import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { Demuxer, demux, formatTimestamp, frame } from './stdcopy.js';

describe('stdcopy', () => {
  it('frames with an 8-byte header', () => {
    assert.deepEqual([...frame(2, Buffer.from('hi'))], [2, 0, 0, 0, 0, 0, 0, 2, 0x68, 0x69]);
    assert.deepEqual([...frame(1, Buffer.alloc(0))], [1, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('demuxes frames split at every byte boundary', () => {
    const wire = Buffer.concat([frame(1, Buffer.from('out\n')), frame(2, Buffer.from('err')), frame(1, Buffer.alloc(0)), frame(1, Buffer.from('x'.repeat(300)))]);
    for (let step = 1; step <= wire.length; step++) {
      const d = new Demuxer();
      const got: [number, string][] = [];
      for (let i = 0; i < wire.length; i += step) for (const f of d.push(wire.subarray(i, i + step))) got.push([f.stream, f.data.toString()]);
      assert.deepEqual(got, [[1, 'out\n'], [2, 'err'], [1, ''], [1, 'x'.repeat(300)]], `step ${step}`);
      assert.equal(d.buffered, 0);
    }
  });

  it('holds back incomplete frames and rejects unknown streams', () => {
    const d = new Demuxer();
    assert.deepEqual(d.push(frame(1, Buffer.from('abc')).subarray(0, 9)), []);
    assert.equal(d.buffered, 9);
    assert.throws(() => new Demuxer().push(Buffer.from([7, 0, 0, 0, 0, 0, 0, 0])), /unrecognized stream 7/);
  });

  it('demux() reads a whole stream and detects truncation', async () => {
    const wire = Buffer.concat([frame(1, Buffer.from('a')), frame(2, Buffer.from('b'))]);
    const got: string[] = [];
    for await (const f of demux(Readable.from([wire.subarray(0, 5), wire.subarray(5)]))) got.push(`${f.stream}:${f.data}`);
    assert.deepEqual(got, ['1:a', '2:b']);
    await assert.rejects(async () => { for await (const _ of demux(Readable.from([wire.subarray(0, 12)]))) { /* drain */ } }, /ended inside a frame/);
  });

  it('formats timestamps like docker (fixed nanoseconds) or Go RFC3339Nano (trimmed)', () => {
    const t = 1795521154n * 1_000_000_000n;
    assert.equal(formatTimestamp(t + 685467485n), '2026-11-24T11:52:34.685467485Z');
    assert.equal(formatTimestamp(t + 685467400n), '2026-11-24T11:52:34.685467400Z');
    assert.equal(formatTimestamp(t), '2026-11-24T11:52:34.000000000Z');
    assert.equal(formatTimestamp(t + 685467400n, { trim: true }), '2026-11-24T11:52:34.6854674Z');
    assert.equal(formatTimestamp(t, { trim: true }), '2026-11-24T11:52:34Z');
    assert.equal(formatTimestamp(-1n), '1969-12-31T23:59:59.999999999Z');
  });
});
