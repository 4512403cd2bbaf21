// Decodes bpf/events.h records into plain objects with one napi_define_properties call
// each. Names are the C fields in camelCase; u64 identities (start times) are BigInts so a
// upid is exact, cgroup ids decimal strings; everything else a Number.
#include "records.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <linux/types.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "syscalls.h"

extern "C" {
#include "events.h"
}

// Layout drift between the kernel and this reader breaks the build, not the data.
static_assert(sizeof(tr_head) == 24, "tr_head");
static_assert(sizeof(tr_fork) == 40, "tr_fork");
static_assert(offsetof(tr_exec, data) == 80, "tr_exec header");
static_assert(sizeof(tr_exec) == 80 + TR_EXEC_DATA + TR_NAME_MAX, "tr_exec");
static_assert(sizeof(tr_exit) == 376, "tr_exit");
static_assert(sizeof(tr_oom) == 80, "tr_oom");
static_assert(offsetof(tr_file_open, path) == 40 && sizeof(tr_file_open) == 40 + TR_OPEN_PATH_MAX, "tr_file_open");
static_assert(offsetof(tr_log, data) == 48 && sizeof(tr_log) == 48 + TR_LOG_CHUNK, "tr_log");
static_assert(sizeof(tr_counters) == 192, "tr_counters");
static_assert(offsetof(tr_syscall_error, data) == 64 && sizeof(tr_syscall_error) == 64 + TR_ERR_DATA + TR_NAME_MAX,
              "tr_syscall_error");
static_assert(sizeof(tr_syscall_error_count) == 64, "tr_syscall_error_count");
static_assert(offsetof(tr_cgroup, path) == 48 && sizeof(tr_cgroup) == 48 + TR_CGROUP_PATH_MAX, "tr_cgroup");

namespace {

class Builder {
 public:
  explicit Builder(napi_env env) : env_(env) { props_.reserve(32); }

  void Num(const char* k, double v) {
    napi_value x;
    napi_create_double(env_, v, &x);
    Add(k, x);
  }
  void Big(const char* k, uint64_t v) {
    napi_value x;
    napi_create_bigint_uint64(env_, v, &x);
    Add(k, x);
  }
  void Bool(const char* k, bool v) {
    napi_value x;
    napi_get_boolean(env_, v, &x);
    Add(k, x);
  }
  void Str(const char* k, const char* s, size_t n) {
    napi_value x;
    napi_create_string_utf8(env_, s, n, &x);
    Add(k, x);
  }
  void Str(const char* k, const std::string& s) { Str(k, s.data(), s.size()); }
  void Comm(const char* k, const char (&c)[TR_COMM_LEN]) { Str(k, c, strnlen(c, TR_COMM_LEN)); }
  void Val(const char* k, napi_value v) { Add(k, v); }
  napi_env env() const { return env_; }

  void Head(const char* kind, const tr_head& h) {
    Str("kind", kind, strlen(kind));
    Num("pid", h.pid);
    Num("tsNs", static_cast<double>(h.ts_ns));
    Big("startNs", h.start_ns);
  }

  napi_value Done() {
    napi_value obj;
    napi_create_object(env_, &obj);
    napi_define_properties(env_, obj, props_.size(), props_.data());
    return obj;
  }

 private:
  void Add(const char* k, napi_value v) {
    napi_property_descriptor d{};
    d.utf8name = k;
    d.value = v;
    d.attributes = static_cast<napi_property_attributes>(napi_writable | napi_enumerable | napi_configurable);
    props_.push_back(d);
  }
  napi_env env_;
  std::vector<napi_property_descriptor> props_;
};

// NUL-terminated strings packed back to back.
std::vector<std::string> SplitNul(const char* p, size_t n) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < n) {
    size_t len = strnlen(p + i, n - i);
    out.emplace_back(p + i, len);
    i += len + 1;
  }
  return out;
}

// Path components from the leaf up (as the kernel walk wrote them) to "/a/b/c".
std::string JoinPath(const char* p, size_t n) {
  auto parts = SplitNul(p, n);
  std::string out;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    out += '/';
    out += *it;
  }
  return out.empty() ? "/" : out;
}

napi_value Fork(napi_env env, const tr_fork& r) {
  Builder b(env);
  b.Head("fork", r.h);
  b.Num("ppid", r.ppid);
  b.Big("parentStartNs", r.parent_start_ns);
  return b.Done();
}

napi_value Exec(napi_env env, const tr_exec& r, size_t size) {
  size_t data = size - offsetof(tr_exec, data);
  size_t argv_len = r.argv_len, exe_len = r.exe_len, cwd_len = r.cwd_len;
  if (argv_len + exe_len + cwd_len > data) return nullptr;
  Builder b(env);
  b.Head("exec", r.h);
  b.Num("ppid", r.ppid);
  b.Big("parentStartNs", r.parent_start_ns);
  b.Num("uid", r.uid);
  b.Str("cgroupId", std::to_string(r.cgroup_id));
  auto args = SplitNul(r.data, argv_len);
  napi_value argv;
  napi_create_array_with_length(env, args.size(), &argv);
  for (size_t i = 0; i < args.size(); i++) {
    napi_value s;
    napi_create_string_utf8(env, args[i].data(), args[i].size(), &s);
    napi_set_element(env, argv, static_cast<uint32_t>(i), s);
  }
  b.Val("argv", argv);
  b.Num("argc", r.argc);
  b.Bool("argvTruncated", r.flags & TR_EXEC_ARGV_TRUNCATED);
  b.Str("exe", exe_len ? JoinPath(r.data + argv_len, exe_len) : std::string());
  b.Bool("exeTruncated", r.flags & TR_EXEC_EXE_TRUNCATED);
  b.Str("cwd", cwd_len ? JoinPath(r.data + argv_len + exe_len, cwd_len) : std::string());
  b.Bool("cwdTruncated", r.flags & TR_EXEC_CWD_TRUNCATED);
  b.Comm("comm", r.comm);
  return b.Done();
}

napi_value Exit(napi_env env, const tr_exit& r) {
  Builder b(env);
  b.Head("exit", r.h);
  b.Num("exitStatus", r.exit_status);
  b.Num("threads", r.threads);
  b.Num("exitNs", static_cast<double>(r.exit_ns));
  b.Big("sumExecNs", r.sum_exec_ns);
  b.Big("utimeNs", r.utime_ns);
  b.Big("stimeNs", r.stime_ns);
  b.Big("prevUtimeNs", r.prev_utime_ns);
  b.Big("prevStimeNs", r.prev_stime_ns);
  b.Num("maxrssPages", static_cast<double>(r.maxrss_pages));
  b.Num("execMaxrssPages", static_cast<double>(r.exec_maxrss_pages));
  b.Num("rchar", static_cast<double>(r.rchar));
  b.Num("wchar", static_cast<double>(r.wchar));
  b.Num("syscr", static_cast<double>(r.syscr));
  b.Num("syscw", static_cast<double>(r.syscw));
  b.Num("readBytes", static_cast<double>(r.read_bytes));
  b.Num("writeBytes", static_cast<double>(r.write_bytes));
  b.Num("cancelledWriteBytes", static_cast<double>(r.cancelled_write_bytes));
  b.Num("nvcsw", static_cast<double>(r.nvcsw));
  b.Num("nivcsw", static_cast<double>(r.nivcsw));
  b.Num("ioWaitNs", static_cast<double>(r.io_wait_ns));
  b.Num("netSendBytes", static_cast<double>(r.net_send_bytes));
  b.Num("netRecvBytes", static_cast<double>(r.net_recv_bytes));
  b.Num("opensSuppressed", static_cast<double>(r.opens_suppressed));
  b.Num("stdoutDroppedBytes", static_cast<double>(r.log_dropped[0]));
  b.Num("stderrDroppedBytes", static_cast<double>(r.log_dropped[1]));
  b.Num("logSkippedBytes", static_cast<double>(r.log_skipped));
  b.Num("errorsSuppressed", static_cast<double>(r.errors_suppressed));
  b.Val("syscalls", SyscallClasses(b.env(), r.sc_count, r.sc_ns));
  b.Comm("comm", r.comm);
  return b.Done();
}

const char* ConstraintName(uint32_t c) {
  switch (c) {
    case TR_OOM_MEMCG: return "memcg";
    case TR_OOM_CPUSET: return "cpuset";
    case TR_OOM_MEMPOLICY: return "mempolicy";
    default: return "global";
  }
}

napi_value Oom(napi_env env, const tr_oom& r) {
  Builder b(env);
  b.Head("oom", r.h);
  b.Num("triggerPid", r.trigger_pid);
  const char* c = ConstraintName(r.constraint);
  b.Str("constraint", c, strlen(c));
  b.Str("cgroupId", std::to_string(r.cgroup_id));
  b.Num("limitPages", static_cast<double>(r.limit_pages));
  b.Num("usagePages", static_cast<double>(r.usage_pages));
  b.Num("victimRssPages", static_cast<double>(r.victim_rss_pages));
  b.Comm("comm", r.comm);
  return b.Done();
}

napi_value FileOpen(napi_env env, const tr_file_open& r, size_t size) {
  size_t room = size - offsetof(tr_file_open, path);
  size_t len = r.path_len < room ? r.path_len : room;
  Builder b(env);
  b.Head("open", r.h);
  b.Num("ret", r.ret);
  b.Num("flags", r.flags);
  b.Str("path", r.path, strnlen(r.path, len));
  b.Bool("pathTruncated", r.path_flags & TR_OPEN_PATH_TRUNCATED);
  return b.Done();
}

const char* TargetName(uint32_t t) {
  switch (t) {
    case TR_TARGET_FIFO: return "pipe";
    case TR_TARGET_CHR: return "tty";
    case TR_TARGET_DEV: return "device";
    case TR_TARGET_REG: return "file";
    case TR_TARGET_SOCK: return "socket";
    default: return "other";
  }
}

napi_value Log(napi_env env, const tr_log& r, size_t size) {
  size_t room = size - offsetof(tr_log, data);
  size_t len = r.len < room ? r.len : room;
  Builder b(env);
  b.Head("log", r.h);
  b.Num("stream", r.stream);
  // Bytes, not text: a chunk may end inside a UTF-8 sequence; user space decodes.
  napi_value buf;
  void* dst;
  napi_create_buffer_copy(env, len, r.data, &dst, &buf);
  b.Val("data", buf);
  b.Num("droppedBytes", static_cast<double>(r.dropped_bytes));
  const char* t = TargetName(r.target);
  b.Str("target", t, strlen(t));
  return b.Done();
}

// A struct sockaddr as "1.2.3.4:80", "[::1]:80", "unix:/path" ("unix:@name" when abstract).
std::string FormatSockaddr(const char* p, size_t n) {
  if (n < 2) return "";
  sa_family_t family;
  memcpy(&family, p, sizeof(family));
  char buf[INET6_ADDRSTRLEN];
  if (family == AF_INET && n >= sizeof(sockaddr_in)) {
    sockaddr_in a;
    memcpy(&a, p, sizeof(a));
    inet_ntop(AF_INET, &a.sin_addr, buf, sizeof(buf));
    return std::string(buf) + ":" + std::to_string(ntohs(a.sin_port));
  }
  if (family == AF_INET6 && n >= sizeof(sockaddr_in6)) {
    sockaddr_in6 a;
    memcpy(&a, p, sizeof(a));
    inet_ntop(AF_INET6, &a.sin6_addr, buf, sizeof(buf));
    return "[" + std::string(buf) + "]:" + std::to_string(ntohs(a.sin6_port));
  }
  if (family == AF_UNIX) {
    size_t off = offsetof(sockaddr_un, sun_path);
    if (n <= off) return "unix:";
    if (p[off] == 0) return "unix:@" + std::string(p + off + 1, strnlen(p + off + 1, n - off - 1));
    return "unix:" + std::string(p + off, strnlen(p + off, n - off));
  }
  return "family:" + std::to_string(family);
}

const char* ObjectName(uint32_t o) {
  switch (o) {
    case TR_OBJ_PATH: return "path";
    case TR_OBJ_FILE: return "file";
    case TR_OBJ_ADDR: return "addr";
    case TR_OBJ_PEER: return "peer";
    default: return "none";
  }
}

// Failed call: path as given (and the base directory a relative one is resolved from),
// or the fd's file and its mount point, or the address; the policy is user space's.
napi_value SyscallError(napi_env env, const tr_syscall_error& r, size_t size) {
  size_t data = size - offsetof(tr_syscall_error, data);
  Builder b(env);
  b.Head("syscallError", r.h);
  b.Str("key", std::to_string(r.key));
  b.Num("nr", r.nr);
  b.Str("syscall", SyscallName(r.nr));
  b.Num("err", r.err);
  const char* obj = ObjectName(r.object);
  b.Str("object", obj, strlen(obj));
  b.Num("fd", r.fd);
  b.Num("openFlags", r.open_flags);
  b.Bool("pathTruncated", r.flags & TR_ERR_PATH_TRUNCATED);
  b.Bool("baseTruncated", r.flags & TR_ERR_BASE_TRUNCATED);
  size_t path_len = r.path_len, base_len = r.base_len;
  if (r.object == TR_OBJ_PATH) {
    size_t base_off = path_len + 1;
    if (path_len > data) return nullptr;
    b.Str("path", r.data, strnlen(r.data, path_len));
    if (base_len && base_off + base_len <= data) b.Str("base", JoinPath(r.data + base_off, base_len));
  } else if (r.object == TR_OBJ_FILE) {
    if (base_len > data) return nullptr;
    b.Str("path", JoinPath(r.data, base_len));
    // The components inside the file's own mount come first; the rest name the mount point.
    if ((r.flags & TR_ERR_MOUNT_KNOWN) && r.mnt_len <= base_len) {
      b.Str("mount", base_len > r.mnt_len ? JoinPath(r.data + r.mnt_len, base_len - r.mnt_len) : "/");
    }
  } else if (r.object == TR_OBJ_ADDR || r.object == TR_OBJ_PEER) {
    if (path_len > data) return nullptr;
    b.Str("addr", FormatSockaddr(r.data, path_len));
  }
  return b.Done();
}

napi_value SyscallErrorCount(napi_env env, const tr_syscall_error_count& r) {
  Builder b(env);
  b.Head("syscallErrorCount", r.h);
  b.Str("key", std::to_string(r.key));
  b.Num("count", static_cast<double>(r.count));
  b.Num("firstNs", static_cast<double>(r.first_ns));
  b.Num("lastNs", static_cast<double>(r.last_ns));
  b.Bool("final", r.final != 0);
  return b.Done();
}

napi_value Cgroup(napi_env env, const tr_cgroup& r, size_t size) {
  size_t room = size - offsetof(tr_cgroup, path);
  size_t len = r.path_len < room ? r.path_len : room;
  Builder b(env);
  b.Head("cgroup", r.h);
  b.Str("cgroupId", std::to_string(r.cgroup_id));
  const char* op = r.op == TR_CGROUP_RMDIR ? "rmdir" : "mkdir";
  b.Str("op", op, strlen(op));
  b.Num("level", r.level);
  b.Str("path", r.path, strnlen(r.path, len));
  return b.Done();
}

}  // namespace

napi_value SyscallClasses(napi_env env, const unsigned long long* count, const unsigned long long* ns) {
  static const char* const kClasses[TR_SC_CLASSES] = {"other", "file", "net", "memory", "process", "sync", "wait", "class7"};
  Builder b(env);
  for (int i = 0; i < TR_SC_CLASSES; i++) {
    if (!count[i]) continue;
    Builder c(env);
    c.Num("count", static_cast<double>(count[i]));
    c.Num("ns", static_cast<double>(ns[i]));
    b.Val(kClasses[i], c.Done());
  }
  return b.Done();
}

napi_value RecordToObject(napi_env env, const void* data, size_t size) {
  if (size < sizeof(tr_head)) return nullptr;
  const auto* h = static_cast<const tr_head*>(data);
  switch (h->kind) {
    case TR_FORK:
      return size >= sizeof(tr_fork) ? Fork(env, *static_cast<const tr_fork*>(data)) : nullptr;
    case TR_EXEC:
      return size >= offsetof(tr_exec, data) ? Exec(env, *static_cast<const tr_exec*>(data), size) : nullptr;
    case TR_EXIT:
      return size >= sizeof(tr_exit) ? Exit(env, *static_cast<const tr_exit*>(data)) : nullptr;
    case TR_OOM:
      return size >= sizeof(tr_oom) ? Oom(env, *static_cast<const tr_oom*>(data)) : nullptr;
    case TR_FILE_OPEN:
      return size >= offsetof(tr_file_open, path) ? FileOpen(env, *static_cast<const tr_file_open*>(data), size)
                                                   : nullptr;
    case TR_LOG:
      return size >= offsetof(tr_log, data) ? Log(env, *static_cast<const tr_log*>(data), size) : nullptr;
    case TR_SYSCALL_ERROR:
      return size >= offsetof(tr_syscall_error, data)
                 ? SyscallError(env, *static_cast<const tr_syscall_error*>(data), size)
                 : nullptr;
    case TR_SYSCALL_ERROR_COUNT:
      return size >= sizeof(tr_syscall_error_count)
                 ? SyscallErrorCount(env, *static_cast<const tr_syscall_error_count*>(data))
                 : nullptr;
    case TR_CGROUP:
      return size >= offsetof(tr_cgroup, path) ? Cgroup(env, *static_cast<const tr_cgroup*>(data), size) : nullptr;
    default:
      return nullptr;
  }
}
