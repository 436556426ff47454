import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderList } from '../fmt.js';
import { containerContext, DEFAULT_PS_FORMAT, displayablePorts, familiarImage, PS_HEADERS, psFormat } from './container-ps.js';

process.env.TZ = 'UTC';
const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);

const summary = (over: Record<string, unknown> = {}) => ({
  Id: '4c01db0b339c7a1ea3c2c2d4a8a09c0f3b2d0c8a54ab2c3b5e4d9f6a1b2c3d4e',
  Names: ['/web'],
  Image: 'docker.io/library/busybox:latest',
  ImageID: 'sha256:beae173ccac6ad749f76713cf4440fe3d21d1043fe616dfbe30775815d1d0f6a',
  Command: 'sh -c "while true; do echo hello; sleep 1; done"',
  Created: NOW / 1000 - 120,
  Ports: [],
  Labels: { app: 'web', tier: 'front' },
  State: 'running',
  Status: 'Up 2 minutes',
  SizeRw: 0,
  Mounts: [],
  NetworkSettings: { Networks: { bridge: {} } },
  ...over,
});

test('default ps table: columns, truncation, quoting, created', () => {
  const rows = [
    containerContext(summary({ Image: 'busybox' }), true, NOW),
    containerContext(summary({ Id: 'aaaaaaaaaaaaaaaaaaaa', Names: ['/db'], Image: 'redis', Command: 'redis-server', Created: NOW / 1000 - 3 * 3600, Status: 'Exited (0) 1 hour ago', Ports: [{ IP: '0.0.0.0', PrivatePort: 6379, PublicPort: 6379, Type: 'tcp' }] }), true, NOW),
  ];
  const out = renderList(undefined, DEFAULT_PS_FORMAT, rows, PS_HEADERS);
  assert.equal(out,
    'CONTAINER ID   IMAGE     COMMAND                   CREATED         STATUS                  PORTS                    NAMES\n' +
    '4c01db0b339c   busybox   "sh -c \\"while true; …"   2 minutes ago   Up 2 minutes                                     web\n' +
    'aaaaaaaaaaaa   redis     "redis-server"            3 hours ago     Exited (0) 1 hour ago   0.0.0.0:6379->6379/tcp   db\n');
});

test('empty list prints just the header', () => {
  assert.equal(renderList('table', DEFAULT_PS_FORMAT, [], PS_HEADERS), 'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n');
});

test('no-trunc, quiet and custom formats', () => {
  const full = containerContext(summary(), false, NOW);
  assert.equal(full.ID, '4c01db0b339c7a1ea3c2c2d4a8a09c0f3b2d0c8a54ab2c3b5e4d9f6a1b2c3d4e');
  assert.equal(full.Command, '"sh -c \\"while true; do echo hello; sleep 1; done\\""');
  assert.equal(full.Image, 'docker.io/library/busybox:latest');
  assert.equal(containerContext(summary(), true, NOW).Image, 'busybox:latest');
  const c = containerContext(summary(), true, NOW);
  assert.equal(renderList(psFormat(undefined, true, false), DEFAULT_PS_FORMAT, [c], PS_HEADERS), '4c01db0b339c\n');
  assert.equal(renderList('{{.Names}} {{.Label "app"}} {{.Labels}} {{.State}} {{.Networks}}', DEFAULT_PS_FORMAT, [c], PS_HEADERS), 'web web app=web,tier=front running bridge\n');
  assert.equal(renderList('table {{.Names}}\t{{.CreatedAt}}', DEFAULT_PS_FORMAT, [c], PS_HEADERS), 'NAMES     CREATED AT\nweb       2026-11-24 11:58:00 +0000 UTC\n');
  const json = JSON.parse(renderList('json', DEFAULT_PS_FORMAT, [c], PS_HEADERS));
  assert.equal(json.Names, 'web');
  assert.equal(json.RunningFor, '2 minutes ago');
  assert.equal('Label' in json, false);
  assert.equal(psFormat(undefined, false, true), `${DEFAULT_PS_FORMAT}\t{{.Size}}`);
});

test('size column', () => {
  const c = containerContext(summary({ SizeRw: 12345, SizeRootFs: 1_990_000 }), true, NOW);
  assert.equal(c.Size, '12.3kB (virtual 1.99MB)');
  assert.equal(containerContext(summary({ SizeRw: 0 }), true, NOW).Size, '0B');
});

test('image column', () => {
  assert.equal(familiarImage('docker.io/library/busybox:latest'), 'busybox:latest');
  assert.equal(familiarImage('busybox@sha256:' + 'a'.repeat(64)), 'busybox');
  const byId = containerContext(summary({ Image: 'sha256:beae173ccac6ad749f76713cf4440fe3d21d1043fe616dfbe30775815d1d0f6a' }), true, NOW);
  assert.equal(byId.Image, 'beae173ccac6');
  assert.equal(containerContext(summary({ Image: '' }), true, NOW).Image, '<no image>');
});

test('displayable ports: grouping, host mappings, order', () => {
  assert.equal(displayablePorts([]), '');
  assert.equal(displayablePorts([{ PrivatePort: 80, Type: 'tcp' }, { PrivatePort: 81, Type: 'tcp' }, { PrivatePort: 82, Type: 'tcp' }, { PrivatePort: 53, Type: 'udp' }]), '53/udp, 80-82/tcp');
  assert.equal(displayablePorts([
    { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
    { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
    { PrivatePort: 443, Type: 'tcp' },
  ]), '443/tcp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp');
  assert.equal(displayablePorts([
    { IP: '0.0.0.0', PrivatePort: 9000, PublicPort: 9000, Type: 'tcp' },
    { IP: '0.0.0.0', PrivatePort: 9001, PublicPort: 9001, Type: 'tcp' },
  ]), '0.0.0.0:9000-9001->9000-9001/tcp');
});
