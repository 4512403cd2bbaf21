#!/bin/sh
# Writes job.yml for align.cwl in DIR (data from ../snakemake/make-data.sh); FAIL=B empties B.fq.
set -eu
dir=$1; fail=${2:-}
if [ -n "$fail" ]; then : > "$dir/data/$fail.fq"; fi
cat > "$dir/job.yml" <<YML
ref: {class: File, path: $dir/data/ref.fa}
reads:
  - {class: File, path: $dir/data/A.fq}
  - {class: File, path: $dir/data/B.fq}
  - {class: File, path: $dir/data/C.fq}
YML
