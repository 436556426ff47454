import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from './command.js';
import {
  buildCreateRequest, containerFlags, parseCpus, parseMount, parsePortSpecs, parseRestartPolicy, parseVolume, ramInBytes,
} from './opts.js';

const tmpDirs: string[] = [];
after(() => { for (const d of tmpDirs) rmSync(d, { recursive: true, force: true }); });
function tmp(): string { const d = mkdtempSync(path.join(tmpdir(), 'shoal-opts-')); tmpDirs.push(d); return d; }

function req(argv: string[], env: Record<string, string | undefined> = {}) {
  const { opts, args } = parseArgs({ name: 'run', options: containerFlags(), interspersed: false, hNotHelp: true }, argv);
  return buildCreateRequest(opts, args[0], args.slice(1), env, '/work');
}

test('a plain run has docker defaults', () => {
  const r = req(['busybox']);
  const b = r.body;
  assert.equal(b.Image, 'busybox');
  assert.equal(b.Cmd, null);
  assert.equal(b.Entrypoint, null);
  assert.equal(b.AttachStdout, true);
  assert.equal(b.AttachStderr, true);
  assert.equal(b.AttachStdin, false);
  assert.equal(b.OpenStdin, false);
  assert.equal(b.StdinOnce, false);
  assert.deepEqual(b.Env, []);
  assert.deepEqual(b.Labels, {});
  assert.equal(b.HostConfig.NetworkMode, 'default');
  assert.deepEqual(b.HostConfig.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
  assert.equal(b.HostConfig.MemorySwappiness, -1);
  assert.equal(b.HostConfig.PidsLimit, 0);
  assert.equal(b.HostConfig.Init, undefined);
  assert.deepEqual(b.NetworkingConfig, { EndpointsConfig: {} });
  assert.equal('StopTimeout' in b, false);
  assert.equal('Healthcheck' in b, false);
});

test('command, -i/-t and attach', () => {
  const r = req(['-it', '--rm', 'busybox', 'sh', '-c', 'echo hi']);
  assert.deepEqual(r.body.Cmd, ['sh', '-c', 'echo hi']);
  assert.equal(r.body.Tty, true);
  assert.equal(r.body.OpenStdin, true);
  assert.equal(r.body.AttachStdin, true);
  assert.equal(r.body.StdinOnce, true);
  assert.equal(r.body.HostConfig.AutoRemove, true);
  const a = req(['-a', 'STDERR', 'busybox']);
  assert.deepEqual(a.attach, { stdin: false, stdout: false, stderr: true });
  // flags after the image belong to the command
  assert.deepEqual(req(['busybox', 'ls', '-l', '--rm']).body.Cmd, ['ls', '-l', '--rm']);
});

test('environment: KEY=V, KEY from the environment, env files', () => {
  const dir = tmp();
  const f = path.join(dir, 'env');
  writeFileSync(f, '# comment\n\n  A=1\nFROMENV\nMISSING\nC=x=y\n');
  const r = req(['--env-file', f, '-e', 'B=2', '-e', 'HOME', '-e', 'NOPE', 'img'], { FROMENV: 'fe', HOME: '/root' });
  assert.deepEqual(r.body.Env, ['A=1', 'FROMENV=fe', 'C=x=y', 'B=2', 'HOME=/root', 'NOPE']);
  assert.throws(() => req(['-e', '=x', 'img']), /invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x/);
  writeFileSync(f, 'BAD KEY=1\n');
  assert.throws(() => req(['--env-file', f, 'img']), /--env-file: invalid env file .*: variable 'BAD KEY' contains whitespaces/);
});

test('labels and label files', () => {
  const dir = tmp();
  const f = path.join(dir, 'labels');
  writeFileSync(f, 'a=1\nnovalue\n');
  const r = req(['--label-file', f, '-l', 'b=2', '--label', 'c', 'img']);
  assert.deepEqual(r.body.Labels, { a: '1', b: '2', c: '' });
});

test('entrypoint: value, and --entrypoint "" resets it', () => {
  assert.deepEqual(req(['--entrypoint', '/bin/sh', 'img']).body.Entrypoint, ['/bin/sh']);
  assert.deepEqual(req(['--entrypoint', '', 'img']).body.Entrypoint, ['']);
  assert.deepEqual(req(['--entrypoint=', 'img']).body.Entrypoint, ['']);
  assert.equal(req(['img']).body.Entrypoint, null);
});

test('ports: publish, ranges, ip, udp, expose, -P', () => {
  const r = req(['-p', '8080:80', '-p', '127.0.0.1:5353:53/udp', '-p', '9000-9001:7000-7001', '-p', '443', '--expose', '3000-3001', '-P', 'img']);
  assert.deepEqual(r.body.HostConfig.PortBindings, {
    '80/tcp': [{ HostIp: '', HostPort: '8080' }],
    '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }],
    '7000/tcp': [{ HostIp: '', HostPort: '9000' }],
    '7001/tcp': [{ HostIp: '', HostPort: '9001' }],
    '443/tcp': [{ HostIp: '', HostPort: '' }],
  });
  assert.deepEqual(Object.keys(r.body.ExposedPorts).sort(), ['3000/tcp', '3001/tcp', '443/tcp', '53/udp', '7000/tcp', '7001/tcp', '80/tcp']);
  assert.equal(r.body.HostConfig.PublishAllPorts, true);
  assert.deepEqual(parsePortSpecs(['8000-8010:80']).bindings['80/tcp'], [{ HostIp: '', HostPort: '8000-8010' }]);
  assert.deepEqual(parsePortSpecs(['[::1]:80:80']).bindings['80/tcp'], [{ HostIp: '::1', HostPort: '80' }]);
  assert.deepEqual(parsePortSpecs(['published=8080,target=80']).bindings['80/tcp'], [{ HostIp: '', HostPort: '8080' }]);
  assert.throws(() => parsePortSpecs(['99999:80']), /invalid hostPort: 99999/);
  assert.throws(() => parsePortSpecs(['1.2.3:80:80']), /invalid IP address: 1.2.3/);
  assert.throws(() => parsePortSpecs(['8000-8002:80-81']), /invalid ranges specified for container and host Ports: 80-81 and 8000-8002/);
});

test('volumes and mounts', () => {
  const r = req(['-v', '/host:/ctr:ro', '-v', './rel:/r', '-v', 'named:/n', '-v', '/anon', 'img']);
  assert.deepEqual(r.body.HostConfig.Binds, ['/host:/ctr:ro', '/work/rel:/r', 'named:/n']);
  assert.deepEqual(r.body.Volumes, { '/anon': {} });
  assert.throws(() => parseVolume('/a:rel', '/'), /invalid volume specification/);
  assert.deepEqual(parseMount('type=bind,source=/src,target=/dst,readonly', '/'), { Type: 'bind', Source: '/src', Target: '/dst', ReadOnly: true });
  assert.deepEqual(parseMount('type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1770', '/'), { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 64 * 1024 * 1024, Mode: 0o1770 } });
  assert.deepEqual(parseMount('source=data,target=/data,volume-nocopy', '/'), { Type: 'volume', Source: 'data', Target: '/data', VolumeOptions: { NoCopy: true } });
  assert.deepEqual(parseMount('type=bind,src=./x,dst=/x', '/base'), { Type: 'bind', Source: '/base/x', Target: '/x' });
  assert.throws(() => parseMount('type=bind,tmpfs-size=1m,target=/x', '/'), /cannot mix 'tmpfs-\*' options with mount type 'bind'/);
  assert.throws(() => parseMount('type=bind,foo=bar', '/'), /unknown option 'foo' in 'foo=bar'/);
  assert.throws(() => parseMount('type=bind,readonly=maybe', '/'), /invalid value for 'readonly': invalid boolean value/);
  const m = req(['--mount', 'type=tmpfs,target=/t', '--tmpfs', '/run:rw,size=1m', '--tmpfs', '/x', 'img']);
  assert.deepEqual(m.body.HostConfig.Mounts, [{ Type: 'tmpfs', Target: '/t' }]);
  assert.deepEqual(m.body.HostConfig.Tmpfs, { '/run': 'rw,size=1m', '/x': '' });
});

test('restart policies', () => {
  assert.deepEqual(parseRestartPolicy('always'), { Name: 'always', MaximumRetryCount: 0 });
  assert.deepEqual(parseRestartPolicy('on-failure:5'), { Name: 'on-failure', MaximumRetryCount: 5 });
  assert.deepEqual(parseRestartPolicy('unless-stopped'), { Name: 'unless-stopped', MaximumRetryCount: 0 });
  assert.throws(() => parseRestartPolicy(':3'), /no policy provided before colon/);
  assert.throws(() => parseRestartPolicy('on-failure:x'), /maximum retry count must be an integer/);
  assert.throws(() => req(['--rm', '--restart', 'always', 'img']), /conflicting options: cannot specify both --restart and --rm/);
  assert.doesNotThrow(() => req(['--rm', '--restart', 'no', 'img']));
  assert.deepEqual(req(['--restart=on-failure:2', 'img']).body.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
});

test('memory and cpus', () => {
  assert.equal(ramInBytes('64m'), 64 * 1024 * 1024);
  assert.equal(ramInBytes('1g'), 1024 ** 3);
  assert.equal(ramInBytes('512'), 512);
  assert.throws(() => ramInBytes('abc'), /invalid size: 'abc'/);
  assert.equal(parseCpus('1.5'), 1_500_000_000);
  assert.equal(parseCpus('0.001'), 1_000_000);
  assert.equal(parseCpus('2'), 2_000_000_000);
  assert.throws(() => parseCpus('x'), /failed to parse x as a rational number/);
  assert.throws(() => parseCpus('0.0000000001'), /value is too precise/);
  const r = req(['-m', '128m', '--memory-swap', '-1', '--cpus', '0.5', '--cpu-shares', '512', '--pids-limit', '100', 'img']);
  assert.equal(r.body.HostConfig.Memory, 128 * 1024 * 1024);
  assert.equal(r.body.HostConfig.MemorySwap, -1);
  assert.equal(r.body.HostConfig.NanoCpus, 500_000_000);
  assert.equal(r.body.HostConfig.CpuShares, 512);
  assert.equal(r.body.HostConfig.PidsLimit, 100);
  assert.throws(() => req(['-m', 'lots', 'img']), /invalid argument "lots" for "-m, --memory" flag: invalid size: 'lots'/);
});

test('health checks, stop options, init, security', () => {
  const r = req(['--health-cmd', 'curl -f x', '--health-interval', '5s', '--health-timeout', '1m30s', '--health-retries', '3', '--health-start-period', '500ms',
    '--stop-signal', 'SIGINT', '--stop-timeout', '7', '--init', '--privileged', '--cap-add', 'NET_ADMIN', '--cap-drop', 'ALL', '--read-only', 'img']);
  assert.deepEqual(r.body.Healthcheck, { Test: ['CMD-SHELL', 'curl -f x'], Interval: 5e9, Timeout: 90e9, StartPeriod: 5e8, Retries: 3 });
  assert.equal(r.body.StopSignal, 'SIGINT');
  assert.equal(r.body.StopTimeout, 7);
  assert.equal(r.body.HostConfig.Init, true);
  assert.equal(r.body.HostConfig.Privileged, true);
  assert.deepEqual(r.body.HostConfig.CapAdd, ['NET_ADMIN']);
  assert.deepEqual(r.body.HostConfig.CapDrop, ['ALL']);
  assert.equal(r.body.HostConfig.ReadonlyRootfs, true);
  assert.deepEqual(req(['--no-healthcheck', 'img']).body.Healthcheck, { Test: ['NONE'] });
  assert.throws(() => req(['--no-healthcheck', '--health-cmd', 'x', 'img']), /--no-healthcheck conflicts with --health-\* options/);
  assert.equal(req(['--stop-timeout', '0', 'img']).body.StopTimeout, 0);
  assert.equal(req(['--init=false', 'img']).body.HostConfig.Init, false);
});

test('networks, hosts and dns', () => {
  assert.equal(req(['--network', 'none', 'img']).body.HostConfig.NetworkMode, 'none');
  assert.equal(req(['--net=host', 'img']).body.HostConfig.NetworkMode, 'host');
  assert.equal(req(['--network', 'container:abc', 'img']).body.HostConfig.NetworkMode, 'container:abc');
  const n = req(['--network', 'mynet', '--network-alias', 'web', 'img']);
  assert.equal(n.body.HostConfig.NetworkMode, 'mynet');
  assert.deepEqual(n.body.NetworkingConfig.EndpointsConfig, { mynet: { Aliases: ['web'] } });
  assert.throws(() => req(['--network-alias', 'x', '--network', 'bridge', 'img']), /network-scoped aliases are only supported for user-defined networks/);
  const h = req(['--add-host', 'db:10.0.0.2', '--add-host', 'gw=host-gateway', '--dns', '8.8.8.8', '--dns-search', 'example.com', '-h', 'box', 'img']);
  assert.deepEqual(h.body.HostConfig.ExtraHosts, ['db:10.0.0.2', 'gw:host-gateway']);
  assert.deepEqual(h.body.HostConfig.Dns, ['8.8.8.8']);
  assert.deepEqual(h.body.HostConfig.DnsSearch, ['example.com']);
  assert.equal(h.body.Hostname, 'box');
  assert.throws(() => req(['--add-host', 'nocolon', 'img']), /bad format for add-host: "nocolon"/);
  assert.throws(() => req(['--dns', 'x.y', 'img']), /IP address is not correctly formatted: x.y/);
});

test('user, workdir, name', () => {
  const r = req(['-u', '1000:1000', '-w', '/app', '--name', 'web', 'img']);
  assert.equal(r.body.User, '1000:1000');
  assert.equal(r.body.WorkingDir, '/app');
  assert.equal(r.name, 'web');
});
