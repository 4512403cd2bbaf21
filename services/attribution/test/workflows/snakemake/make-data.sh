#!/bin/sh
# Builds the test data in DIR from Debian's bowtie2-examples: the lambda phage reference and
# three samples of reads. REPS repeats each sample's reads (longer jobs for benchmark checks);
# EXTRA_MB appends that many megabases of seeded pseudo-random sequence to the reference so
# that `bwa index` runs for seconds.
set -eu
dir=$1; reps=${2:-1}; extra_mb=${3:-0}
ex=/usr/share/doc/bowtie2/examples
mkdir -p "$dir/data"
zcat "$ex/reference/lambda_virus.fa.gz" > "$dir/data/ref.fa"
if [ "$extra_mb" -gt 0 ]; then
  awk -v mb="$extra_mb" 'BEGIN {
    srand(7); print ">synthetic"; split("ACGT", b, "");
    for (i = 0; i < mb * 1000000 / 80; i++) { s = ""; for (j = 0; j < 80; j++) s = s b[int(rand() * 4) + 1]; print s }
  }' >> "$dir/data/ref.fa"
fi
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
