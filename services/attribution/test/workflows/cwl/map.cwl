cwlVersion: v1.2
class: CommandLineTool
doc: Maps one sample's reads with bwa mem into a BAM (fails on an empty FASTQ).
requirements:
  ShellCommandRequirement: {}
  InlineJavascriptRequirement: {}
inputs:
  ref: {type: File, secondaryFiles: [.amb, .ann, .bwt, .pac, .sa]}
  fq: File
arguments:
  - valueFrom: "test -s $(inputs.fq.path) && bwa mem $(inputs.ref.path) $(inputs.fq.path) 2> /dev/null | samtools view -b - > mapped.bam"
    shellQuote: false
outputs:
  bam: {type: File, outputBinding: {glob: mapped.bam}}
