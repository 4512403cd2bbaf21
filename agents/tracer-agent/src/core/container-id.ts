// Which container a cgroup path belongs to, from the path alone: the layouts Docker,
// containerd, CRI-O, Podman and the kubelet give their cgroups, with the systemd cgroup
// driver (scopes and slices) and the cgroupfs one, on cgroup v1 hierarchies and v2 alike.
// Pure: the runtime's state files (image, pod name) are read by adapters/containers.ts.

export type ContainerRuntime = 'docker' | 'containerd' | 'cri-o' | 'podman';

export interface ContainerRef {
  /** The runtime's full container id (64 hex digits). */
  id: string;
  /** Undefined when the layout does not say (Kubernetes with the cgroupfs driver). */
  runtime?: ContainerRuntime;
  /** Kubernetes pod UID (with dashes), when the path runs through a pod cgroup. */
  podUid?: string;
  /** The cgroup path up to and including the container's own cgroup. */
  cgroupPath: string;
}

const ID = '([0-9a-f]{64})';

/** One path segment naming a container: the pattern and the runtime it implies. */
const SEGMENTS: { re: RegExp; runtime?: ContainerRuntime }[] = [
  // systemd driver: <runtime>-<id>.scope (conmon's own scopes are not the container).
  { re: new RegExp(`^docker-${ID}\\.scope$`), runtime: 'docker' },
  { re: new RegExp(`^cri-containerd-${ID}\\.scope$`), runtime: 'containerd' },
  { re: new RegExp(`^nerdctl-${ID}\\.scope$`), runtime: 'containerd' },
  { re: new RegExp(`^crio-${ID}\\.scope$`), runtime: 'cri-o' },
  { re: new RegExp(`^libpod-${ID}\\.scope$`), runtime: 'podman' },
  // containerd's systemd driver inside a unit (kind, k3s): <slice>:cri-containerd:<id>.
  { re: new RegExp(`:cri-containerd:${ID}$`), runtime: 'containerd' },
  { re: new RegExp(`:crio:${ID}$`), runtime: 'cri-o' },
  // cgroupfs driver: podman's libpod-<id>, or a bare id under a runtime's parent.
  { re: new RegExp(`^libpod-${ID}$`), runtime: 'podman' },
  { re: new RegExp(`^${ID}$`) },
];

/** Parents that say which runtime a bare-id segment belongs to (cgroupfs driver). */
function runtimeOfParent(parent: string | undefined): ContainerRuntime | undefined {
  switch (parent) {
    case 'docker':
      return 'docker';
    case 'libpod_parent':
      return 'podman';
    case 'default':
    case 'k8s.io':
    case 'moby':
      // containerd namespaces (ctr, nerdctl with cgroupfs; moby is Docker's own namespace)
      return parent === 'moby' ? 'docker' : 'containerd';
    default:
      return undefined;
  }
}

/** The pod UID a kubelet cgroup segment carries: pod<uid> or kubepods-<qos>-pod<uid_>.slice. */
function podUidOf(segment: string): string | undefined {
  const m = /^(?:kubepods(?:-[a-z]+)?-)?pod([0-9a-f_-]{36})(?:\.slice)?$/.exec(segment);
  return m ? m[1]!.replace(/_/g, '-') : undefined;
}

/** Where a bare 64-hex segment is a container: under a known parent, a pod, ECS, or Docker. */
function bareIdIsContainer(parents: string[]): boolean {
  if (parents.some((p) => p === 'docker' || p === 'ecs' || p === 'libpod_parent')) return true;
  if (parents.some((p) => p === 'kubepods' || p.startsWith('kubepods'))) return true;
  const parent = parents.at(-1);
  return runtimeOfParent(parent) !== undefined;
}

/**
 * The innermost container a cgroup path belongs to (Docker-in-Docker gives the inner one),
 * or undefined for a cgroup no container runtime made. Segments below the container's own
 * cgroup (a `container` child for cgroup namespaces, a systemd init's units) are allowed.
 */
export function parseContainerCgroup(path: string): ContainerRef | undefined {
  const segments = path.split('/').filter((s) => s !== '');
  for (let i = segments.length - 1; i >= 0; i--) {
    const seg = segments[i]!;
    for (const { re, runtime } of SEGMENTS) {
      const m = re.exec(seg);
      if (!m) continue;
      const parents = segments.slice(0, i);
      if (runtime === undefined && !bareIdIsContainer(parents)) break;
      const ref: ContainerRef = { id: m[1]!, cgroupPath: `/${segments.slice(0, i + 1).join('/')}` };
      const rt =
        runtime ??
        runtimeOfParent(parents.at(-1)) ??
        (parents.includes('docker') || parents.includes('ecs') ? 'docker' : undefined);
      if (rt) ref.runtime = rt;
      // The pod's cgroup is a parent, or the part before ':' of a unit-scoped segment.
      for (const p of [...parents, seg.split(':')[0]!]) {
        const uid = podUidOf(p);
        if (uid) ref.podUid = uid;
      }
      return ref;
    }
  }
  return undefined;
}

/** The cgroup path of a process in one hierarchy, from /proc/<pid>/cgroup's text:
 * `v2` gives the unified line (0::/path), a controller name the v1 line that lists it. */
export function cgroupPathFromProc(text: string, hierarchy: 'v2' | string): string | undefined {
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const id = line.slice(0, first);
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (hierarchy === 'v2' ? id === '0' && controllers === '' : controllers.split(',').includes(hierarchy)) return path;
  }
  return undefined;
}
