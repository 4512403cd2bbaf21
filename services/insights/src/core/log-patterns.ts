// The shapes of error and warning lines, as tools really print them. Two kinds of rows:
// shape rows say a line is an error or warning (no category); cause rows also carry a
// root-cause category and a weight (how decisive the line is for that category on its own).
// A line takes the level of its most severe match and the category of its heaviest cause.
// Extending this table is the way to teach the classifier a new tool.
import type { RootCauseCategory } from '@tracer/events';

export type LogLevel = 'error' | 'warning';

export interface LogPattern {
  id: string;
  re: RegExp;
  level: LogLevel;
  category?: RootCauseCategory;
  /** 0..1: the confidence this line alone gives its category. */
  weight?: number;
}

const e = (id: string, re: RegExp, category?: RootCauseCategory, weight = 0.6): LogPattern =>
  category ? { id, re, level: 'error', category, weight } : { id, re, level: 'error' };
const w = (id: string, re: RegExp, category?: RootCauseCategory, weight = 0.2): LogPattern =>
  category ? { id, re, level: 'warning', category, weight } : { id, re, level: 'warning' };

export const logPatterns: LogPattern[] = [
  // --- causes: memory ----------------------------------------------------------------
  e(
    'java.heap',
    /java\.lang\.OutOfMemoryError: (?:Java heap space|GC overhead limit exceeded|Requested array size exceeds VM limit)/,
    'java_heap',
    0.95,
  ),
  e('java.metaspace', /OutOfMemoryError: Metaspace/, 'java_heap', 0.85),
  e(
    'java.native-oom',
    /OutOfMemoryError: unable to create (?:new )?native thread|Native memory allocation \(m(?:alloc|map)\) failed/,
    'oom',
    0.7,
  ),
  e('java.oom', /java\.lang\.OutOfMemoryError\b/, 'java_heap', 0.8),
  e('cxx.bad_alloc', /std::bad_alloc/, 'oom', 0.85),
  e('py.memoryerror', /^\s*MemoryError\b|_ArrayMemoryError|Unable to allocate [\d.]+ \w?i?B for an array/, 'oom', 0.85),
  e('r.alloc', /cannot allocate vector of size/, 'oom', 0.9),
  e('go.oom', /fatal error: runtime: out of memory/, 'oom', 0.9),
  e(
    'slurm.oom',
    /Detected \d+ oom[_-]kill event|task \d+: Out Of Memory|oom-kill event\(s\)|Exceeded (?:job|step) memory limit/i,
    'oom',
    0.9,
  ),
  e('batch.oom', /OutOfMemoryError: Container killed due to memory usage/, 'oom', 0.95),
  e('star.bam-sort-ram', /not enough memory for BAM sorting/, 'oom', 0.8),
  e(
    'generic.enomem',
    /Cannot allocate memory|Out of memory|out of memory|memory exhausted|Failed to allocate memory|\bENOMEM\b/,
    'oom',
    0.65,
  ),
  e('shell.killed', /(?:^|\s)Killed(?:\s+.*)?$|\bKilled\b.*\(core dumped\)?$/, 'oom', 0.35),

  // --- causes: disk --------------------------------------------------------------------
  e(
    'disk.enospc',
    /No space left on device|\bENOSPC\b|\[Errno 28\]|There is not enough space on the disk|filesystem is full/i,
    'disk_full',
    0.95,
  ),
  e('disk.quota', /Disk quota exceeded|\bEDQUOT\b|\[Errno 122\]/i, 'disk_full', 0.9),

  // --- causes: time limits -----------------------------------------------------------
  e('slurm.time', /CANCELLED AT \S+ DUE TO TIME LIMIT|DUE TO TIME LIMIT/, 'time_limit', 0.95),
  e('pbs.walltime', /PBS: job killed: walltime \d+ exceeded limit|walltime .*exceeded/i, 'time_limit', 0.95),
  e('lsf.runlimit', /TERM_RUNLIMIT|job killed after reaching LSF run time limit/, 'time_limit', 0.95),
  e('nextflow.time', /Process exceeded running time limit/, 'time_limit', 0.95),
  e('batch.timeout', /Job attempt duration exceeded timeout/, 'time_limit', 0.95),
  e('cpu.limit', /CPU time limit exceeded/, 'time_limit', 0.9),
  e('timeout.cmd', /timeout: sending signal|timed out after \d+/i, 'time_limit', 0.6),

  // --- causes: missing dependencies -----------------------------------------------------
  e('sh.not-found', /command not found|^\S*sh: (?:line )?\d+: \S+: not found|: not found$/, 'missing_dependency', 0.9),
  e('env.not-found', /^\/usr\/bin\/env: ['‘]?[\w.-]+['’]?: No such file or directory/, 'missing_dependency', 0.9),
  e(
    'ld.shared-lib',
    /error while loading shared libraries: .*cannot open shared object file/,
    'missing_dependency',
    0.95,
  ),
  e('ld.glibc-version', /version `GLIBC(?:XX)?_[\d.]+' not found/, 'missing_dependency', 0.9),
  e(
    'py.module',
    /ModuleNotFoundError: No module named|ImportError: (?:No module named|cannot import name)/,
    'missing_dependency',
    0.95,
  ),
  e('r.package', /there is no package called/, 'missing_dependency', 0.95),
  e('perl.inc', /Can't locate \S+\.pm in @INC/, 'missing_dependency', 0.95),
  e(
    'java.class',
    /java\.lang\.(?:NoClassDefFoundError|ClassNotFoundException)|Could not find or load main class|Unable to access jarfile/,
    'missing_dependency',
    0.85,
  ),
  e(
    'java.version',
    /UnsupportedClassVersionError|has been compiled by a more recent version of the Java Runtime/,
    'missing_dependency',
    0.9,
  ),
  e(
    'container.pull',
    /CannotPullContainerError|pull access denied|manifest unknown|Unable to find image|FATAL:\s+Unable to handle docker:|failed to pull image/i,
    'missing_dependency',
    0.85,
  ),
  e(
    'conda.env',
    /EnvironmentNameNotFound|Could not find conda environment|PackagesNotFoundError/,
    'missing_dependency',
    0.85,
  ),
  e('exec.format', /cannot execute binary file|Exec format error/, 'missing_dependency', 0.7),

  // --- causes: permission --------------------------------------------------------------
  e(
    'perm.denied',
    /Permission denied|\bEACCES\b|\[Errno 13\]|AccessDeniedException|PermissionError/,
    'permission',
    0.85,
  ),
  e('perm.eperm', /Operation not permitted|\bEPERM\b/, 'permission', 0.75),
  e('perm.rofs', /Read-only file system|\bEROFS\b|\[Errno 30\]/, 'permission', 0.9),
  e(
    's3.denied',
    /\(AccessDenied\)|Access Denied|\(403\)|Forbidden|InvalidAccessKeyId|ExpiredToken|NoCredentialsError|Unable to locate credentials/,
    'permission',
    0.8,
  ),

  // --- causes: network -------------------------------------------------------------------
  e(
    'net.refused',
    /Connection refused|\bECONNREFUSED\b|ConnectionRefusedError|java\.net\.ConnectException/,
    'network',
    0.85,
  ),
  e(
    'net.timeout',
    /Connection timed out|Operation timed out|Read timed out|connect timed out|\bETIMEDOUT\b|SocketTimeoutException|ConnectTimeoutError|ReadTimeoutError|curl: \(28\)/,
    'network',
    0.85,
  ),
  e('net.sra', /network system module|timeout exhausted while reading/, 'network', 0.8),
  e(
    'net.dns',
    /Could not resolve host|Temporary failure in name resolution|Name or service not known|unable to resolve host address|UnknownHostException|getaddrinfo (?:ENOTFOUND|EAI_AGAIN)|nodename nor servname provided|no such host/,
    'network',
    0.9,
  ),
  e('net.unreachable', /Network is unreachable|No route to host|\bEHOSTUNREACH\b|\bENETUNREACH\b/, 'network', 0.85),
  e(
    'net.reset',
    /Connection reset by peer|\bECONNRESET\b|Broken connection|RemoteDisconnected|IncompleteRead/,
    'network',
    0.75,
  ),
  e(
    'net.endpoint',
    /EndpointConnectionError|Could not connect to the endpoint URL|MaxRetryError|requests\.exceptions\.ConnectionError|urllib\.error\.URLError|Failed to establish a new connection/,
    'network',
    0.85,
  ),
  e(
    'net.http5xx',
    /\b(?:HTTP(?: error| Error)?|status(?: code)?)[: ]+(?:429|50[234])\b|503 Service Unavailable|SlowDown|RequestLimitExceeded|Throttling/i,
    'network',
    0.6,
  ),
  e(
    'net.ssl',
    /SSL: CERTIFICATE_VERIFY_FAILED|SSLError|certificate verify failed|TLS handshake timeout/,
    'network',
    0.6,
  ),

  // --- causes: corrupt input --------------------------------------------------------------
  e(
    'hts.bgzf',
    /\[E::bgzf_(?:read\w*|uncompress|getline|check_EOF\w*)\]|Invalid BGZF header|BGZF EOF marker is absent|bgzf_read_block|truncated file|file is truncated|is truncated/i,
    'corrupt_input',
    0.85,
  ),
  e(
    'hts.format',
    /\[E::(?:sam_parse1|fai_build_core|bam_hdr_read|sam_hdr_read|hts_hopen|vcf_parse\w*|bcf_hdr_read|bcf_hdr_parse\w*|hts_idx_push|fastq\w*)\]|Unsorted positions|[Cc]ould not parse the header|\[bam_header_read\] invalid BAM binary header|invalid BAM binary header|fail to read the header|failed to read header/,
    'corrupt_input',
    0.8,
  ),
  e(
    'gzip.corrupt',
    /not in gzip format|unexpected end of file|invalid compressed data|crc error|CRC check failed|incorrect header check|BadGzipFile|Compressed file ended before the end-of-stream marker|invalid stored block lengths|EOFError|incomplete deflate data|: corrupted\b|corrupt(?:ed)? (?:input|file|data|archive|record)/i,
    'corrupt_input',
    0.85,
  ),
  e(
    'java.htsjdk',
    /SAMFormatException|MalformedRead|htsjdk\.samtools\.(?:util\.)?RuntimeEOFException|htsjdk\.tribble\.TribbleException|Error parsing text SAM file|Malformed SAM line|MalformedFile|Malformed(?:Read|File|VCF)/,
    'corrupt_input',
    0.8,
  ),
  e(
    'fastq.format',
    /sequence and quality (?:have different length|are of different length)|quality string length is not equal to sequence length|paired reads have different names|Mismatch between read and quality|is not a FASTQ|unknown file format|not a valid FASTQ|invalid fastq|Unexpected end of input|first line of the FASTQ record does not start with @/i,
    'corrupt_input',
    0.85,
  ),
  e(
    'py.decode',
    /UnicodeDecodeError|json\.decoder\.JSONDecodeError|ParserError: Error tokenizing data|zlib\.error|struct\.error: unpack requires/,
    'corrupt_input',
    0.7,
  ),
  e(
    'r.readerr',
    /error reading from connection|unknown input format|embedded nul|incomplete final line found|line \d+ did not have \d+ elements/,
    'corrupt_input',
    0.7,
  ),
  e('file.empty', /file is empty|empty file|contains no reads|no reads found/i, 'corrupt_input', 0.55),

  // --- causes: missing input -------------------------------------------------------------
  e('snakemake.missing-input', /MissingInputException|Missing input files for rule/, 'missing_input', 0.95),
  e(
    'nextflow.missing-file',
    /No such file: |Cannot find any reads matching|No files match pattern|Path value cannot be null|Input tuple does not match/,
    'missing_input',
    0.85,
  ),
  e('py.fnf', /FileNotFoundError|\[Errno 2\] No such file or directory/, 'missing_input', 0.9),
  e(
    'java.fnf',
    /java\.io\.FileNotFoundException|java\.nio\.file\.NoSuchFileException|Couldn't read file .* (?:does not|doesn't) exist|could not open (?:genome file|readFilesIn|input file)|The provided (?:input|reference) .*does not exist|does not exist or is not readable|Cannot read non-existent file/,
    'missing_input',
    0.9,
  ),
  e(
    'r.cannot-open',
    /cannot open file '.*': No such file or directory|cannot open the connection/,
    'missing_input',
    0.85,
  ),
  e(
    'hts.open',
    /\[E::hts_open_format\] Failed to open file|fail to open file|Failed to open file|Could not open|could not open|cannot open|Can't open|Unable to open|fail to locate the index files|failed to open|Couldn't open|Error opening|No alias or index file found|does not contain necessary file/i,
    'missing_input',
    0.6,
  ),
  e('generic.enoent', /No such file or directory|\bENOENT\b|does not exist/, 'missing_input', 0.6),

  // --- causes: configuration -------------------------------------------------------------
  e(
    'cli.usage',
    /unrecognized (?:option|arguments?)|unrecognised option|invalid option|Unknown option|unknown option|illegal option|Unrecognized parameter|unrecogni[sz]ed parameter|unrecoginzed parameter|Unknown argument|Invalid argument(?!s? for)|the following arguments are required|missing required (?:argument|option)|Option '\S+' is required|Argument '?\S+'? is required|Invalid value for|invalid choice:|must be (?:specified|provided)|requires an argument/i,
    'config_error',
    0.8,
  ),
  e('gatk.user-error', /A USER ERROR has occurred/, 'config_error', 0.5),
  e(
    'star.params',
    /EXITING because of fatal PARAMETERS error|fatal PARAMETER error|EXITING because of fatal input ERROR: unknown value/i,
    'config_error',
    0.9,
  ),
  e(
    'contigs',
    /incompatible contigs|Contig \S+ not present in (?:the )?(?:sequence )?dictionary|reference and reads have incompatible|sequence dictionar(?:y|ies) (?:are|is) (?:incompatible|not)/i,
    'config_error',
    0.85,
  ),
  e(
    'nextflow.config',
    /No such variable:|Unknown method invocation|Unknown config attribute|Process `\S+` declares \d+ input channels? but \d+ were specified|Cannot invoke method|Missing process or function|Unable to parse config file/,
    'config_error',
    0.85,
  ),
  e(
    'snakemake.config',
    /SyntaxError in (?:file|line)|WorkflowError|KeyError in (?:file|line)|AmbiguousRuleException|CyclicGraphException|InputFunctionException/,
    'config_error',
    0.7,
  ),
  e(
    'config.parse',
    /yaml\.(?:scanner|parser)\.\w+Error|Invalid (?:config|configuration)|configuration error|config(?:uration)? file .* (?:invalid|not found)|Error parsing (?:config|parameters)/i,
    'config_error',
    0.8,
  ),
  e('cli.invalid-value', /is not a valid (?:IUPAC|integer|choice|option|value|number|float)/, 'config_error', 0.7),
  e('ulimit.files', /Too many open files|\bEMFILE\b|\[Errno 24\]/, 'config_error', 0.8),
  e('nextflow.resources', /Process requirement exceeds available (?:memory|CPUs)/, 'config_error', 0.9),
  e('py.syntax', /^\s*(?:SyntaxError|IndentationError|NameError|TypeError: .*argument)/, 'config_error', 0.5),

  // --- causes: crashes ----------------------------------------------------------------------
  e('crash.segv', /Segmentation fault|caught segfault|\bSIGSEGV\b|segfault at/, 'segfault', 0.95),
  e(
    'crash.glibc',
    /double free or corruption|double free detected|free\(\): invalid (?:pointer|size|next size)|malloc\(\): (?:memory corruption|corrupted|unaligned)|corrupted size vs\. prev_size|corrupted double-linked list|munmap_chunk\(\): invalid pointer|realloc\(\): invalid|\*\*\* stack smashing detected \*\*\*|\*\*\* Error in `/,
    'segfault',
    0.9,
  ),
  e('crash.assert', /Assertion [`'].*[`'] failed|assertion failed|Assertion failed/i, 'segfault', 0.7),
  e(
    'crash.jvm',
    /A fatal error has been detected by the Java Runtime Environment|EXCEPTION_ACCESS_VIOLATION/,
    'segfault',
    0.9,
  ),
  e(
    'crash.other',
    /Illegal instruction|Bus error|Floating point exception|core dumped|Aborted|stack overflow|StackOverflowError/,
    'segfault',
    0.6,
  ),

  // --- shapes: errors with no category of their own ------------------------------------
  e(
    'java.exception',
    /^Exception in thread "[^"]*" [\w.$]+(?:Exception|Error)|^[a-z][\w]*(?:\.[\w$]+)+(?:Exception|Error)(?::|$)/,
  ),
  e('java.caused-by', /^\s*Caused by: /),
  e('py.traceback', /^Traceback \(most recent call last\):/),
  e('py.exception', /^(?:[\w]+\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Failure)(?::|$)/),
  e('r.error', /^Error(?: in .*)?\s*:|^Execution halted/),
  e('cxx.terminate', /terminate called after throwing an instance of|^\s*what\(\):/),
  e('hts.error', /^\[E::\w+\]/),
  e(
    'bwa.fail',
    /^\[(?:fail|bwa_\w+|mem_\w+|bns_\w+|xopen|main_\w+)\] (?!.*\b(?:read|loaded|processed|time|Real time|CMD)\b)/,
  ),
  e('generic.error-word', /^(?:ERROR|FATAL|CRITICAL)\b|\b(?:ERROR|FATAL)(?::|\s+-\s+|\s+\[|\s+\w+\.\w+|$)|^\[ERROR\]/),
  e('star.fatal', /EXITING because of (?:FATAL|fatal) ERROR|EXITING: fatal|EXITING because of/),
  e('picard.exception', /picard\.PicardException|htsjdk\.samtools\.SAMException|ERROR: Option/),
  e('fastp.error', /^ERROR: /),
  e(
    'nextflow.error',
    /^ERROR ~ |Error executing process >|terminated with an error exit status|Execution aborted due to an unexpected error/,
  ),
  e(
    'snakemake.error',
    /^Error in rule \S+:|Exiting because a job execution failed|CalledProcessError|^\s*RuleException:|Error executing rule/,
  ),
  e('slurm.error', /^(?:slurmstepd|srun|sbatch|salloc): error:|CANCELLED AT|DUE TO (?:NODE FAILURE|PREEMPTION)/),
  e(
    'batch.error',
    /Essential container in task exited|Host EC2 \(instance \S+\) terminated|Task failed to start|CannotStartContainerError|CannotInspectContainerError/,
  ),
  e(
    'cli.error',
    /^[\w./-]+(?: [\w-]+)?: (?:error|fatal|ERROR|FATAL)\b|^\w[\w.-]* error: |\berr: |^Fatal error\b|^Error occ?urr?ed\b|\bFATAL ERROR\b|compilation aborted|^(?:error|fatal|Error|Fatal)(?:\[\w+\])?: |^[\w./-]+(?: [\w-]+)?: (?:cannot|can't|failed to) |^\S+ (?:Database|Runtime|Internal|Fatal|Parse|IO|I\/O) [Ee]rror: /,
  ),
  e(
    'generic.failed',
    /\b(?:FAILED|failed with exit (?:code|status)|exited with (?:code|status) [1-9]\d*|Exited with exit code [1-9]\d*|Exiting with failure status|non-zero exit status|returned non-zero exit status)\b/,
  ),

  // --- warnings ------------------------------------------------------------------------------
  w('hts.warning', /^\[W::\w+\]/),
  w('hts.eof-absent', /EOF marker is absent/, 'corrupt_input', 0.4),
  w('py.warning', /^\S+:\d+: \w*Warning:|\b(?:UserWarning|DeprecationWarning|RuntimeWarning|FutureWarning)\b/),
  w('r.warning', /^Warning messages?:|^In addition: Warning message|^Warning(?: in .*)?:/),
  w(
    'generic.warning',
    /^(?:WARNING|WARN|Warning)\b|\bWARN(?:ING)?\b(?::|\s+-\s+|\s+\[|\s+\w+\.\w+)|^\[?WARN(?:ING)?\]?\b|^[\w./-]+: warning\b|^warning: /,
  ),
];

/** Lines inside a Java stack trace ("\tat x.y(Z.java:1)", "... 12 more"): context, not errors. */
export const javaFrameRe = /^\s+at [\w.$<>]+\(|^\s+\.\.\. \d+ more$|^\s+Suppressed: /;
/** Lines inside a Python traceback: frames and their source lines are indented. */
export const pythonFrameRe = /^\s+(?:File ".*", line \d+|\S)/;
