import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ContainerStore } from './container-store.js';
import { freshState, type ContainerRecord } from './types.js';

function rec(id: string, name: string): ContainerRecord {
  return { Id: id, Name: name, State: freshState(), Config: {}, HostConfig: {}, shoal: { manuallyStopped: false, cgroupPath: '' } } as unknown as ContainerRecord;
}

test('lookup by ID, name and unique prefix; conflicts and persistence', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cstore-'));
  try {
    const s = new ContainerStore(dir);
    await s.load();
    await s.add(rec('abc111', '/web'));
    await s.add(rec('abd222', '/db'));
    assert.equal(s.get('web').Id, 'abc111');
    assert.equal(s.get('/db').Id, 'abd222');
    assert.equal(s.get('abc').Id, 'abc111');
    assert.throws(() => s.get('ab'), /multiple IDs found with provided prefix: ab/);
    assert.throws(() => s.get('zzz'), (e: any) => e.status === 404 && e.message === 'No such container: zzz');
    assert.throws(() => s.validateName('web'), (e: any) => e.status === 409 && /The container name "\/web" is already in use by container "abc111"/.test(e.message));
    assert.throws(() => s.validateName('bad name'), (e: any) => e.status === 400);
    await s.rename(s.get('web'), 'front');
    assert.equal(s.find('web'), undefined);
    const onDisk = JSON.parse(await readFile(path.join(dir, 'abc111', 'config.v2.json'), 'utf8'));
    assert.equal(onDisk.Name, '/front');
    const again = new ContainerStore(dir);
    await again.load();
    assert.equal(again.get('front').Id, 'abc111');
    await again.remove(again.get('front'));
    assert.equal(again.find('abc111'), undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
