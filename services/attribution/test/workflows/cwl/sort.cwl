cwlVersion: v1.2
class: CommandLineTool
doc: Sorts a BAM with samtools.
inputs:
  bam: {type: File, inputBinding: {position: 2}}
baseCommand: [samtools, sort]
arguments: ["-o", "sorted.bam"]
outputs:
  sorted: {type: File, outputBinding: {glob: sorted.bam}}
