import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { encodeFrame, stdCopy, StdDemuxer } from './stdcopy.js';

test('demuxes frames split at any byte boundary', () => {
  const data = Buffer.concat([encodeFrame(1, 'hello '), encodeFrame(2, 'oops'), encodeFrame(1, 'world'), encodeFrame(1, '')]);
  for (let step = 1; step <= data.length; step++) {
    const d = new StdDemuxer();
    const got: string[] = [];
    for (let i = 0; i < data.length; i += step) {
      for (const f of d.push(data.subarray(i, i + step))) got.push(`${f.stream}:${f.data.toString()}`);
    }
    assert.deepEqual(got, ['1:hello ', '2:oops', '1:world', '1:'], `step ${step}`);
    assert.equal(d.buffered, 0);
  }
});

test('large frames', () => {
  const big = Buffer.alloc(100_000, 'x');
  const d = new StdDemuxer();
  const frame = encodeFrame(2, big);
  assert.deepEqual(d.push(frame.subarray(0, 50_000)), []);
  const out = d.push(frame.subarray(50_000));
  assert.equal(out.length, 1);
  assert.equal(out[0].stream, 2);
  assert.equal(out[0].data.length, 100_000);
});

test('rejects an unknown stream byte', () => {
  assert.throws(() => new StdDemuxer().push(Buffer.from([7, 0, 0, 0, 0, 0, 0, 1, 65])), /Unrecognized input header: 7/);
});

async function collect(frames: Buffer[]): Promise<{ out: string; err: string }> {
  const out = new PassThrough(); const err = new PassThrough();
  let o = ''; let e = '';
  out.on('data', (d) => { o += d; });
  err.on('data', (d) => { e += d; });
  await stdCopy(Readable.from(frames), out, err);
  return { out: o, err: e };
}

test('stdCopy routes stdout and stderr', async () => {
  const r = await collect([encodeFrame(1, 'a'), encodeFrame(2, 'b'), encodeFrame(1, 'c')]);
  assert.deepEqual(r, { out: 'ac', err: 'b' });
});

test('stdCopy reports a daemon error frame', async () => {
  await assert.rejects(collect([encodeFrame(1, 'a'), encodeFrame(3, 'boom')]), /error from daemon in stream: boom/);
});
