#!/bin/sh
# Builds the test data in DIR from Debian's bowtie2-examples: the lambda phage reference and
# three samples of reads. REPS repeats each sample's reads (longer jobs for benchmark checks).
set -eu
dir=$1; reps=${2:-1}
ex=/usr/share/doc/bowtie2/examples
mkdir -p "$dir/data"
zcat "$ex/reference/lambda_virus.fa.gz" > "$dir/data/ref.fa"
i=0
while [ "$i" -lt "$reps" ]; do
  zcat "$ex/reads/reads_1.fq.gz" | head -8000
  i=$((i + 1))
done > "$dir/data/A.fq"
i=0
while [ "$i" -lt "$reps" ]; do
  zcat "$ex/reads/reads_1.fq.gz" | sed -n 8001,16000p
  i=$((i + 1))
done > "$dir/data/B.fq"
i=0
while [ "$i" -lt "$reps" ]; do
  zcat "$ex/reads/reads_2.fq.gz" | head -8000
  i=$((i + 1))
done > "$dir/data/C.fq"
