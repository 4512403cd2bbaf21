import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cgroupPathFromProc, parseContainerCgroup } from './container-id.ts';

const A = `aaaaaaaa${'0123456789abcdef'.repeat(3)}deadbeef`;
const B = '4f6c'.repeat(16);
const POD = '3f2a1c9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b';

// Real layouts, v1 (per-controller hierarchy paths) and v2 (unified), systemd and cgroupfs drivers.
const cases: [string, string, ReturnType<typeof parseContainerCgroup>][] = [
  ['docker, cgroupfs (v1 and v2)', `/docker/${A}`, { id: A, runtime: 'docker', cgroupPath: `/docker/${A}` }],
  [
    'docker, systemd',
    `/system.slice/docker-${A}.scope`,
    { id: A, runtime: 'docker', cgroupPath: `/system.slice/docker-${A}.scope` },
  ],
  [
    'docker-in-docker: the inner container',
    `/docker/${A}/docker/${B}`,
    { id: B, runtime: 'docker', cgroupPath: `/docker/${A}/docker/${B}` },
  ],
  [
    'kubernetes + containerd, systemd driver',
    `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD.replace(/-/g, '_')}.slice/cri-containerd-${A}.scope`,
    {
      id: A,
      runtime: 'containerd',
      podUid: POD,
      cgroupPath: `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD.replace(/-/g, '_')}.slice/cri-containerd-${A}.scope`,
    },
  ],
  [
    'kubernetes guaranteed pod + cri-o, systemd driver',
    `/kubepods.slice/kubepods-pod${POD.replace(/-/g, '_')}.slice/crio-${A}.scope`,
    {
      id: A,
      runtime: 'cri-o',
      podUid: POD,
      cgroupPath: `/kubepods.slice/kubepods-pod${POD.replace(/-/g, '_')}.slice/crio-${A}.scope`,
    },
  ],
  [
    'kubernetes, cgroupfs driver: the runtime is not in the path',
    `/kubepods/besteffort/pod${POD}/${A}`,
    { id: A, podUid: POD, cgroupPath: `/kubepods/besteffort/pod${POD}/${A}` },
  ],
  [
    'kubernetes via dockershim, systemd driver',
    `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD.replace(/-/g, '_')}.slice/docker-${A}.scope`,
    {
      id: A,
      runtime: 'docker',
      podUid: POD,
      cgroupPath: `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD.replace(/-/g, '_')}.slice/docker-${A}.scope`,
    },
  ],
  [
    'kind / k3s: containerd unit with slice:cri-containerd:id',
    `/system.slice/containerd.service/kubepods-burstable-pod${POD.replace(/-/g, '_')}.slice:cri-containerd:${A}`,
    {
      id: A,
      runtime: 'containerd',
      podUid: POD,
      cgroupPath: `/system.slice/containerd.service/kubepods-burstable-pod${POD.replace(/-/g, '_')}.slice:cri-containerd:${A}`,
    },
  ],
  [
    'podman, systemd (root), with the cgroupns child',
    `/machine.slice/libpod-${A}.scope/container`,
    { id: A, runtime: 'podman', cgroupPath: `/machine.slice/libpod-${A}.scope` },
  ],
  [
    'podman rootless',
    `/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${A}.scope`,
    {
      id: A,
      runtime: 'podman',
      cgroupPath: `/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${A}.scope`,
    },
  ],
  [
    'podman, cgroupfs',
    `/libpod_parent/libpod-${A}`,
    { id: A, runtime: 'podman', cgroupPath: `/libpod_parent/libpod-${A}` },
  ],
  [
    'containerd (ctr), default namespace',
    `/default/${A}`,
    { id: A, runtime: 'containerd', cgroupPath: `/default/${A}` },
  ],
  [
    'nerdctl, systemd',
    `/system.slice/nerdctl-${A}.scope`,
    { id: A, runtime: 'containerd', cgroupPath: `/system.slice/nerdctl-${A}.scope` },
  ],
  [
    'ECS / AWS Batch',
    `/ecs/0123456789abcdef0123456789abcdef/${A}`,
    {
      id: A,
      runtime: 'docker',
      cgroupPath: `/ecs/0123456789abcdef0123456789abcdef/${A}`,
    },
  ],
  [
    "a process in the container's own systemd unit",
    `/system.slice/docker-${A}.scope/system.slice/nginx.service`,
    { id: A, runtime: 'docker', cgroupPath: `/system.slice/docker-${A}.scope` },
  ],
];

for (const [name, path, want] of cases) {
  test(`container id: ${name}`, () => {
    const got = parseContainerCgroup(path);
    const expected = want && Object.fromEntries(Object.entries(want).filter(([, v]) => v !== undefined));
    assert.deepEqual(got, expected);
  });
}

test('container id: cgroups no runtime made are not containers', () => {
  for (const path of [
    '/',
    '/user.slice/user-0.slice/session-3.scope',
    '/system.slice/sshd.service',
    `/system.slice/crio-conmon-${A}.scope`,
    `/machine.slice/libpod-conmon-${A}.scope`,
    '/process_api/56aea3aaa5656e032810a2b0071f36ca',
    `/somewhere/${A}`,
    '/kubepods.slice/kubepods-burstable.slice',
    `/docker/${A.slice(0, 12)}`,
  ]) {
    assert.equal(parseContainerCgroup(path), undefined, path);
  }
});

test('cgroup path of a process from /proc/<pid>/cgroup, hybrid and unified hosts', () => {
  const hybrid = [
    '9:name=systemd:/',
    '8:pids:/',
    `4:memory:/docker/${A}`,
    '3:cpu,cpuacct:/docker/x',
    `0::/system.slice/docker-${A}.scope`,
    '',
  ].join('\n');
  assert.equal(cgroupPathFromProc(hybrid, 'memory'), `/docker/${A}`);
  assert.equal(cgroupPathFromProc(hybrid, 'cpuacct'), '/docker/x');
  assert.equal(cgroupPathFromProc(hybrid, 'v2'), `/system.slice/docker-${A}.scope`);
  assert.equal(cgroupPathFromProc('0::/a/b\n', 'v2'), '/a/b');
  assert.equal(cgroupPathFromProc('0::/a/b\n', 'memory'), undefined);
});
