import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../../api/errors.js';
import { memStore } from './mem-store.js';
import { createService, findService, updateService } from './services.js';

const spec = (name: string, endpoint?: any) => ({ Name: name, TaskTemplate: { ContainerSpec: { Image: 'busybox' } }, ...(endpoint ? { EndpointSpec: endpoint } : {}) });
const port = (published: number, mode = 'ingress', protocol = 'tcp') => ({ TargetPort: 80, PublishedPort: published, PublishMode: mode, Protocol: protocol });
const refusal = async (p: Promise<unknown>): Promise<string> => {
  try { await p; } catch (e) { assert.equal((e as ApiError).status, 400, (e as Error).message); return (e as Error).message; }
  throw new Error('expected a refusal');
};

test("published ports: Docker's refusals for a port another service holds, and its EndpointSpec checks", async () => {
  const store = memStore();
  const a = (await createService(store, spec('a', { Ports: [port(8080)] }))).ID;
  await createService(store, spec('h', { Ports: [port(9999, 'host')] }));
  assert.equal(await refusal(createService(store, spec('b', { Ports: [port(8080)] }))),
    `rpc error: code = InvalidArgument desc = port '8080' is already in use by service 'a' (${a}) as an ingress port`);
  assert.match(await refusal(createService(store, spec('b', { Ports: [port(8080, 'host')] }))), /port '8080' is already in use by service 'a' \(\w+\) as an ingress port$/);
  assert.match(await refusal(createService(store, spec('b', { Ports: [port(9999)] }))), /port '9999' is already in use by service 'h' \(\w+\) as a host-published port$/);
  // host mode next to host mode is the scheduler's business; another protocol is another port
  await createService(store, spec('h2', { Ports: [port(9999, 'host')] }));
  await createService(store, spec('u', { Ports: [port(8080, 'ingress', 'udp')] }));
  assert.equal(await refusal(createService(store, spec('d', { Ports: [port(7070), { ...port(7070), TargetPort: 81 }] }))),
    'rpc error: code = InvalidArgument desc = EndpointSpec: duplicate published ports provided');
  assert.equal(await refusal(createService(store, spec('e', { Mode: 'dnsrr', Ports: [port(7171)] }))),
    "rpc error: code = InvalidArgument desc = EndpointSpec: port published with ingress mode can't be used with dnsrr mode");
  await createService(store, spec('g', { Mode: 'dnsrr', Ports: [port(7272, 'host')] }));
  assert.equal(await refusal(createService(store, spec('f', { Mode: 'foo' }))), 'invalid resolution mode: "foo"');
  // an update keeps its own ports, and may not take another service's
  const cur = await findService(store, 'a');
  await updateService(store, 'a', cur.Version.Index, spec('a', { Ports: [port(8080), port(8081)] }));
  const h2 = await findService(store, 'h2');
  assert.match(await refusal(updateService(store, 'h2', h2.Version.Index, spec('h2', { Ports: [port(8081)] }))), /port '8081' is already in use by service 'a'/);
});
