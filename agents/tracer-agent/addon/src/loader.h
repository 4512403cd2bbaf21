// The libbpf side of the addon, free of N-API: opens, configures, loads and attaches the
// bpf/ objects in libbpf-bootstrap's order and destroys them in reverse.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

struct bpf_map;

struct LoaderConfig {
  uint32_t root_tgid = 0;  // capture only its descendants; 0 = the whole host
  uint32_t self_tgid = 0;  // the agent itself, never captured
  bool cgroup_v1_memory = false;
  uint32_t ring_bytes = 16u << 20;
  uint64_t wakeup_bytes = 2u << 20;  // wake the reader once this much waits (0: every record)
  uint32_t open_rate_per_sec = 100;
  uint32_t open_burst = 500;
  uint32_t log_bytes_per_sec = 65536;
  // Per stream (stdout, stderr): bit (1 << tr_log_target) = capture writes to that target.
  uint32_t capture_targets[2] = {(1u << 1) | (1u << 2) | (1u << 12), (1u << 1) | (1u << 2) | (1u << 3) | (1u << 8) | (1u << 12)};
  bool time_syscalls = true;        // sleeps inside syscalls, by class
  bool error_probes = false;        // also failures of stat, access, readlink, getdents
  uint32_t error_rate_per_sec = 32;  // new failed-call records per process
  uint32_t error_burst = 256;
  uint64_t error_report_ns = 1000000000ull;
  std::vector<std::string> disabled;  // optional programs not to load (e.g. "net")
};

// Why one object could not be used: the step that failed (open, configure, load, attach,
// ring_buffer) and its errno, plus what libbpf said while it failed.
struct LoadFailure {
  std::string program;
  std::string step;
  int err = 0;  // positive errno
  std::string detail;
};

class Loader {
 public:
  Loader() = default;
  ~Loader() { Destroy(); }
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Loads "process" (required: false on failure, with *failure set) and the optional
  // objects (each failure appended to unavailable()).
  bool Load(const LoaderConfig& cfg, LoadFailure* failure);
  void Destroy();

  int events_fd() const { return events_fd_; }
  int losses_fd() const { return losses_fd_; }
  int tracked_fd() const { return tracked_fd_; }
  int counters_fd() const { return counters_fd_; }
  // After adding to `tracked`: the syscalls object's cached "not captured" verdicts expire.
  void TrackedChanged();
  /** The fds of the links slow to release (perf-event tracepoints: two RCU grace periods each,
   * under the kernel's event_mutex), for a process that holds them past our exit. */
  std::vector<int> SlowLinkFds() const;
  const std::vector<LoadFailure>& unavailable() const { return unavailable_; }
  const std::vector<std::string>& loaded() const { return loaded_; }

  struct Object;  // one loaded skeleton and its links

 private:
  std::vector<Object*> objects_;
  std::vector<LoadFailure> unavailable_;
  std::vector<std::string> loaded_;
  int events_fd_ = -1, losses_fd_ = -1, tracked_fd_ = -1, counters_fd_ = -1;
};

// libbpf's messages, kept until the JS side collects them (level: 0 warn, 1 info, 2 debug).
struct LibbpfMessage {
  int level;
  std::string text;
};
void InstallLibbpfPrint();
std::vector<LibbpfMessage> TakeLibbpfMessages();
