import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTemplate } from '../fmt.js';
import { goJSON } from '../../util/gofmt.js';
import { clientVersionInfo, goStruct, reformatDate, serverVersionInfo } from './system-version.js';

const serverJSON = {
  Platform: { Name: 'shoal' },
  Components: [{ Name: 'Engine', Version: '0.1.0', Details: { ApiVersion: '1.41', BuildTime: '2025-05-30T12:07:14.000000000+00:00', MinAPIVersion: '1.24' } }],
  Version: '0.1.0', ApiVersion: '1.41', MinAPIVersion: '1.24', GitCommit: 'abc', GoVersion: 'node20', Os: 'linux', Arch: 'amd64',
  KernelVersion: '6.1.0', BuildTime: '2025-05-30T12:07:14.000000000+00:00',
};

test('version: templates see the Go field names docker has, json the json names', () => {
  const data = goStruct('system.versionInfo', [['Client', undefined, clientVersionInfo()], ['Server', undefined, serverVersionInfo(serverJSON)]]);
  const r = (t: string) => renderTemplate(t, data);
  assert.equal(r('{{.Server.APIVersion}} {{.Server.MinAPIVersion}} {{.Server.Platform.Name}} {{.Server.KernelVersion}}'), '1.41 1.24 shoal 6.1.0');
  assert.equal(r('{{.Client.APIVersion}} {{.Client.DefaultAPIVersion}} {{.Client.Context}} {{.Client.Os}}'), `1.41 1.41 default ${process.platform}`);
  assert.equal(r('{{.Server.Experimental}} {{(index .Server.Components 0).Name}} {{.Server.BuildTime}}'), 'false Engine 2025-05-30T12:07:14.000000000+00:00');
  // docker's CLI shows the component's build time as time.ANSIC
  assert.equal(r('{{(index .Server.Components 0).Details.BuildTime}}'), 'Fri May 30 12:07:14 2025');
  assert.throws(() => r('{{.Server.ApiVersion}}'), /can't evaluate field ApiVersion in type \*types.Version/);
  const j = JSON.parse(r('{{json .}}'));
  assert.deepEqual(Object.keys(j.Server), ['Platform', 'Components', 'Version', 'ApiVersion', 'MinAPIVersion', 'GitCommit', 'GoVersion', 'Os', 'Arch', 'KernelVersion', 'BuildTime']);
  assert.deepEqual(Object.keys(j.Client), ['Version', 'ApiVersion', 'DefaultAPIVersion', 'GitCommit', 'GoVersion', 'Os', 'Arch', 'BuildTime', 'Context']);
  assert.equal(goJSON(serverVersionInfo({ Version: 'x' })).includes('KernelVersion'), false);
});

test('reformatDate is docker\'s RFC 3339 → ANSIC', () => {
  assert.equal(reformatDate('2026-01-02T03:04:05.123Z'), 'Fri Jan  2 03:04:05 2026');
  assert.equal(reformatDate('Fri May 30 12:07:14 2025'), 'Fri May 30 12:07:14 2025');
  assert.equal(reformatDate(''), '');
});
