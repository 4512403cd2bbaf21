// The syscalls bpf/syscalls.bpf.c describes, by this architecture's numbers (<sys/syscall.h>):
// name, class (time by class), where the call's object is (failed-call records), and
// whether its failures are reported. Calls absent on an architecture (open, stat on arm64)
// are left out by their #ifdef.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

// A call's descriptor word for sc_desc[] (bpf/events.h TR_SC_*).
uint16_t SyscallDescriptor(uint32_t nr);
// Its name ("openat"), or "syscall_<nr>" for one not in the table.
std::string SyscallName(uint32_t nr);

struct ReportedSyscall {
  uint32_t nr;
  std::string name;
  std::string exit_tracepoint;  // syscalls:<this>
};

// The calls whose failures are reported, with their exit tracepoints. `probes` adds the
// existence checks (stat, access, readlink, getdents): hot in metadata-heavy tools.
std::vector<ReportedSyscall> ReportedSyscalls(bool probes);
