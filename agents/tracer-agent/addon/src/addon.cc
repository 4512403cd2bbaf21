// tracer_bpf: the N-API face of the loader. `new Tracer(options)` opens, configures, loads
// and attaches (throwing an Error that names the program, step and errno); start() drains
// the ring buffer from a libuv poll on ring_buffer__epoll_fd() (woken by the kernel once
// wakeupBytes wait) and a drain timer (drainIntervalMs, for the quiet times in between), so
// the event loop never blocks and JS gets one array per drain; stop() drains what is left
// and detaches.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <napi.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include <linux/types.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "loader.h"
#include "records.h"
#include "syscalls.h"

extern "C" {
#include "events.h"
}

namespace {

// Records per N-API call: a burst still yields the event loop between batches (the epoll
// fd stays readable, so libuv calls back on its next turn).
constexpr size_t kMaxBatch = 8192;
constexpr int kBatchFull = -1000;  // sample callback's "stop here", not an error

class Tracer : public Napi::ObjectWrap<Tracer> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports) {
    Napi::Function fn = DefineClass(env, "Tracer",
                                    {
                                        InstanceMethod("start", &Tracer::Start),
                                        InstanceMethod("drain", &Tracer::DrainJs),
                                        InstanceMethod("stop", &Tracer::Stop),
                                        InstanceMethod("losses", &Tracer::Losses),
                                        InstanceMethod("counters", &Tracer::Counters),
                                        InstanceMethod("track", &Tracer::Track),
                                        InstanceMethod("slowLinkFds", &Tracer::SlowLinkFds),
                                        InstanceAccessor("loaded", &Tracer::Loaded, nullptr),
                                        InstanceAccessor("unavailable", &Tracer::Unavailable, nullptr),
                                    });
    exports.Set("Tracer", fn);
    return exports;
  }

  explicit Tracer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Tracer>(info) {
    Napi::Env env = info.Env();
    Napi::Object o = info.Length() > 0 && info[0].IsObject() ? info[0].As<Napi::Object>() : Napi::Object::New(env);
    if (o.Has("log") && o.Get("log").IsFunction()) log_ = Napi::Persistent(o.Get("log").As<Napi::Function>());
    LoaderConfig cfg;
    auto u32 = [&](const char* k, uint32_t def) {
      Napi::Value v = o.Get(k);
      return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : def;
    };
    cfg.root_tgid = u32("rootTgid", 0);
    cfg.self_tgid = u32("selfTgid", static_cast<uint32_t>(getpid()));
    cfg.cgroup_v1_memory = o.Get("cgroupV1Memory").ToBoolean();
    cfg.ring_bytes = u32("ringBytes", cfg.ring_bytes);
    cfg.wakeup_bytes = o.Get("wakeupBytes").IsNumber() ? u32("wakeupBytes", 0) : cfg.ring_bytes / 8;
    drain_interval_ms_ = u32("drainIntervalMs", 50);
    cfg.open_rate_per_sec = u32("openRatePerSec", cfg.open_rate_per_sec);
    cfg.open_burst = u32("openBurst", cfg.open_burst);
    cfg.log_bytes_per_sec = u32("logBytesPerSec", cfg.log_bytes_per_sec);
    if (o.Get("captureTargets").IsArray()) {
      Napi::Array a = o.Get("captureTargets").As<Napi::Array>();
      for (uint32_t i = 0; i < 2 && i < a.Length(); i++) cfg.capture_targets[i] = a.Get(i).As<Napi::Number>().Uint32Value();
    }
    if (o.Has("timeSyscalls")) cfg.time_syscalls = o.Get("timeSyscalls").ToBoolean();
    if (o.Has("errorProbes")) cfg.error_probes = o.Get("errorProbes").ToBoolean();
    cfg.error_rate_per_sec = u32("errorRatePerSec", cfg.error_rate_per_sec);
    cfg.error_burst = u32("errorBurst", cfg.error_burst);
    cfg.error_report_ns = static_cast<uint64_t>(u32("errorReportMs", static_cast<uint32_t>(cfg.error_report_ns / 1000000))) * 1000000;
    if (o.Get("disabled").IsArray()) {
      Napi::Array a = o.Get("disabled").As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); i++) cfg.disabled.push_back(a.Get(i).ToString().Utf8Value());
    }

    LoadFailure failure;
    bool ok = loader_.Load(cfg, &failure);
    FlushLog(env);
    if (!ok) {
      Napi::Error err = Napi::Error::New(env, failure.program + ": " + failure.step + " failed: " +
                                                  strerror(failure.err) + " (errno " +
                                                  std::to_string(failure.err) + ")");
      err.Set("program", failure.program);
      err.Set("step", failure.step);
      err.Set("errno", Napi::Number::New(env, failure.err));
      err.Set("detail", failure.detail);
      throw err;
    }
    ncpus_ = libbpf_num_possible_cpus();
    napi_add_env_cleanup_hook(env, Cleanup, this);
  }

  ~Tracer() override {
    napi_remove_env_cleanup_hook(Env(), Cleanup, this);
    Teardown();
  }

 private:
  // Process exit: detach without calling into JS.
  static void Cleanup(void* arg) { static_cast<Tracer*>(arg)->Teardown(); }

  void Teardown() {
    if (timer_) {
      uv_timer_stop(timer_);
      uv_close(reinterpret_cast<uv_handle_t*>(timer_), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
      timer_ = nullptr;
    }
    if (poll_) {
      uv_poll_stop(poll_);
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
    }
    if (rb_) {
      ring_buffer__free(rb_);
      rb_ = nullptr;
    }
    loader_.Destroy();
  }

  void FlushLog(Napi::Env env) {
    auto messages = TakeLibbpfMessages();
    if (log_.IsEmpty()) return;
    static const char* const kLevels[] = {"warn", "info", "debug"};
    for (auto& m : messages)
      log_.Call({Napi::String::New(env, kLevels[m.level < 0 || m.level > 2 ? 2 : m.level]),
                 Napi::String::New(env, m.text)});
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsFunction()) throw Napi::TypeError::New(env, "start(onBatch): onBatch must be a function");
    if (rb_) throw Napi::Error::New(env, "already started");
    if (loader_.events_fd() < 0) throw Napi::Error::New(env, "stopped");
    on_batch_ = Napi::Persistent(info[0].As<Napi::Function>());
    async_ = std::make_unique<Napi::AsyncContext>(env, "tracer:bpf");
    errno = 0;
    rb_ = ring_buffer__new(loader_.events_fd(), OnSample, this, nullptr);
    if (!rb_) {
      int e = errno ? errno : EINVAL;
      FlushLog(env);
      Napi::Error err = Napi::Error::New(env, std::string("process: ring_buffer failed: ") + strerror(e));
      err.Set("step", "ring_buffer");
      err.Set("errno", Napi::Number::New(env, e));
      throw err;
    }
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    poll_->data = this;
    int r = uv_poll_init(loop, poll_, ring_buffer__epoll_fd(rb_));
    if (r == 0) r = uv_poll_start(poll_, UV_READABLE, OnReadable);
    if (r != 0) {
      delete poll_;
      poll_ = nullptr;
      throw Napi::Error::New(env, std::string("uv_poll on the ring buffer failed: ") + uv_strerror(r));
    }
    if (drain_interval_ms_ > 0) {
      timer_ = new uv_timer_t;
      timer_->data = this;
      uv_timer_init(loop, timer_);
      uv_timer_start(timer_, OnTimer, drain_interval_ms_, drain_interval_ms_);
      uv_unref(reinterpret_cast<uv_handle_t*>(timer_));  // capture alone does not keep Node alive
    }
    return env.Undefined();
  }

  static void OnTimer(uv_timer_t* handle) { static_cast<Tracer*>(handle->data)->DrainFromLoop(); }

  static void OnReadable(uv_poll_t* handle, int status, int events) {
    static_cast<Tracer*>(handle->data)->DrainFromLoop();
  }

  void DrainFromLoop() {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    try {
      Drain(env);
    } catch (const Napi::Error& e) {
      // The batch callback threw: hand it to Node's uncaught-exception machinery.
      napi_fatal_exception(env, e.Value());
    }
  }

  // Consumes what the ring buffer holds (up to kMaxBatch records) and delivers it in one call.
  size_t Drain(Napi::Env env) {
    if (!rb_) return 0;
    env_for_batch_ = env;
    batch_.clear();
    int r = ring_buffer__consume(rb_);
    if (r < 0 && r != kBatchFull) {
      if (!log_.IsEmpty())
        log_.Call({Napi::String::New(env, "warn"),
                   Napi::String::New(env, std::string("ring_buffer__consume: ") + strerror(-r))});
    }
    FlushLog(env);
    size_t n = batch_.size();
    if (n == 0 || on_batch_.IsEmpty()) return n;
    napi_value arr;
    napi_create_array_with_length(env, n, &arr);
    for (size_t i = 0; i < n; i++) napi_set_element(env, arr, static_cast<uint32_t>(i), batch_[i]);
    batch_.clear();
    on_batch_.MakeCallback(Value(), {Napi::Value(env, arr), Napi::Number::New(env, malformed_)}, *async_);
    return n;
  }

  // Runs inside ring_buffer__consume, on the JS thread under Drain's HandleScope.
  static int OnSample(void* ctx, void* data, size_t size) {
    auto* self = static_cast<Tracer*>(ctx);
    napi_value obj = RecordToObject(self->env_for_batch_, data, size);
    if (obj) self->batch_.push_back(obj);
    else self->malformed_++;
    return self->batch_.size() >= kMaxBatch ? kBatchFull : 0;
  }

  Napi::Value DrainJs(const Napi::CallbackInfo& info) {
    size_t total = 0, n;
    // Everything the kernel holds now, batch by batch.
    do {
      Napi::HandleScope scope(info.Env());
      n = Drain(info.Env());
      total += n;
    } while (n >= kMaxBatch);
    return Napi::Number::New(info.Env(), static_cast<double>(total));
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (rb_) DrainJs(info);
    Teardown();
    return info.Env().Undefined();
  }

  Napi::Value Losses(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    static const char* const kNames[TR_LOSS_KINDS] = {"ringbuf",  "trackedFull",    "opensSuppressed",
                                                      "logBytes", "syscallErrors", "logSkippedBytes"};
    std::vector<__u64> per_cpu(ncpus_ > 0 ? ncpus_ : 1);
    for (__u32 k = 0; k < TR_LOSS_KINDS; k++) {
      double sum = 0;
      if (loader_.losses_fd() >= 0 && bpf_map_lookup_elem(loader_.losses_fd(), &k, per_cpu.data()) == 0)
        for (auto v : per_cpu) sum += static_cast<double>(v);
      out.Set(kNames[k], Napi::Number::New(env, sum));
    }
    return out;
  }

  Napi::Value Counters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    __u32 pid = info[0].As<Napi::Number>().Uint32Value();
    tr_counters c{};
    if (loader_.counters_fd() < 0 || bpf_map_lookup_elem(loader_.counters_fd(), &pid, &c) != 0)
      return env.Undefined();
    Napi::Object out = Napi::Object::New(env);
    out.Set("ioWaitNs", Napi::Number::New(env, static_cast<double>(c.io_wait_ns)));
    out.Set("netSendBytes", Napi::Number::New(env, static_cast<double>(c.net_send_bytes)));
    out.Set("netRecvBytes", Napi::Number::New(env, static_cast<double>(c.net_recv_bytes)));
    out.Set("opensSuppressed", Napi::Number::New(env, static_cast<double>(c.opens_suppressed)));
    out.Set("logSkippedBytes", Napi::Number::New(env, static_cast<double>(c.log_skipped)));
    out.Set("errorsSuppressed", Napi::Number::New(env, static_cast<double>(c.errors_suppressed)));
    out.Set("syscalls", SyscallClasses(env, c.sc_count, c.sc_ns));
    return out;
  }

  // Adds an already running process to the descendant filter (seeding at start).
  Napi::Value Track(const Napi::CallbackInfo& info) {
    __u32 pid = info[0].As<Napi::Number>().Uint32Value();
    __u8 one = 1;
    bool ok = loader_.tracked_fd() >= 0 && bpf_map_update_elem(loader_.tracked_fd(), &pid, &one, BPF_ANY) == 0;
    if (ok) loader_.TrackedChanged();
    return Napi::Boolean::New(info.Env(), ok);
  }

  Napi::Value SlowLinkFds(const Napi::CallbackInfo& info) {
    std::vector<int> fds = loader_.SlowLinkFds();
    Napi::Array out = Napi::Array::New(info.Env(), fds.size());
    for (size_t i = 0; i < fds.size(); i++) out.Set(static_cast<uint32_t>(i), Napi::Number::New(info.Env(), fds[i]));
    return out;
  }

  Napi::Value Loaded(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array a = Napi::Array::New(env);
    for (const auto& n : loader_.loaded()) a.Set(a.Length(), n);
    return a;
  }

  Napi::Value Unavailable(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array a = Napi::Array::New(env);
    for (const auto& f : loader_.unavailable()) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("program", f.program);
      o.Set("step", f.step);
      o.Set("errno", Napi::Number::New(env, f.err));
      o.Set("message", std::string(strerror(f.err)));
      o.Set("detail", f.detail);
      a.Set(a.Length(), o);
    }
    return a;
  }

  Loader loader_;
  ring_buffer* rb_ = nullptr;
  uv_poll_t* poll_ = nullptr;
  uv_timer_t* timer_ = nullptr;
  uint32_t drain_interval_ms_ = 50;
  Napi::FunctionReference log_;
  Napi::FunctionReference on_batch_;
  std::unique_ptr<Napi::AsyncContext> async_;
  napi_env env_for_batch_ = nullptr;
  std::vector<napi_value> batch_;
  double malformed_ = 0;
  int ncpus_ = 1;
};

// CLOCK_BOOTTIME (BPF timestamps, task start times) to CLOCK_REALTIME: the offset from the
// tightest of a few realtime/boottime/realtime brackets.
Napi::Value BootToRealtimeNs(const Napi::CallbackInfo& info) {
  auto ns = [](clockid_t c) {
    timespec t;
    clock_gettime(c, &t);
    return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
  };
  int64_t best_gap = INT64_MAX, offset = 0;
  for (int i = 0; i < 16; i++) {
    int64_t r1 = ns(CLOCK_REALTIME), b = ns(CLOCK_BOOTTIME), r2 = ns(CLOCK_REALTIME);
    if (r2 - r1 < best_gap) {
      best_gap = r2 - r1;
      offset = r1 + (r2 - r1) / 2 - b;
    }
  }
  return Napi::BigInt::New(info.Env(), offset);
}

Napi::Value BootTimeNs(const Napi::CallbackInfo& info) {
  timespec t;
  clock_gettime(CLOCK_BOOTTIME, &t);
  return Napi::BigInt::New(info.Env(), static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec);
}

// syscallName(nr): this architecture's name for a syscall number.
Napi::Value SyscallNameJs(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), SyscallName(info[0].As<Napi::Number>().Uint32Value()));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InstallLibbpfPrint();
  exports.Set("syscallName", Napi::Function::New(env, SyscallNameJs));
  exports.Set("bootToRealtimeNs", Napi::Function::New(env, BootToRealtimeNs));
  exports.Set("bootTimeNs", Napi::Function::New(env, BootTimeNs));
  exports.Set("pageSize", Napi::Number::New(env, static_cast<double>(sysconf(_SC_PAGESIZE))));
  return Tracer::Init(env, exports);
}

}  // namespace

NODE_API_MODULE(tracer_bpf, Init)
