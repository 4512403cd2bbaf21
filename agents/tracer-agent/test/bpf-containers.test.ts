// Container metadata from runtime state files, the cgroup directory, and per-cgroup memory
// and pressure, against files laid out as the runtimes and the kernel lay them out (no
// container runtime needed).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  CgroupDirectory,
  ContainerTracker,
  cgroupIdHierarchy,
  cgroupMounts,
  parsePressure,
  type RuntimeRoots,
  readCgroupResources,
  readContainerMetadata,
} from '../src/adapters/containers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tracer-containers-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const ID = '7e3f'.repeat(16);
const roots: RuntimeRoots = {
  docker: join(tmp, 'docker'),
  containerdTasks: join(tmp, 'containerd-tasks'),
  containersStorage: [join(tmp, 'storage')],
};

function write(path: string, value: unknown) {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
}

test('containerd (Kubernetes CRI): image, pod and namespace from the bundle annotations', () => {
  write(join(roots.containerdTasks, 'k8s.io', ID, 'config.json'), {
    ociVersion: '1.1.0',
    annotations: {
      'io.kubernetes.cri.container-type': 'container',
      'io.kubernetes.cri.container-name': 'salmon',
      'io.kubernetes.cri.image-name': 'quay.io/biocontainers/salmon:1.10.1',
      'io.kubernetes.cri.sandbox-name': 'quant-sample7',
      'io.kubernetes.cri.sandbox-namespace': 'rnaseq',
    },
  });
  assert.deepEqual(readContainerMetadata({ id: ID, runtime: 'containerd', cgroupPath: '/x' }, roots), {
    runtime: 'containerd',
    image: 'quay.io/biocontainers/salmon:1.10.1',
    name: 'salmon',
    pod: 'quant-sample7',
    namespace: 'rnaseq',
  });
  // Kubernetes with the cgroupfs driver: the runtime is found by its state.
  assert.equal(readContainerMetadata({ id: ID, cgroupPath: '/kubepods/podx/y' }, roots).runtime, 'containerd');
  rmSync(roots.containerdTasks, { recursive: true });
});

test('CRI-O: annotations in userdata/config.json', () => {
  write(join(roots.containersStorage[0]!, 'overlay-containers', ID, 'userdata', 'config.json'), {
    annotations: {
      'io.kubernetes.cri-o.ContainerID': ID,
      'io.kubernetes.cri-o.ImageName': 'docker.io/library/python:3.12',
      'io.kubernetes.container.name': 'main',
      'io.kubernetes.pod.name': 'etl-29',
      'io.kubernetes.pod.namespace': 'batch',
    },
  });
  assert.deepEqual(readContainerMetadata({ id: ID, runtime: 'cri-o', cgroupPath: '/x' }, roots), {
    runtime: 'cri-o',
    image: 'docker.io/library/python:3.12',
    name: 'main',
    pod: 'etl-29',
    namespace: 'batch',
  });
  rmSync(roots.containersStorage[0]!, { recursive: true });
});

test('Podman: image name from containers.json metadata', () => {
  const dir = join(roots.containersStorage[0]!, 'overlay-containers');
  write(join(dir, ID, 'userdata', 'config.json'), { annotations: { 'io.container.manager': 'libpod' } });
  write(join(dir, 'containers.json'), [
    {
      id: ID,
      names: ['nifty_bwa'],
      image: 'f00d',
      metadata: JSON.stringify({ 'image-name': 'quay.io/biocontainers/bwa:0.7.17', name: 'nifty_bwa' }),
    },
  ]);
  assert.deepEqual(readContainerMetadata({ id: ID, runtime: 'podman', cgroupPath: '/x' }, roots), {
    runtime: 'podman',
    image: 'quay.io/biocontainers/bwa:0.7.17',
    name: 'nifty_bwa',
  });
  rmSync(roots.containersStorage[0]!, { recursive: true });
});

test('nothing readable: the runtime the path gave, no more', () => {
  assert.deepEqual(readContainerMetadata({ id: ID, runtime: 'docker', cgroupPath: '/x' }, roots), {
    runtime: 'docker',
  });
  assert.deepEqual(readContainerMetadata({ id: ID, cgroupPath: '/x' }, roots), {});
});

test('cgroup directory: ids are inode numbers; mkdir/rmdir follow; a fresh walk finds new ones', () => {
  const mount = join(tmp, 'cgroupfs');
  mkdirSync(join(mount, 'docker', ID), { recursive: true });
  const dir = new CgroupDirectory({ mount, procKey: 'memory' }, { rescanIntervalMs: 0 });
  dir.scan();
  const id = String(statSync(join(mount, 'docker', ID)).ino);
  assert.equal(dir.pathOf(id), `/docker/${ID}`);
  assert.equal(dir.pathOf(String(statSync(mount).ino)), '/');
  mkdirSync(join(mount, 'later'));
  assert.equal(dir.pathOf(String(statSync(join(mount, 'later')).ino)), '/later', 'found by a rescan');

  const tracker = new ContainerTracker(dir, roots);
  assert.deepEqual(tracker.onExec(String(statSync(join(mount, 'later')).ino), 1, 5), {});
  const first = tracker.onExec(id, 1, 10);
  assert.equal(first.containerId, ID);
  assert.deepEqual(first.start, { type: 'container.start', ts: 10, containerId: ID, cgroupId: id, runtime: 'docker' });
  assert.deepEqual(tracker.onExec(id, 2, 11), { containerId: ID });
  assert.deepEqual(tracker.onCgroup('rmdir', id, `/docker/${ID}`, 20), {
    type: 'container.stop',
    ts: 20,
    containerId: ID,
    cgroupId: id,
  });
  assert.equal(tracker.onCgroup('rmdir', id, `/docker/${ID}`, 21), undefined, 'stopped once');
});

test('the hierarchy cgroupIds come from, on hybrid and unified hosts', () => {
  const hybrid = [
    '35 25 0:30 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755',
    '36 35 0:31 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate',
    '40 35 0:35 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
    '41 35 0:36 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct',
  ].join('\n');
  assert.deepEqual(cgroupIdHierarchy(true, hybrid), { mount: '/sys/fs/cgroup/memory', procKey: 'memory' });
  assert.deepEqual(cgroupIdHierarchy(false, hybrid), { mount: '/sys/fs/cgroup/unified', procKey: 'v2' });
  assert.deepEqual(cgroupMounts(hybrid), { v1Memory: '/sys/fs/cgroup/memory', v2: '/sys/fs/cgroup/unified' });
  const unified = '30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot';
  assert.deepEqual(cgroupMounts(unified), { v2: '/sys/fs/cgroup' });
});

test('cgroup memory and pressure of a process: v1 limits, v2 PSI (hybrid), v2 alone (unified)', () => {
  const proc = join(tmp, 'proc');
  const v1 = join(tmp, 'v1mem');
  const v2 = join(tmp, 'unified');
  write(join(proc, '42', 'cgroup'), '4:memory:/jobs/j1\n0::/jobs.slice/j1\n');
  write(join(v1, 'jobs/j1/memory.limit_in_bytes'), '2147483648\n');
  write(join(v1, 'jobs/j1/memory.usage_in_bytes'), '1073741824\n');
  const psi = 'some avg10=12.50 avg60=3.00 avg300=1.00 total=1\nfull avg10=4.25 avg60=1.00 avg300=0.50 total=1\n';
  write(join(v2, 'jobs.slice/j1/memory.pressure'), psi);
  write(join(v2, 'jobs.slice/j1/io.pressure'), psi);
  write(join(v2, 'jobs.slice/j1/cpu.pressure'), 'some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n');
  assert.deepEqual(readCgroupResources(42, { v1Memory: v1, v2 }, proc), {
    memoryLimitBytes: 2147483648,
    memoryUsageBytes: 1073741824,
    pressure: {
      cpu: { some10: 0 },
      memory: { some10: 12.5, full10: 4.25 },
      io: { some10: 12.5, full10: 4.25 },
    },
  });
  // Unified only: memory.max "max" means no limit.
  write(join(proc, '43', 'cgroup'), '0::/u\n');
  write(join(v2, 'u/memory.max'), 'max\n');
  write(join(v2, 'u/memory.current'), '5000\n');
  assert.deepEqual(readCgroupResources(43, { v2 }, proc), { memoryUsageBytes: 5000 });
  // v1 without a limit reports the largest page-aligned long.
  write(join(proc, '44', 'cgroup'), '4:memory:/\n');
  write(join(v1, 'memory.limit_in_bytes'), '9223372036854771712\n');
  write(join(v1, 'memory.usage_in_bytes'), '77\n');
  assert.deepEqual(readCgroupResources(44, { v1Memory: v1 }, proc), { memoryUsageBytes: 77 });
  assert.equal(readCgroupResources(45, { v2 }, proc), undefined, 'gone');
  assert.equal(parsePressure(''), undefined);
});
