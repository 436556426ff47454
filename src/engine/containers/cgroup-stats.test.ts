import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { blockIO, cpuPercent, memoryLimitOf, memPercent, memUsageNoCache, readCgroupStats, readStats, systemCpu } from './cgroup-stats.js';

const CG = 'shoal/abc';
const GiB = 1024 ** 3;
let root: string;
let procStat: string;

async function put(ctl: string, file: string, content: string): Promise<void> {
  const d = path.join(root, ctl, CG);
  await fsp.mkdir(d, { recursive: true });
  await fsp.writeFile(path.join(d, file), content);
}

before(async () => {
  root = await fsp.mkdtemp(path.join(os.tmpdir(), 'shoal-cgroup-'));
  procStat = path.join(root, 'stat');
  await fsp.writeFile(procStat, 'cpu  100 1 50 1000 10 2 3 7 0 0\ncpu0 50 1 25 500 5 1 2 4 0 0\ncpu1 50 0 25 500 5 1 1 3 0 0\nintr 1 2 3\nctxt 99\n');
  await put('memory', 'memory.usage_in_bytes', '104857600\n');
  await put('memory', 'memory.max_usage_in_bytes', '209715200\n');
  await put('memory', 'memory.failcnt', '3\n');
  await put('memory', 'memory.limit_in_bytes', '536870912\n');
  await put('memory', 'memory.stat', 'cache 4096\nrss 8192\ntotal_inactive_file 4194304\nhierarchical_memory_limit 536870912\n');
  await put('cpuacct', 'cpuacct.usage', '2000000000\n');
  await put('cpuacct', 'cpuacct.usage_percpu', '1500000000 500000000 \n');
  await put('cpuacct', 'cpuacct.stat', 'user 120\nsystem 30\n');
  await put('cpu', 'cpu.stat', 'nr_periods 10\nnr_throttled 2\nthrottled_time 12345\n');
  await put('pids', 'pids.current', '4\n');
  await put('pids', 'pids.max', 'max\n');
  await put('blkio', 'blkio.throttle.io_service_bytes', '8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 12288\n8:0 Total 12288\n8:16 Read 1\nTotal 12289\n');
  await put('blkio', 'blkio.throttle.io_serviced', '8:0 Read 1\n8:0 Write 2\nTotal 3\n');
});
after(async () => { await fsp.rm(root, { recursive: true, force: true }); });

describe('cgroup v1 stats', () => {
  it('reads /proc/stat like moby: 7 fields in ns, online CPUs counted', async () => {
    assert.deepEqual(await systemCpu(procStat), { usage: 1166 * 1e7, onlineCpus: 2 });
  });

  it('builds the Docker stats object', async () => {
    const s = await readCgroupStats('/' + CG, { root, procStat, name: '/web', id: 'abc', now: 1795521154n * 1_000_000_000n + 5_000n, machineMemory: 8 * GiB });
    assert.equal(s.read, '2026-11-24T11:52:34.000005Z');
    assert.equal(s.preread, '0001-01-01T00:00:00Z');
    assert.deepEqual(s.pids_stats, { current: 4, limit: undefined });
    assert.deepEqual(s.cpu_stats, {
      cpu_usage: { total_usage: 2e9, percpu_usage: [1.5e9, 5e8], usage_in_kernelmode: 3e8, usage_in_usermode: 1.2e9 },
      system_cpu_usage: 1166e7,
      online_cpus: 2,
      throttling_data: { periods: 10, throttled_periods: 2, throttled_time: 12345 },
    });
    assert.deepEqual(s.precpu_stats.cpu_usage, { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 });
    assert.deepEqual(s.memory_stats, {
      usage: 104857600, max_usage: 209715200, limit: 536870912, failcnt: 3,
      stats: { cache: 4096, rss: 8192, total_inactive_file: 4194304, hierarchical_memory_limit: 536870912 },
    });
    assert.deepEqual(s.blkio_stats.io_service_bytes_recursive?.slice(0, 2), [{ major: 8, minor: 0, op: 'Read', value: 4096 }, { major: 8, minor: 0, op: 'Write', value: 8192 }]);
    assert.equal(s.blkio_stats.io_service_bytes_recursive?.length, 6);
    assert.equal(s.blkio_stats.io_serviced_recursive?.length, 2);
    assert.equal(s.blkio_stats.io_queue_recursive, null);
    assert.equal(s.name, '/web');
    assert.equal(s.id, 'abc');
    assert.deepEqual(blockIO(s), { read: 4097, write: 8192 });
    // JSON has no undefined keys (Docker's omitempty).
    assert.deepEqual(JSON.parse(JSON.stringify(s)).pids_stats, { current: 4 });
  });

  it('chains samples and computes docker CLI percentages', async () => {
    const first = await readStats(CG, undefined, { root, procStat, now: 1n, machineMemory: 8 * GiB });
    await put('cpuacct', 'cpuacct.usage', '3000000000\n');
    await fsp.writeFile(procStat, 'cpu  300 1 50 1000 10 2 3 7 0 0\ncpu0 1\ncpu1 1\n');
    const second = await readStats(CG, first, { root, procStat, now: 2n, machineMemory: 8 * GiB });
    assert.equal(second.preread, first.read);
    assert.deepEqual(second.precpu_stats, first.cpu_stats);
    // 1e9 ns of container CPU over 2e9 ns of host CPU time, 2 CPUs.
    assert.equal(cpuPercent(second), 100);
    assert.equal(cpuPercent({ cpu_stats: second.cpu_stats, precpu_stats: second.cpu_stats }), 0);
    assert.equal(memUsageNoCache(second.memory_stats), 104857600 - 4194304);
    assert.equal(memPercent(second), ((104857600 - 4194304) / 536870912) * 100);
    assert.equal(memPercent({ memory_stats: {} }), 0);
  });

  it('caps unlimited memory to the machine and tolerates missing controllers', async () => {
    assert.equal(await memoryLimitOf(CG, root, 8 * GiB), 536870912);
    await put('memory', 'memory.limit_in_bytes', '9223372036854771712\n');
    assert.equal(await memoryLimitOf(CG, root, 8 * GiB), 8 * GiB);
    assert.equal(await memoryLimitOf('shoal/gone', root, 8 * GiB), 8 * GiB);
    const s = await readCgroupStats('shoal/gone', { root, procStat });
    assert.deepEqual(s.memory_stats, {});
    assert.equal(s.cpu_stats.cpu_usage.total_usage, 0);
    assert.deepEqual(s.blkio_stats.io_service_bytes_recursive, []);
    assert.equal(s.pids_stats.current, undefined);
  });
});
