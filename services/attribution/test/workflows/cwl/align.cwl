cwlVersion: v1.2
class: Workflow
doc: bwa index, then bwa mem + samtools view per sample (scatter), then samtools sort.
requirements:
  ScatterFeatureRequirement: {}
inputs:
  ref: File
  reads: File[]
outputs:
  sorted: {type: 'File[]', outputSource: sort/sorted}
steps:
  index:
    run: index.cwl
    in: {ref: ref}
    out: [indexed]
  map:
    run: map.cwl
    scatter: fq
    in: {ref: index/indexed, fq: reads}
    out: [bam]
  sort:
    run: sort.cwl
    scatter: bam
    in: {bam: map/bam}
    out: [sorted]
