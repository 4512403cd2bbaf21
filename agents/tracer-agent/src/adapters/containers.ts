// Containers, from cgroups: which cgroup an exec record's cgroupId is (a directory of the
// hierarchy it comes from, by inode number), which container that path belongs to
// (core/container-id.ts), the container's image and pod from the runtime's state files when
// readable, and container.start (at the first exec seen in it) / container.stop (when its
// cgroup is removed). Also the per-cgroup memory limit, usage and pressure for samples.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ContainerRef,
  type ContainerRuntime,
  cgroupPathFromProc,
  parseContainerCgroup,
} from '../core/container-id.ts';
import type { SourceRecord } from '../core/source.ts';

type ContainerStart = Extract<SourceRecord, { type: 'container.start' }>;
type ContainerStop = Extract<SourceRecord, { type: 'container.stop' }>;

export interface CgroupHierarchy {
  /** Where it is mounted: /sys/fs/cgroup/memory (v1 memory), /sys/fs/cgroup (v2). */
  mount: string;
  /** How /proc/<pid>/cgroup names it: 'memory' (v1) or 'v2'. */
  procKey: string;
}

/** The hierarchy exec records' cgroupId comes from (bpf/process.bpf.c task_cgroup_id). */
export function cgroupIdHierarchy(v1Memory: boolean, mountinfo?: string): CgroupHierarchy | undefined {
  const text = mountinfo ?? safeRead('/proc/self/mountinfo') ?? '';
  for (const line of text.split('\n')) {
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const fields = line.slice(0, dash).split(' ');
    const [fstype, , superOptions = ''] = line.slice(dash + 3).split(' ');
    const mount = fields[4];
    if (!mount) continue;
    if (v1Memory && fstype === 'cgroup' && superOptions.split(',').includes('memory'))
      return { mount, procKey: 'memory' };
    if (!v1Memory && fstype === 'cgroup2') return { mount, procKey: 'v2' };
  }
  return undefined;
}

function safeRead(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * cgroup id -> path in one hierarchy. A cgroup's id is its directory's inode number
 * (kernfs), so a walk of the mount fills it; mkdir/rmdir records keep it current, and an id
 * still unknown is looked up in the process's /proc/<pid>/cgroup, then by a fresh walk (at
 * most one per rescanIntervalMs).
 */
export class CgroupDirectory {
  private readonly paths = new Map<string, string>();
  private lastScanMs = Number.NEGATIVE_INFINITY;
  readonly hierarchy: CgroupHierarchy;
  private readonly rescanIntervalMs: number;
  private readonly procRoot: string;

  constructor(hierarchy: CgroupHierarchy, options: { rescanIntervalMs?: number; procRoot?: string } = {}) {
    this.hierarchy = hierarchy;
    this.rescanIntervalMs = options.rescanIntervalMs ?? 5000;
    this.procRoot = options.procRoot ?? '/proc';
  }

  /** Walks the hierarchy (bounded depth and count). */
  scan(): void {
    this.lastScanMs = Date.now();
    let budget = 100_000;
    const walk = (dir: string, rel: string, depth: number) => {
      let ino: number;
      try {
        ino = statSync(dir).ino;
      } catch {
        return;
      }
      this.paths.set(String(ino), rel || '/');
      if (depth >= 16) return;
      let entries: import('node:fs').Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        if (!e.isDirectory() || budget-- <= 0) continue;
        walk(join(dir, e.name), `${rel}/${e.name}`, depth + 1);
      }
    };
    walk(this.hierarchy.mount, '', 0);
  }

  set(cgroupId: string, path: string): void {
    this.paths.set(cgroupId, path || '/');
  }

  delete(cgroupId: string): void {
    this.paths.delete(cgroupId);
  }

  /** The path of cgroupId, using the process pid as a hint when the id is new to us. */
  pathOf(cgroupId: string, pid?: number): string | undefined {
    const known = this.paths.get(cgroupId);
    if (known !== undefined) return known;
    if (pid !== undefined) {
      const text = safeRead(`${this.procRoot}/${pid}/cgroup`);
      const path = text && cgroupPathFromProc(text, this.hierarchy.procKey);
      // The process may have moved since its exec: trust the path only if its inode is the id.
      if (path) {
        try {
          if (String(statSync(join(this.hierarchy.mount, path)).ino) === cgroupId) {
            this.paths.set(cgroupId, path);
            return path;
          }
        } catch {}
      }
    }
    if (Date.now() - this.lastScanMs >= this.rescanIntervalMs) {
      this.scan();
      return this.paths.get(cgroupId);
    }
    return undefined;
  }

  get size(): number {
    return this.paths.size;
  }
}

export interface ContainerMetadata {
  runtime?: ContainerRuntime;
  image?: string;
  pod?: string;
  namespace?: string;
  name?: string;
}

/** Where the runtimes keep their state; overridable for tests and unusual installs. */
export interface RuntimeRoots {
  docker: string;
  containerdTasks: string;
  /** containers/storage roots (CRI-O and Podman), each holding overlay-containers/. */
  containersStorage: string[];
}

export const DEFAULT_RUNTIME_ROOTS: RuntimeRoots = {
  docker: '/var/lib/docker',
  containerdTasks: '/run/containerd/io.containerd.runtime.v2.task',
  containersStorage: ['/var/lib/containers/storage', '/run/containers/storage'],
};

function readJson(path: string): Record<string, unknown> | undefined {
  const text = safeRead(path);
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});

function compact(m: ContainerMetadata): ContainerMetadata {
  return Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined)) as ContainerMetadata;
}

/** Docker: containers/<id>/config.v2.json (image, name; the kubelet's labels under dockershim). */
function readDocker(id: string, roots: RuntimeRoots): ContainerMetadata | undefined {
  const c = readJson(join(roots.docker, 'containers', id, 'config.v2.json'));
  if (!c) return undefined;
  const config = obj(c.Config);
  const labels = obj(config.Labels);
  return compact({
    runtime: 'docker',
    image: str(config.Image),
    name: str(c.Name)?.replace(/^\//, ''),
    pod: str(labels['io.kubernetes.pod.name']),
    namespace: str(labels['io.kubernetes.pod.namespace']),
  });
}

/** containerd: the task's OCI bundle, <tasks>/<namespace>/<id>/config.json (CRI annotations). */
function readContainerd(id: string, roots: RuntimeRoots): ContainerMetadata | undefined {
  let namespaces: string[];
  try {
    namespaces = readdirSync(roots.containerdTasks);
  } catch {
    return undefined;
  }
  for (const ns of namespaces) {
    const spec = readJson(join(roots.containerdTasks, ns, id, 'config.json'));
    if (!spec) continue;
    const a = obj(spec.annotations);
    return compact({
      runtime: 'containerd',
      image: str(a['io.kubernetes.cri.image-name']),
      name: str(a['io.kubernetes.cri.container-name']),
      pod: str(a['io.kubernetes.cri.sandbox-name']),
      namespace: str(a['io.kubernetes.cri.sandbox-namespace']) ?? (ns === 'k8s.io' ? undefined : ns),
    });
  }
  return undefined;
}

/** CRI-O and Podman: overlay-containers/<id>/userdata/config.json (OCI spec with annotations),
 * and Podman's image name from overlay-containers/containers.json metadata. */
function readContainersStorage(id: string, roots: RuntimeRoots): ContainerMetadata | undefined {
  for (const root of roots.containersStorage) {
    const dir = join(root, 'overlay-containers');
    const spec = readJson(join(dir, id, 'userdata', 'config.json'));
    if (!spec) continue;
    const a = obj(spec.annotations);
    if (str(a['io.kubernetes.cri-o.ContainerID']) !== undefined || str(a['io.kubernetes.pod.name']) !== undefined) {
      return compact({
        runtime: 'cri-o',
        image: str(a['io.kubernetes.cri-o.ImageName']) ?? str(a['io.kubernetes.cri-o.Image']),
        name: str(a['io.kubernetes.container.name']),
        pod: str(a['io.kubernetes.pod.name']),
        namespace: str(a['io.kubernetes.pod.namespace']),
      });
    }
    let image: string | undefined;
    let name: string | undefined;
    const list = safeRead(join(dir, 'containers.json'));
    if (list) {
      try {
        const entry = (JSON.parse(list) as Record<string, unknown>[]).find((e) => e.id === id);
        if (entry) {
          name = Array.isArray(entry.names) ? str(entry.names[0]) : undefined;
          const meta =
            typeof entry.metadata === 'string' ? (JSON.parse(entry.metadata) as Record<string, unknown>) : {};
          image = str(meta['image-name']);
          name ??= str(meta.name);
        }
      } catch {}
    }
    return compact({ runtime: 'podman', image, name });
  }
  return undefined;
}

/** What the runtime's state files say about a container (nothing when none is readable). */
export function readContainerMetadata(
  ref: ContainerRef,
  roots: RuntimeRoots = DEFAULT_RUNTIME_ROOTS,
): ContainerMetadata {
  const readers: Record<ContainerRuntime, (id: string, r: RuntimeRoots) => ContainerMetadata | undefined> = {
    docker: readDocker,
    containerd: readContainerd,
    'cri-o': readContainersStorage,
    podman: readContainersStorage,
  };
  const order: ContainerRuntime[] = ref.runtime
    ? [ref.runtime, ...(['docker', 'containerd', 'cri-o'] as const).filter((r) => r !== ref.runtime)]
    : ['containerd', 'cri-o', 'docker'];
  for (const rt of order) {
    const m = readers[rt](ref.id, roots);
    if (m) return m;
  }
  return ref.runtime ? { runtime: ref.runtime } : {};
}

interface KnownContainer {
  id: string;
  cgroupId: string;
}

/**
 * Containers seen in exec records: each exec gets its containerId; the first exec in a
 * container's cgroup yields container.start, the removal of that cgroup container.stop.
 */
export class ContainerTracker {
  private readonly directory: CgroupDirectory | undefined;
  private readonly roots: RuntimeRoots;
  /** cgroupId -> its container (undefined: a cgroup that is none). */
  private readonly byCgroup = new Map<string, KnownContainer | undefined>();
  private readonly started = new Set<string>();

  constructor(directory: CgroupDirectory | undefined, roots: RuntimeRoots = DEFAULT_RUNTIME_ROOTS) {
    this.directory = directory;
    this.roots = roots;
  }

  /** The container of this exec's cgroup, and the container.start it implies (first time). */
  onExec(cgroupId: string | undefined, pid: number, ts: number): { containerId?: string; start?: ContainerStart } {
    if (cgroupId === undefined || !this.directory) return {};
    let known = this.byCgroup.get(cgroupId);
    let ref: ContainerRef | undefined;
    if (!this.byCgroup.has(cgroupId)) {
      const path = this.directory.pathOf(cgroupId, pid);
      if (path === undefined) return {};
      ref = parseContainerCgroup(path);
      known = ref && { id: ref.id, cgroupId };
      this.byCgroup.set(cgroupId, known);
    }
    if (!known) return {};
    if (this.started.has(cgroupId)) return { containerId: known.id };
    this.started.add(cgroupId);
    ref ??= parseContainerCgroup(this.directory.pathOf(cgroupId) ?? '');
    const meta = ref ? readContainerMetadata(ref, this.roots) : {};
    const start: ContainerStart = {
      type: 'container.start',
      ts,
      containerId: known.id,
      cgroupId,
      ...(meta.runtime ? { runtime: meta.runtime } : {}),
      ...(meta.image ? { image: meta.image } : {}),
      ...(meta.pod ? { pod: meta.pod } : {}),
      ...(meta.namespace ? { namespace: meta.namespace } : {}),
    };
    return { containerId: known.id, start };
  }

  /** A cgroup made or removed: the directory follows; a started container's removal stops it. */
  onCgroup(op: 'mkdir' | 'rmdir', cgroupId: string, path: string, ts: number): ContainerStop | undefined {
    if (op === 'mkdir') {
      this.directory?.set(cgroupId, path);
      this.byCgroup.delete(cgroupId);
      return undefined;
    }
    const known = this.byCgroup.get(cgroupId);
    this.directory?.delete(cgroupId);
    this.byCgroup.delete(cgroupId);
    if (!known || !this.started.delete(cgroupId)) return undefined;
    return { type: 'container.stop', ts, containerId: known.id, cgroupId };
  }
}

export interface Pressure {
  some10: number;
  full10?: number;
}

export interface CgroupResources {
  memoryLimitBytes?: number;
  memoryUsageBytes?: number;
  pressure?: { cpu?: Pressure; memory?: Pressure; io?: Pressure };
}

/** A PSI file's avg10 figures ("some avg10=1.23 ..." / "full avg10=..."). */
export function parsePressure(text: string): Pressure | undefined {
  const some = /^some avg10=([0-9.]+)/m.exec(text);
  if (!some) return undefined;
  const full = /^full avg10=([0-9.]+)/m.exec(text);
  return { some10: Number(some[1]), ...(full ? { full10: Number(full[1]) } : {}) };
}

// v1 reports "no limit" as the largest page-aligned long; v2 as "max".
const V1_UNLIMITED = 2 ** 62;

function readNumber(path: string): number | undefined {
  const t = safeRead(path)?.trim();
  if (t === undefined || t === '' || t === 'max') return undefined;
  const n = Number(t);
  return Number.isFinite(n) && n < V1_UNLIMITED ? n : undefined;
}

/**
 * The memory limit, usage and pressure of a process's cgroup: the limit and usage from its
 * memory controller (v1 memory.limit_in_bytes/usage_in_bytes, or v2 memory.max/current),
 * pressure from its unified (v2) cgroup's *.pressure files, which hybrid hosts also have.
 */
export function readCgroupResources(
  pid: number,
  mounts: { v1Memory?: string; v2?: string },
  procRoot = '/proc',
): CgroupResources | undefined {
  const text = safeRead(`${procRoot}/${pid}/cgroup`);
  if (!text) return undefined;
  const out: CgroupResources = {};
  const v2Path = mounts.v2 !== undefined ? cgroupPathFromProc(text, 'v2') : undefined;
  const v1Path = mounts.v1Memory !== undefined ? cgroupPathFromProc(text, 'memory') : undefined;
  if (v1Path !== undefined && mounts.v1Memory) {
    const dir = join(mounts.v1Memory, v1Path);
    const limit = readNumber(join(dir, 'memory.limit_in_bytes'));
    const usage = readNumber(join(dir, 'memory.usage_in_bytes'));
    if (limit !== undefined) out.memoryLimitBytes = limit;
    if (usage !== undefined) out.memoryUsageBytes = usage;
  }
  if (v2Path !== undefined && mounts.v2) {
    const dir = join(mounts.v2, v2Path);
    if (out.memoryUsageBytes === undefined) {
      const limit = readNumber(join(dir, 'memory.max'));
      const usage = readNumber(join(dir, 'memory.current'));
      if (limit !== undefined) out.memoryLimitBytes = limit;
      if (usage !== undefined) out.memoryUsageBytes = usage;
    }
    const pressure: NonNullable<CgroupResources['pressure']> = {};
    for (const r of ['cpu', 'memory', 'io'] as const) {
      const p = parsePressure(safeRead(join(dir, `${r}.pressure`)) ?? '');
      if (p) pressure[r] = p;
    }
    if (Object.keys(pressure).length > 0) out.pressure = pressure;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The v1 memory and v2 mounts of this host, from /proc/self/mountinfo. */
export function cgroupMounts(mountinfo?: string): { v1Memory?: string; v2?: string } {
  const v1 = cgroupIdHierarchy(true, mountinfo);
  const v2 = cgroupIdHierarchy(false, mountinfo);
  return { ...(v1 ? { v1Memory: v1.mount } : {}), ...(v2 ? { v2: v2.mount } : {}) };
}
