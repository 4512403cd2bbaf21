cwlVersion: v1.2
class: CommandLineTool
doc: Builds the bwa index of the reference.
requirements:
  InitialWorkDirRequirement:
    listing: [$(inputs.ref)]
inputs:
  ref: {type: File, inputBinding: {position: 1}}
baseCommand: [bwa, index]
outputs:
  indexed:
    type: File
    secondaryFiles: [.amb, .ann, .bwt, .pac, .sa]
    outputBinding: {glob: $(inputs.ref.basename)}
