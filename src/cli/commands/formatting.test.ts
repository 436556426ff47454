import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderList } from '../fmt.js';
import { cpuPercent, DEFAULT_STATS_FORMAT, memUsageNoCache, statsContext, statsEntry } from './container-stats.js';
import { historyRows, DEFAULT_HISTORY_FORMAT } from './image-history.js';
import { DEFAULT_IMAGES_FORMAT, IMAGE_HEADERS, imageRows, imagesFormat } from './image-list.js';
import { dfRows } from './system-df.js';
import { formatEvent, parseEvent } from './system-events.js';

process.env.TZ = 'UTC';
const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);

test('images: one row per tag, dangling images, digests', () => {
  const images = [
    { Id: 'sha256:aaaaaaaaaaaa1111', RepoTags: ['busybox:latest', 'busybox:1.36', 'docker.io/library/alpine:3'], RepoDigests: ['busybox@sha256:dd'], Created: NOW / 1000 - 3600 * 24 * 3, Size: 4_261_550 },
    { Id: 'sha256:bbbbbbbbbbbb2222', RepoTags: [], RepoDigests: [], Created: NOW / 1000 - 60, Size: 100 },
  ];
  const rows = imageRows(images, { trunc: true, digests: false, needDigest: false }, NOW);
  const out = renderList(imagesFormat(undefined, false, false), DEFAULT_IMAGES_FORMAT, rows, IMAGE_HEADERS);
  assert.equal(out,
    'REPOSITORY   TAG       IMAGE ID       CREATED              SIZE\n' +
    'busybox      latest    aaaaaaaaaaaa   3 days ago           4.26MB\n' +
    'busybox      1.36      aaaaaaaaaaaa   3 days ago           4.26MB\n' +
    'alpine       3         aaaaaaaaaaaa   3 days ago           4.26MB\n' +
    '<none>       <none>    bbbbbbbbbbbb   About a minute ago   100B\n');
  const dig = imageRows(images.slice(0, 1), { trunc: true, digests: true, needDigest: true }, NOW);
  assert.equal(dig[0].Digest, 'sha256:dd');
  assert.equal(imagesFormat(undefined, true, false), '{{.ID}}');
  assert.equal(imagesFormat('table {{.ID}}', false, true), 'table {{.ID}}\t{{.Digest}}');
});

test('history rows', () => {
  const rows = historyRows([
    { Id: 'sha256:cccccccccccc3333', Created: NOW / 1000 - 7200, CreatedBy: '/bin/sh -c #(nop)  CMD ["sh"]\tand a very long tail that goes on', Size: 0, Comment: '' },
    { Id: '<missing>', Created: NOW / 1000 - 7200, CreatedBy: 'ADD file', Size: 4_261_550, Comment: 'c' },
  ], true, true, NOW);
  const out = renderList(undefined, DEFAULT_HISTORY_FORMAT, rows, { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' });
  assert.equal(out,
    'IMAGE          CREATED       CREATED BY                                      SIZE      COMMENT\n' +
    'cccccccccccc   2 hours ago   /bin/sh -c #(nop)  CMD ["sh"] and a very lon…   0B        \n' +
    '<missing>      2 hours ago   ADD file                                        4.26MB    c\n');
  const raw = historyRows([{ Id: 'x', Created: 0, CreatedBy: '', Size: 1234, Comment: '' }], false, false, NOW)[0];
  assert.equal(raw.Size, '1234');
  assert.equal(raw.CreatedSince, '1970-01-01T00:00:00Z');
});

test('stats: CPU % like docker, memory without cache, formatting', () => {
  const v = {
    name: '/web', id: 'f00dfeedcafe0123456789',
    cpu_stats: { cpu_usage: { total_usage: 300_000_000 }, system_cpu_usage: 20_000_000_000, online_cpus: 4 },
    precpu_stats: { cpu_usage: { total_usage: 100_000_000 }, system_cpu_usage: 18_000_000_000 },
    memory_stats: { usage: 10 * 1024 * 1024, limit: 1024 * 1024 * 1024, stats: { inactive_file: 2 * 1024 * 1024 } },
    networks: { eth0: { rx_bytes: 1500, tx_bytes: 500 }, eth1: { rx_bytes: 500, tx_bytes: 0 } },
    blkio_stats: { io_service_bytes_recursive: [{ op: 'read', value: 4096 }, { op: 'Write', value: 8192 }, { op: 'total', value: 1 }] },
    pids_stats: { current: 3 },
  };
  assert.equal(cpuPercent(v.precpu_stats, v.cpu_stats), 40);
  assert.equal(memUsageNoCache(v.memory_stats), 8 * 1024 * 1024);
  assert.equal(memUsageNoCache({ usage: 100, stats: { total_inactive_file: 30 } }), 70);
  const e = statsEntry('web', v);
  const ctx = statsContext(e, true);
  assert.deepEqual(ctx, {
    BlockIO: '4.1kB / 8.19kB', CPUPerc: '40.00%', Container: 'web', ID: 'f00dfeedcafe', MemPerc: '0.78%',
    MemUsage: '8MiB / 1GiB', Name: 'web', NetIO: '2kB / 500B', PIDs: '3',
  });
  const out = renderList(undefined, DEFAULT_STATS_FORMAT, [ctx], {
    Container: 'CONTAINER', Name: 'NAME', ID: 'CONTAINER ID', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
  });
  assert.equal(out.split('\n')[0], 'CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O      BLOCK I/O        PIDS');
  assert.equal(statsContext({ ...e, invalid: true }, true).MemUsage, '-- / --');
});

test('system df summary rows', () => {
  const rows = dfRows({
    LayersSize: 10_000_000,
    Images: [{ Containers: 1, Size: 6_000_000, SharedSize: 0 }, { Containers: 0, Size: 4_000_000, SharedSize: 0 }],
    Containers: [{ State: 'running', SizeRw: 100 }, { State: 'exited', SizeRw: 300 }],
    Volumes: [{ UsageData: { Size: 50, RefCount: 0 } }],
    BuildCache: [],
  });
  assert.deepEqual(rows.map((r) => [r.Type, r.TotalCount, r.Active, r.Size, r.Reclaimable]), [
    ['Images', '2', '1', '10MB', '4MB (40%)'],
    ['Containers', '2', '1', '400B', '300B (75%)'],
    ['Local Volumes', '1', '0', '50B', '50B (100%)'],
    ['Build Cache', '0', '0', '0B', '0B'],
  ]);
});

test('events: docker line format with exact nanoseconds', () => {
  const { ev, timeNano } = parseEvent('{"Type":"container","Action":"start","Actor":{"ID":"abc","Attributes":{"name":"x","image":"busybox"}},"time":1795524754,"timeNano":1795524754685467485}');
  assert.equal(formatEvent(ev, timeNano), '2026-11-24T12:52:34.685467485Z container start abc (image=busybox, name=x)\n');
  assert.equal(formatEvent({ Type: 'image', Action: 'tag', Actor: { ID: 'sha256:1' }, time: 1 }), '1970-01-01T00:00:01.000000000Z image tag sha256:1\n');
});
