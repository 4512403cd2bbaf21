// A stand-in for Nextflow's head process, for the attribution tests (Nextflow itself cannot
// be installed here). It is a real JVM started as `java ... nextflow.cli.Launcher run PIPELINE
// -name RUN`, and it runs each task exactly as Nextflow's local executor does: a work dir
// work/<2 hex>/<30 hex> holding .command.sh and a .command.run wrapper (the header, traps,
// nxf_launch through `tee .command.out` / `tee .command.err`, .exitcode on exit), launched as
// `/bin/bash -c "/bin/bash -ue .command.run &> .command.log"` in the work dir. It prints the
// `[ab/cdef01] Submitted process > NAME (TAG)` lines of -ansi-log false and writes a
// .nextflow.log with the run name and session id.
//
//   java -cp DIR nextflow.cli.Launcher run align.nf -name tiny_turing [--data DIR] [--fail B]
package nextflow.cli;

import java.io.*;
import java.nio.file.*;
import java.security.SecureRandom;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.*;
import java.util.concurrent.*;

public class Launcher {
    static final SecureRandom RANDOM = new SecureRandom();
    static Path launchDir = Paths.get("").toAbsolutePath();
    static Path workRoot = launchDir.resolve("work");
    static PrintWriter log;

    static String hex(int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) b.append(Integer.toHexString(RANDOM.nextInt(16)));
        return b.toString();
    }

    static void log(String level, String who, String msg) {
        String ts = LocalDateTime.now().format(DateTimeFormatter.ofPattern("MMM-dd HH:mm:ss.SSS", Locale.ENGLISH));
        log.println(ts + " [main] " + level + " " + who + " - " + msg);
        log.flush();
    }

    record Task(String name, String script, Map<String, Path> inputs) {}

    static final String WRAPPER = String.join("\n",
        "#!/bin/bash",
        "# NEXTFLOW TASK: %NAME%",
        "set -e",
        "set -u",
        "NXF_DEBUG=${NXF_DEBUG:=0}; [[ $NXF_DEBUG > 1 ]] && set -x",
        "NXF_ENTRY=${1:-nxf_main}",
        "",
        "",
        "nxf_sleep() {",
        "  sleep $1 2>/dev/null || sleep 1;",
        "}",
        "",
        "nxf_date() {",
        "    local ts=$(date +%s%3N);",
        "    if [[ ${#ts} == 10 ]]; then echo ${ts}000",
        "    elif [[ $ts == *%3N ]]; then echo ${ts/\\%3N/000}",
        "    elif [[ $ts == *3N ]]; then echo ${ts/3N/000}",
        "    elif [[ ${#ts} == 13 ]]; then echo $ts",
        "    else echo \"Unexpected timestamp value: $ts\"; exit 1",
        "    fi",
        "}",
        "",
        "nxf_env() {",
        "    echo '============= task environment ============='",
        "    env | sort | sed \"s/\\(.*\\)AWS\\(.*\\)=\\(.\\{6\\}\\).*/\\1AWS\\2=\\3xxxxxxxxxxxxx/\"",
        "    echo '============= task output =================='",
        "}",
        "",
        "nxf_kill() {",
        "    declare -a children",
        "    while read P PP;do",
        "        children[$PP]+=\" $P\"",
        "    done < <(ps -e -o pid= -o ppid=)",
        "",
        "    kill_all() {",
        "        [[ $1 != $$ ]] && kill $1 2>/dev/null || true",
        "        for i in ${children[$1]:=}; do kill_all $i; done",
        "    }",
        "",
        "    kill_all $1",
        "}",
        "",
        "on_exit() {",
        "    exit_status=${nxf_main_ret:=$?}",
        "    printf -- $exit_status > %DIR%/.exitcode",
        "    set +u",
        "    exit $exit_status",
        "}",
        "",
        "on_term() {",
        "    set +e",
        "    [[ \"$pid\" ]] && nxf_kill $pid",
        "}",
        "",
        "nxf_launch() {",
        "    /bin/bash -ue %DIR%/.command.sh",
        "}",
        "",
        "nxf_stage() {",
        "    true",
        "    # stage input files",
        "%STAGE%",
        "}",
        "",
        "nxf_unstage() {",
        "    true",
        "    [[ ${nxf_main_ret:=0} != 0 ]] && return",
        "}",
        "",
        "nxf_main() {",
        "    trap on_exit EXIT",
        "    trap on_term TERM INT USR2",
        "    trap '' USR1",
        "",
        "    [[ \"${NXF_CHDIR:-}\" ]] && cd \"$NXF_CHDIR\"",
        "    NXF_SCRATCH=''",
        "    [[ $NXF_DEBUG > 0 ]] && nxf_env",
        "    touch %DIR%/.command.begin",
        "    set +u",
        "    set -u",
        "    [[ $NXF_SCRATCH ]] && cd $NXF_SCRATCH",
        "    export NXF_TASK_WORKDIR=\"$PWD\"",
        "    nxf_stage",
        "",
        "    set +e",
        "    (set -o pipefail; (nxf_launch | tee .command.out) 3>&1 1>&2 2>&3 | tee .command.err) &",
        "    pid=$!",
        "    wait $pid || nxf_main_ret=$?",
        "    nxf_unstage",
        "}",
        "",
        "$NXF_ENTRY",
        "");

    /** Runs one task the way the local executor does; returns its work dir and exit status. */
    static Object[] runTask(Task t) throws Exception {
        String hash = hex(32);
        String shortHash = hash.substring(0, 2) + "/" + hash.substring(2, 8);
        Path dir = workRoot.resolve(hash.substring(0, 2)).resolve(hash.substring(2));
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(".command.sh"), "#!/bin/bash -ue\n" + t.script() + "\n");
        StringBuilder stage = new StringBuilder();
        for (Map.Entry<String, Path> e : t.inputs().entrySet()) {
            stage.append("    rm -f ").append(e.getKey()).append("\n");
            stage.append("    ln -s ").append(e.getValue()).append(" ").append(e.getKey()).append("\n");
        }
        String wrapper = WRAPPER.replace("%NAME%", t.name()).replace("%DIR%", dir.toString()).replace("%STAGE%", stage.toString().stripTrailing());
        Files.writeString(dir.resolve(".command.run"), wrapper);
        synchronized (Launcher.class) {
            System.out.println("[" + shortHash + "] Submitted process > " + t.name());
            System.out.flush();
        }
        log("INFO ", "nextflow.Session", "[" + shortHash + "] Submitted process > " + t.name());
        ProcessBuilder pb = new ProcessBuilder("/bin/bash", "-c", "/bin/bash -ue .command.run &> .command.log");
        pb.directory(dir.toFile());
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        int code = pb.start().waitFor();
        Path exitFile = dir.resolve(".exitcode");
        if (Files.exists(exitFile)) code = Integer.parseInt(Files.readString(exitFile).trim());
        return new Object[] {dir, code};
    }

    public static void main(String[] args) throws Exception {
        List<String> a = Arrays.asList(args);
        if (a.isEmpty() || !a.get(0).equals("run")) {
            System.err.println("usage: nextflow.cli.Launcher run PIPELINE [-name RUN] [--data DIR] [--fail SAMPLE]");
            System.exit(2);
        }
        String pipeline = a.get(1);
        String name = a.contains("-name") ? a.get(a.indexOf("-name") + 1) : "tiny_turing";
        Path data = Paths.get(a.contains("--data") ? a.get(a.indexOf("--data") + 1) : "data").toAbsolutePath();
        String fail = a.contains("--fail") ? a.get(a.indexOf("--fail") + 1) : "";
        List<String> samples = List.of("A", "B", "C");
        log = new PrintWriter(new FileWriter(launchDir.resolve(".nextflow.log").toFile()));
        log("DEBUG", "nextflow.cli.Launcher", "$> nextflow " + String.join(" ", args));
        log("INFO ", "nextflow.cli.CmdRun", "N E X T F L O W  ~  version 23.10.1");
        log("INFO ", "nextflow.cli.CmdRun", "Launching `" + pipeline + "` [" + name + "] DSL2 - revision: 0f0a1b2c3d");
        log("DEBUG", "nextflow.Session", "Session UUID: " + UUID.randomUUID());
        log("DEBUG", "nextflow.Session", "Work-dir: " + workRoot);
        System.out.println("N E X T F L O W  ~  version 23.10.1");
        System.out.println("Launching `" + pipeline + "` [" + name + "] DSL2 - revision: 0f0a1b2c3d");

        Object[] index = runTask(new Task("INDEX (lambda)", "bwa index ref.fa", Map.of("ref.fa", data.resolve("ref.fa"))));
        Path indexDir = (Path) index[0];
        boolean failed = (int) index[1] != 0;
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Future<Object[]>> aligns = new ArrayList<>();
        for (String s : samples) {
            Map<String, Path> in = new LinkedHashMap<>();
            for (String ext : List.of("", ".amb", ".ann", ".bwt", ".pac", ".sa")) in.put("ref.fa" + ext, indexDir.resolve("ref.fa" + ext));
            in.put(s + ".fq", data.resolve(s.equals(fail) ? "missing.fq" : s + ".fq"));
            String script = "bwa mem ref.fa " + s + ".fq | samtools view -b - > " + s + ".bam";
            aligns.add(pool.submit(() -> runTask(new Task("ALIGN (" + s + ")", script, in))));
        }
        List<Future<Object[]>> sorts = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) {
            String s = samples.get(i);
            Object[] r = aligns.get(i).get();
            if ((int) r[1] != 0) {
                failed = true;
                System.err.println("ERROR ~ Error executing process > 'ALIGN (" + s + ")'");
                continue;
            }
            Path bam = ((Path) r[0]).resolve(s + ".bam");
            String script = "samtools sort -o " + s + ".sorted.bam " + s + ".bam\nsamtools index " + s + ".sorted.bam";
            sorts.add(pool.submit(() -> runTask(new Task("SORT (" + s + ")", script, Map.of(s + ".bam", bam)))));
        }
        for (Future<Object[]> f : sorts) if ((int) f.get()[1] != 0) failed = true;
        pool.shutdown();
        log("DEBUG", "nextflow.Session", failed ? "Session aborted" : "Session completed");
        log.close();
        System.exit(failed ? 1 : 0);
    }
}
