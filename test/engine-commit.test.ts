// `commit`: a container's changes (new files, deletions as whiteouts, a replaced directory as an
// opaque one, hard links) become one more layer on its image; config changes, history, inspect,
// pause while committing, the commit event, errors. Through the shoal CLI, the docker CLI and the
// API. One lab, one daemon for the whole file.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useLab, type Host } from './harness/hosts.js';
import { dockerOk, shoalOk, show } from './harness/checks.js';

const T = { timeout: 120_000 };

const CHANGES = [
  'echo hello-from-commit > /hello', 'ln /hello /hello-link', // a new file and a hard link to it
  'rm /etc/group', 'rm /bin/ls', // a file and a symlink of the image deleted
  'rm -rf /var/www', 'mkdir /var/www', 'echo new > /var/www/new.html', // a directory replaced: opaque
].join('; ');

describe('commit', () => {
  const env = useLab({ hosts: 1, busybox: true });
  const h = (): Host => env.host(1);
  const inspect = async (ref: string): Promise<any> => JSON.parse(await dockerOk(h(), ['image', 'inspect', ref]))[0];

  it('shoal commit makes an image of the container\'s changes: new files, deletions, a replaced directory', T, async () => {
    await shoalOk(h(), ['run', '--name', 'changed', 'busybox', 'sh', '-c', CHANGES]);
    const busybox = await inspect('busybox');
    const out = await shoalOk(h(), ['commit', '-c', 'CMD ["cat","/hello"]', '-m', 'added hello', '-a', 'Tess <t@example.com>', 'changed', 'snap:v1']);
    assert.match(out, /^sha256:[0-9a-f]{64}$/, 'prints the image ID like docker');
    assert.equal(await shoalOk(h(), ['run', '--rm', 'snap:v1']), 'hello-from-commit', 'the new CMD reads the new file');

    const look = await shoalOk(h(), ['run', '--rm', 'snap:v1', 'sh', '-c', [
      '[ -e /etc/group ] && echo group-still-there', '[ -L /bin/ls ] && echo ls-still-there',
      'ls /var/www', 'cat /etc/passwd | head -1', 'stat -c %h /hello', 'cat /hello-link',
    ].join('; ')]);
    assert.equal(look, 'new.html\nroot:x:0:0:root:/root:/bin/sh\n2\nhello-from-commit',
      'deleted files are gone, the replaced directory has only its new content, the rest of the image is there, the hard link is one');

    const img = await inspect('snap:v1');
    assert.equal(img.Id, out);
    assert.equal(img.Parent, busybox.Id);
    assert.deepEqual(img.RootFS.Layers, [...busybox.RootFS.Layers, img.RootFS.Layers[1]]);
    assert.equal(img.RootFS.Layers.length, 2);
    assert.equal(img.Comment, 'added hello');
    assert.equal(img.Author, 'Tess <t@example.com>');
    assert.equal(img.Container, (await dockerOk(h(), ['inspect', '-f', '{{.Id}}', 'changed'])));
    assert.deepEqual(img.Config.Cmd, ['cat', '/hello']);
    assert.deepEqual(img.ContainerConfig.Cmd, ['sh', '-c', CHANGES]);
    assert.match(img.DockerVersion, /^\d+\.\d+\.\d+$/);

    // history: the new layer on top of busybox's, each named like docker names them
    const fmt = '{{.ID}}|{{.CreatedBy}}|{{.Comment}}|{{.Size}}';
    const hist = (await shoalOk(h(), ['history', '--no-trunc', '--format', fmt, 'snap:v1'])).split('\n');
    assert.equal(hist.length, 2, hist.join('\n'));
    assert.equal(hist[0], `${img.Id}|sh -c ${CHANGES}|added hello|${hist[0]!.split('|')[3]}`);
    assert.match(hist[0]!.split('|')[3]!, /^\d+B$/, 'the layer holds a few bytes');
    assert.ok(hist[1]!.startsWith(`${busybox.Id}|`), `the layer below is busybox's: ${hist[1]}`);
    assert.deepEqual(hist, (await dockerOk(h(), ['history', '--no-trunc', '--format', fmt, 'snap:v1'])).split('\n'), 'docker history agrees');

    // `docker diff` of the container lists what went into the layer (no /etc/hosts mount points)
    assert.deepEqual((await dockerOk(h(), ['diff', 'changed'])).split('\n'), [
      'C /bin', 'D /bin/ls', 'C /etc', 'D /etc/group', 'A /hello', 'A /hello-link', 'C /var', 'C /var/www', 'A /var/www/new.html',
    ]);
  });

  it('docker commit with --change, an untagged commit, and a container that never changed', T, async () => {
    await dockerOk(h(), ['run', '--name', 'env1', 'busybox', 'sh', '-c', 'mkdir /data && echo x > /data/f']);
    const id = await dockerOk(h(), ['commit', '--change', 'ENV GREETING="hi there"', '--change', 'WORKDIR /data', '--change', 'LABEL team=storage',
      '--change', 'EXPOSE 8080', '--change', 'USER nobody', 'env1', 'dsnap']);
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.equal(await dockerOk(h(), ['run', '--rm', 'dsnap', 'sh', '-c', 'echo "$GREETING"; pwd; id -u; cat f']), 'hi there\n/data\n65534\nx');
    const img = await inspect('dsnap:latest');
    assert.equal(img.Id, id);
    assert.deepEqual(img.Config.Labels, { team: 'storage' });
    assert.deepEqual(img.Config.ExposedPorts, { '8080/tcp': {} });
    assert.deepEqual(img.Config.Cmd, ['sh', '-c', 'mkdir /data && echo x > /data/f'], 'without a CMD change the container\'s command stays');

    const bare = await dockerOk(h(), ['commit', 'env1']);
    assert.equal(await dockerOk(h(), ['images', '--no-trunc', '-q', '--filter', 'dangling=true']), bare, 'no repository: a dangling image');

    // created, never started: nothing changed, so no new layer, only a history entry
    await dockerOk(h(), ['create', '--name', 'pristine', 'busybox']);
    await dockerOk(h(), ['commit', '-m', 'nothing', 'pristine', 'same:1']);
    const same = await inspect('same:1');
    assert.deepEqual(same.RootFS.Layers, (await inspect('busybox')).RootFS.Layers);
    const hist = (await dockerOk(h(), ['history', '--format', '{{.Size}} {{.Comment}}', 'same:1'])).split('\n');
    assert.equal(hist[0], '0B nothing');
  });

  it('a running container is paused while it is committed (unless -p=false), and a commit event is emitted', T, async () => {
    await dockerOk(h(), ['run', '-d', '--name', 'live', 'busybox', 'sh', '-c', 'echo up > /state; exec sleep 600']);
    const since = (Date.now() / 1000 - 1).toFixed(3);
    const paused = await shoalOk(h(), ['commit', 'live', 'live:paused']);
    const unpaused = await shoalOk(h(), ['commit', '-p=false', '-m', 'hot', 'live', 'live:hot']);
    const until = (Date.now() / 1000 + 1).toFixed(3);
    assert.equal(await dockerOk(h(), ['inspect', '-f', '{{.State.Status}}', 'live']), 'running');
    const ev = (await dockerOk(h(), ['events', '--since', since, '--until', until, '--filter', 'container=live',
      '--filter', 'event=pause', '--filter', 'event=unpause', '--filter', 'event=commit',
      '--format', '{{.Action}} {{.Actor.Attributes.imageID}} {{.Actor.Attributes.imageRef}} {{.Actor.Attributes.comment}}'])).split('\n');
    // Docker's order: the commit is logged before the deferred unpause
    assert.deepEqual(ev.map((l) => l.replace(/ <no value>/g, '').trim()), ['pause', `commit ${paused} live:paused`, 'unpause', `commit ${unpaused} live:hot hot`], ev.join('\n'));
    assert.equal(await dockerOk(h(), ['run', '--rm', 'live:hot', 'cat', '/state']), 'up');
    await dockerOk(h(), ['rm', '-f', 'live']);
  });

  it('the API: a body config replaces the container\'s, completed from it; errors are Docker\'s', T, async () => {
    await dockerOk(h(), ['run', '--name', 'apic', '-e', 'FROM_CONTAINER=1', 'busybox', 'true']);
    const r = await h().api('POST', '/v1.41/commit?container=apic&repo=apiimg&tag=2&comment=via%20api', { body: { Cmd: ['echo', 'from-body'], Env: ['X=1'] } });
    assert.equal(r.status, 201, r.body.toString());
    const id = (r.json as { Id: string }).Id;
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    const img = await inspect('apiimg:2');
    assert.equal(img.Id, id);
    assert.deepEqual(img.Config.Cmd, ['echo', 'from-body']);
    assert.deepEqual(img.Config.Env.sort(), ['FROM_CONTAINER=1', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'X=1']);
    assert.equal(await dockerOk(h(), ['run', '--rm', 'apiimg:2']), 'from-body');

    const missing = await h().api('POST', '/v1.41/commit?container=nosuch');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json, { message: 'No such container: nosuch' });
    const badRepo = await h().api('POST', '/v1.41/commit?container=apic&repo=Bad/Name');
    assert.equal(badRepo.status, 400);
    assert.match((badRepo.json as { message: string }).message, /invalid reference format: repository name .*must be lowercase/);
    const badChange = await h().api('POST', `/v1.41/commit?container=apic&changes=${encodeURIComponent('RUN true')}`);
    assert.equal(badChange.status, 400);
    assert.deepEqual(badChange.json, { message: 'run is not a valid change command' });
    const cli = await h().shoal(['commit', 'nosuch']);
    assert.equal(cli.code, 1, show(cli));
    assert.equal(cli.stderr, 'Error response from daemon: No such container: nosuch\n');
    assert.deepEqual(await h().docker(['commit', 'nosuch']).then((x) => [x.code, x.stderr]), [1, 'Error response from daemon: No such container: nosuch\n']);
  });
});
