// libbpf-bootstrap's lifecycle for several objects: open, set rodata tunables, share maps,
// load (the verifier), attach; teardown in reverse. "process" owns the shared maps of
// bpf/common.bpf.h; every other object reuses their fds, so there is one ring buffer.
#include "loader.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

#include <linux/types.h>

extern "C" {
#include "events.h"
}

#ifndef ENOTSUPP
#define ENOTSUPP 524  // kernel-internal "operation not supported", seen by BPF loaders
#endif

#include "cgroups.skel.h"
#include "files.skel.h"
#include "iowait.skel.h"
#include "net.skel.h"
#include "oom.skel.h"
#include "output.skel.h"
#include "process.skel.h"
#include "syscalls.h"
#include "syscalls.skel.h"

namespace {

std::mutex g_print_mu;
std::vector<LibbpfMessage> g_messages;
constexpr size_t kMaxMessages = 4096;
constexpr size_t kMaxMessageBytes = 16384;  // verifier logs: the tail says why

int Print(enum libbpf_print_level level, const char* fmt, va_list ap) {
  va_list copy;
  va_copy(copy, ap);
  int n = vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  if (n <= 0) return 0;
  std::string text(static_cast<size_t>(n) + 1, '\0');
  vsnprintf(text.data(), text.size(), fmt, ap);
  text.resize(static_cast<size_t>(n));
  while (!text.empty() && text.back() == '\n') text.pop_back();
  if (text.size() > kMaxMessageBytes) text = "..." + text.substr(text.size() - kMaxMessageBytes);
  std::lock_guard<std::mutex> lock(g_print_mu);
  if (g_messages.size() < kMaxMessages) g_messages.push_back({static_cast<int>(level), std::move(text)});
  return n;
}

size_t MessageMark() {
  std::lock_guard<std::mutex> lock(g_print_mu);
  return g_messages.size();
}

// libbpf's warnings since `mark`: the verifier log of a failed load is among them.
std::string WarningsSince(size_t mark) {
  std::lock_guard<std::mutex> lock(g_print_mu);
  std::string out;
  for (size_t i = mark; i < g_messages.size(); i++) {
    if (g_messages[i].level != LIBBPF_WARN) continue;
    if (!out.empty()) out += '\n';
    out += g_messages[i].text;
  }
  if (out.size() > kMaxMessageBytes) out = "..." + out.substr(out.size() - kMaxMessageBytes);
  return out;
}

// Arguments of a BTF-enabled tracepoint, from its btf_trace_<name> typedef (-1: unknown).
int TracepointArgs(const struct btf* vmlinux, const char* name) {
  std::string tname = std::string("btf_trace_") + name;
  int id = btf__find_by_name_kind(vmlinux, tname.c_str(), BTF_KIND_TYPEDEF);
  if (id < 0) return -1;
  const struct btf_type* t = btf__type_by_id(vmlinux, btf__type_by_id(vmlinux, id)->type);
  if (!t || !btf_is_ptr(t)) return -1;
  t = btf__type_by_id(vmlinux, t->type);
  if (!t || !btf_is_func_proto(t)) return -1;
  return btf_vlen(t) - 1;  // the first is the tracepoint's own void *__data
}

template <typename Skel>
struct SkelOps;

#define TRACER_SKEL_OPS(NAME)                                                        \
  template <>                                                                        \
  struct SkelOps<NAME##_bpf> {                                                       \
    static NAME##_bpf* Open() { return NAME##_bpf__open(); }                         \
    static int Load(NAME##_bpf* s) { return NAME##_bpf__load(s); }                   \
    static void Destroy(void* s) { NAME##_bpf__destroy(static_cast<NAME##_bpf*>(s)); } \
  };
TRACER_SKEL_OPS(process)
TRACER_SKEL_OPS(oom)
TRACER_SKEL_OPS(iowait)
TRACER_SKEL_OPS(net)
TRACER_SKEL_OPS(files)
TRACER_SKEL_OPS(output)
TRACER_SKEL_OPS(syscalls)
TRACER_SKEL_OPS(cgroups)
#undef TRACER_SKEL_OPS

const char* const kSharedMaps[] = {"events", "losses", "tracked", "counters"};

}  // namespace

struct Loader::Object {
  std::string name;
  void* skel = nullptr;
  struct bpf_object* obj = nullptr;
  void (*destroy)(void*) = nullptr;
  volatile uint32_t* track_epoch = nullptr;  // syscalls.bpf.c's, in its mmap'd .bss
  std::vector<struct bpf_link*> links;
};

void InstallLibbpfPrint() { libbpf_set_print(Print); }

std::vector<LibbpfMessage> TakeLibbpfMessages() {
  std::lock_guard<std::mutex> lock(g_print_mu);
  std::vector<LibbpfMessage> out;
  out.swap(g_messages);
  return out;
}

namespace {

struct Context {
  const LoaderConfig& cfg;
  const struct btf* vmlinux;
  int shared_fds[4];  // by kSharedMaps; -1 while "process" is not loaded
};

bool Failed(LoadFailure* f, const std::string& program, const char* step, int err, size_t mark,
            const std::string& detail = "") {
  f->program = program;
  f->step = step;
  f->err = err < 0 ? -err : err;
  f->detail = detail.empty() ? WarningsSince(mark) : detail;
  return false;
}

// fentry/fexit programs whose kernel function is absent (a module not loaded, a renamed
// function) are skipped, not fatal: the rest of their object still loads.
void SkipMissingTargets(struct bpf_object* obj, const struct btf* vmlinux, const std::string& name,
                        std::vector<LoadFailure>* unavailable) {
  struct bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    if (!bpf_program__autoload(prog)) continue;
    enum bpf_attach_type at = bpf_program__expected_attach_type(prog);
    if (at != BPF_TRACE_FENTRY && at != BPF_TRACE_FEXIT) continue;
    const char* sec = bpf_program__section_name(prog);
    const char* slash = sec ? strchr(sec, '/') : nullptr;
    if (!slash || btf__find_by_name_kind(vmlinux, slash + 1, BTF_KIND_FUNC) >= 0) continue;
    bpf_program__set_autoload(prog, false);
    unavailable->push_back({name + ":" + bpf_program__name(prog), "open", ENOENT,
                            std::string("kernel has no function ") + (slash + 1)});
  }
}

}  // namespace

template <typename Skel, typename Configure>
static bool LoadObject(const char* name, Context& ctx, Configure configure, bool required,
                       std::vector<Loader::Object*>* objects, std::vector<LoadFailure>* unavailable,
                       LoadFailure* f);

bool Loader::Load(const LoaderConfig& cfg, LoadFailure* failure) {
  size_t mark = MessageMark();
  errno = 0;
  struct btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) return Failed(failure, "process", "btf", errno ? errno : ENOENT, mark);
  Context ctx{cfg, vmlinux, {-1, -1, -1, -1}};
  auto disabled = [&](const char* n) {
    for (const auto& d : cfg.disabled)
      if (d == n) return true;
    return false;
  };

  // 1. process: required, owns the shared maps.
  bool ok = LoadObject<process_bpf>(
      "process", ctx,
      [&](process_bpf* s, bool) {
        s->rodata->cgroup_v1_memory = cfg.cgroup_v1_memory;
        // sched_process_exit says group_dead itself since 6.16; before, read signal->live.
        // Since 6.16 it also fires before exit_mm, so the exec'd image's RSS peak is read
        // there once per process; before, a hook on every mmap_lock (handle_mm_exit) is
        // the only place that sees the mm at exit.
        bool has_group_dead = TracepointArgs(vmlinux, "sched_process_exit") >= 2;
        bpf_program__set_autoload(has_group_dead ? s->progs.handle_exit_live : s->progs.handle_exit, false);
        bpf_program__set_autoload(s->progs.handle_mm_exit, !has_group_dead);
        s->rodata->exit_sees_mm = has_group_dead;
        bpf_map__set_max_entries(s->maps.events, cfg.ring_bytes);
      },
      true, &objects_, &unavailable_, failure);
  if (!ok) {
    btf__free(vmlinux);
    Destroy();
    return false;
  }
  struct bpf_object* owner = objects_.front()->obj;
  for (int i = 0; i < 4; i++) ctx.shared_fds[i] = bpf_map__fd(bpf_object__find_map_by_name(owner, kSharedMaps[i]));
  events_fd_ = ctx.shared_fds[0];
  losses_fd_ = ctx.shared_fds[1];
  tracked_fd_ = ctx.shared_fds[2];
  counters_fd_ = ctx.shared_fds[3];
  loaded_.push_back("process");

  // 2. optional concerns: a failure leaves the others running.
  LoadFailure f;
  auto optional = [&](const char* n, bool ok) {
    if (ok) loaded_.push_back(n);
    else unavailable_.push_back(f);
  };
  auto optional_loaded = [&](const char* n) { return !loaded_.empty() && loaded_.back() == n; };
  if (!disabled("oom"))
    optional("oom", LoadObject<oom_bpf>(
                        "oom", ctx,
                        [&](oom_bpf* s, bool no_trampolines) {
                          // mark_victim passes the victim's task since 6.8; before, only a pid.
                          bool task_tp = TracepointArgs(vmlinux, "mark_victim") >= 2 &&
                                         TracepointArgs(vmlinux, "mark_victim") <= 3;
                          s->rodata->victim_tp = task_tp;
                          if (!task_tp) bpf_program__set_autoload(s->progs.handle_mark_victim, false);
                          (void)no_trampolines;
                        },
                        false, &objects_, &unavailable_, &f));
  if (!disabled("iowait"))
    optional("iowait", LoadObject<iowait_bpf>("iowait", ctx, [](iowait_bpf*, bool) {}, false, &objects_, &unavailable_, &f));
  if (!disabled("net"))
    optional("net", LoadObject<net_bpf>(
                        "net", ctx,
                        [&](net_bpf* s, bool) {
                          // sock_{send,recv}_length (6.3+) need no trampoline; else fexit.
                          bool tp = TracepointArgs(vmlinux, "sock_send_length") >= 3;
                          for (auto* p : {s->progs.sock_send, s->progs.sock_recv}) bpf_program__set_autoload(p, tp);
                          for (auto* p : {s->progs.tcp_send, s->progs.tcp_recv, s->progs.udp_send,
                                          s->progs.udp_recv, s->progs.udp6_send, s->progs.udp6_recv})
                            bpf_program__set_autoload(p, !tp);
                        },
                        false, &objects_, &unavailable_, &f));
  if (!disabled("files"))
    optional("files", LoadObject<files_bpf>(
                          "files", ctx,
                          [&](files_bpf* s, bool) {
                            s->rodata->open_rate_per_sec = cfg.open_rate_per_sec;
                            s->rodata->open_burst = cfg.open_burst;
                          },
                          false, &objects_, &unavailable_, &f));
  if (!disabled("output"))
    optional("output", LoadObject<output_bpf>(
                           "output", ctx,
                           [&](output_bpf* s, bool) {
                             s->rodata->log_bytes_per_sec = cfg.log_bytes_per_sec;
                             s->rodata->capture_targets[0] = cfg.capture_targets[0];
                             s->rodata->capture_targets[1] = cfg.capture_targets[1];
                           },
                           false, &objects_, &unavailable_, &f));
  if (!disabled("syscalls"))
    optional("syscalls", LoadObject<syscalls_bpf>(
                             "syscalls", ctx,
                             [&](syscalls_bpf* s, bool) {
                               for (uint32_t nr = 0; nr < TR_SC_NR_MAX; nr++) s->rodata->sc_desc[nr] = SyscallDescriptor(nr);
                               s->rodata->time_classes = cfg.time_syscalls;
                               s->rodata->err_rate_per_sec = cfg.error_rate_per_sec;
                               s->rodata->err_burst = cfg.error_burst;
                               s->rodata->err_report_ns = cfg.error_report_ns;
                               if (!cfg.time_syscalls) bpf_program__set_autoload(s->progs.sc_switch, false);
                               bool has_group_dead = TracepointArgs(vmlinux, "sched_process_exit") >= 2;
                               bpf_program__set_autoload(has_group_dead ? s->progs.sc_thread_exit_live : s->progs.sc_thread_exit,
                                                         false);
                             },
                             false, &objects_, &unavailable_, &f));
  if (optional_loaded("syscalls")) {
    Object* o = objects_.back();
    auto* skel = static_cast<syscalls_bpf*>(o->skel);
    o->track_epoch = &skel->bss->track_epoch;
    // sc_fail is attached to sys_exit_openat by its section; the other reported calls here.
    std::string missing;
    for (const auto& sc : ReportedSyscalls(cfg.error_probes)) {
      if (sc.exit_tracepoint == "sys_exit_openat") continue;
      errno = 0;
      struct bpf_link* link = bpf_program__attach_tracepoint(skel->progs.sc_fail, "syscalls", sc.exit_tracepoint.c_str());
      if (link) o->links.push_back(link);
      else missing += (missing.empty() ? "" : " ") + sc.name;
    }
    if (!missing.empty())
      unavailable_.push_back({"syscalls:sc_fail", "attach", ENOENT, "no exit tracepoint for: " + missing});
  }
  if (!disabled("cgroups"))
    optional("cgroups", LoadObject<cgroups_bpf>(
                            "cgroups", ctx, [&](cgroups_bpf* s, bool) { s->rodata->cgroup_v1_memory = cfg.cgroup_v1_memory; },
                            false, &objects_, &unavailable_, &f));
  btf__free(vmlinux);
  return true;
}

// Trampoline programs (fentry/fexit) still enabled in obj.
static std::vector<struct bpf_program*> TrampolinePrograms(struct bpf_object* obj) {
  std::vector<struct bpf_program*> out;
  struct bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    enum bpf_attach_type at = bpf_program__expected_attach_type(prog);
    if (bpf_program__autoload(prog) && (at == BPF_TRACE_FENTRY || at == BPF_TRACE_FEXIT)) out.push_back(prog);
  }
  return out;
}

// The verifier gives up with EAGAIN whenever a signal is pending, and libbpf retries a load
// only a few times: under a sampling profiler's SIGPROF every millisecond (node --cpu-prof) or
// any fast timer signal, no program would load. Signals wait on this thread until the load
// returns; process-directed ones are taken by other threads meanwhile.
struct SignalsHeld {
  sigset_t saved;
  SignalsHeld() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &saved);
  }
  ~SignalsHeld() { pthread_sigmask(SIG_SETMASK, &saved, nullptr); }
  SignalsHeld(const SignalsHeld&) = delete;
  SignalsHeld& operator=(const SignalsHeld&) = delete;
};

template <typename Skel, typename Configure>
static bool LoadObject(const char* name, Context& ctx, Configure configure, bool required,
                       std::vector<Loader::Object*>* objects, std::vector<LoadFailure>* unavailable,
                       LoadFailure* f) {
  // Some kernels refuse BPF trampolines (lockdown, no ftrace direct calls): the load fails
  // with EPERM before the verifier runs. An object whose fentry/fexit programs have a
  // tracepoint stand-in is then opened again without them (attempt 2).
  bool without_trampolines = false;
  for (int attempt = 0; attempt < 2; attempt++) {
    size_t mark = MessageMark();
    // Open: parse the embedded ELF.
    errno = 0;
    Skel* s = SkelOps<Skel>::Open();
    if (!s) return Failed(f, name, "open", errno ? errno : EINVAL, mark);
    auto* o = new Loader::Object{name, s, s->obj, SkelOps<Skel>::Destroy, {}};
    objects->push_back(o);

    // Configure: tunables before load (rodata is frozen by it), shared maps, optional hooks.
    s->rodata->root_tgid = ctx.cfg.root_tgid;
    s->rodata->self_tgid = ctx.cfg.self_tgid;
    s->rodata->wakeup_bytes = ctx.cfg.wakeup_bytes;
    configure(s, without_trampolines);
    if (ctx.shared_fds[0] >= 0) {
      for (int i = 0; i < 4; i++) {
        struct bpf_map* m = bpf_object__find_map_by_name(s->obj, kSharedMaps[i]);
        int err = m ? bpf_map__reuse_fd(m, ctx.shared_fds[i]) : -ENOENT;
        if (err) return Failed(f, name, "configure", err, mark);
      }
    }
    if (!required) SkipMissingTargets(s->obj, ctx.vmlinux, name, unavailable);
    auto trampolines = TrampolinePrograms(s->obj);
    if (without_trampolines)
      for (auto* p : trampolines) bpf_program__set_autoload(p, false);

    // Load: create maps, relocate (CO-RE), verify.
    int err;
    {
      SignalsHeld held;
      err = SkelOps<Skel>::Load(s);
    }
    if (err) {
      Failed(f, name, "load", err, mark);
      if (attempt == 0 && (err == -EPERM || err == -ENOTSUPP || err == -EOPNOTSUPP) && !trampolines.empty()) {
        unavailable->push_back({name + std::string(":fentry/fexit"), "load", -err,
                                "this kernel refuses BPF trampolines; using tracepoints only"});
        objects->pop_back();
        o->destroy(o->skel);
        delete o;
        without_trampolines = true;
        continue;
      }
      return false;
    }

    // Attach each program; in an optional object one that cannot attach is only reported.
    struct bpf_program* prog;
    bpf_object__for_each_program(prog, s->obj) {
      if (!bpf_program__autoload(prog)) continue;
      size_t pmark = MessageMark();
      errno = 0;
      struct bpf_link* link = bpf_program__attach(prog);
      if (!link) {
        int e = errno ? errno : EINVAL;
        if (required) return Failed(f, name + std::string(":") + bpf_program__name(prog), "attach", e, pmark);
        LoadFailure pf;
        Failed(&pf, name + std::string(":") + bpf_program__name(prog), "attach", e, pmark);
        unavailable->push_back(pf);
        continue;
      }
      o->links.push_back(link);
    }
    if (o->links.empty()) return Failed(f, name, "attach", ENOENT, mark, "no program of this object could attach");
    return true;
  }
  return false;
}

std::vector<int> Loader::SlowLinkFds() const {
  std::vector<int> fds;
  for (auto* o : objects_)
    for (auto* l : o->links) {
      struct bpf_link_info info = {};
      __u32 len = sizeof(info);
      int fd = bpf_link__fd(l);
      if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.type == BPF_LINK_TYPE_PERF_EVENT) fds.push_back(fd);
    }
  return fds;
}

void Loader::TrackedChanged() {
  for (auto* o : objects_)
    if (o->track_epoch) *o->track_epoch = *o->track_epoch + 1;
}

// Detaching a perf-attached tracepoint waits for an SRCU and an RCU grace period
// (perf_trace_event_unreg -> tracepoint_synchronize_unregister), ~70 ms on a small VM: one after
// the other, syscalls.bpf.c's ~110 links took 8 s. Those waits hold the kernel's event_mutex and
// stay serialized, but the rest of each release overlaps from a pool of threads (measured:
// `tracer run -- true` 10 s -> 6 s). `tracer run` leaves even that to a helper process
// (background-release.ts); this is the daemon's and the tests' path.
static void DestroyLinks(const std::vector<struct bpf_link*>& links) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  const size_t threads = std::min<size_t>(links.size(), 64);
  for (size_t i = 0; i < threads; i++)
    pool.emplace_back([&] {
      for (size_t k = next++; k < links.size(); k = next++) bpf_link__destroy(links[k]);
    });
  for (auto& t : pool) t.join();
}

void Loader::Destroy() {
  // Links first (detach, all at once), then objects in reverse order: "process" and its maps last.
  std::vector<struct bpf_link*> links;
  for (auto* o : objects_) links.insert(links.end(), o->links.begin(), o->links.end());
  DestroyLinks(links);
  for (auto it = objects_.rbegin(); it != objects_.rend(); ++it) {
    (*it)->destroy((*it)->skel);
    delete *it;
  }
  objects_.clear();
  events_fd_ = losses_fd_ = tracked_fd_ = counters_fd_ = -1;
}
