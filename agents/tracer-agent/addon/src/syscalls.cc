// Generated once from a table (class, object argument, flags per call); edit in place.
// TR_SC_REPORT: failures reported; EAGAIN counts only where it means a limit (fork, mmap,
// mlock). kProbe: calls whose failures are mostly existence checks (stat, access, readlink)
// and that metadata-heavy tools make by the million: hooked only when asked for.
#include "syscalls.h"

#include <linux/types.h>
#include <sys/syscall.h>

#include <utility>

extern "C" {
#include "events.h"
}

namespace {

constexpr uint16_t kProbe = 0x8000;  // addon-only flag, masked out of the descriptor

struct Syscall {
  long nr;
  const char* name;
  uint16_t cls;
  uint16_t arg;
  uint16_t flags;
};

const Syscall kSyscalls[] = {
#ifdef __NR_read
    {__NR_read, "read", TR_SC_FILE, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_write
    {__NR_write, "write", TR_SC_FILE, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_pread64
    {__NR_pread64, "pread64", TR_SC_FILE, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_pwrite64
    {__NR_pwrite64, "pwrite64", TR_SC_FILE, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_readv
    {__NR_readv, "readv", TR_SC_FILE, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_writev
    {__NR_writev, "writev", TR_SC_FILE, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_preadv
    {__NR_preadv, "preadv", TR_SC_FILE, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_pwritev
    {__NR_pwritev, "pwritev", TR_SC_FILE, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_preadv2
    {__NR_preadv2, "preadv2", TR_SC_FILE, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_pwritev2
    {__NR_pwritev2, "pwritev2", TR_SC_FILE, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_open
    {__NR_open, "open", TR_SC_FILE, TR_ARG_PATH0, TR_SC_REPORT | (2 << TR_SC_OPEN_FLAGS_SHIFT)},
#endif
#ifdef __NR_creat
    {__NR_creat, "creat", TR_SC_FILE, TR_ARG_PATH0, TR_SC_REPORT},
#endif
#ifdef __NR_openat
    {__NR_openat, "openat", TR_SC_FILE, TR_ARG_AT1, TR_SC_REPORT | (3 << TR_SC_OPEN_FLAGS_SHIFT)},
#endif
#ifdef __NR_openat2
    {__NR_openat2, "openat2", TR_SC_FILE, TR_ARG_AT1, TR_SC_REPORT | TR_SC_OPENAT2},
#endif
#ifdef __NR_open_by_handle_at
    {__NR_open_by_handle_at, "open_by_handle_at", TR_SC_FILE, TR_ARG_NONE, TR_SC_REPORT},
#endif
#ifdef __NR_name_to_handle_at
    {__NR_name_to_handle_at, "name_to_handle_at", TR_SC_FILE, TR_ARG_AT1, TR_SC_REPORT},
#endif
#ifdef __NR_close
    {__NR_close, "close", TR_SC_FILE, TR_ARG_NONE, 0},
#endif
#ifdef __NR_close_range
    {__NR_close_range, "close_range", TR_SC_FILE, TR_ARG_NONE, 0},
#endif
#ifdef __NR_stat
    {__NR_stat, "stat", TR_SC_FILE, TR_ARG_PATH0, TR_SC_REPORT | kProbe},
#endif
#ifdef __NR_lstat
    {__NR_lstat, "lstat", TR_SC_FILE, TR_ARG_PATH0, TR_SC_REPORT | kProbe},
#endif
#ifdef __NR_fstat
    {__NR_fstat, "fstat", TR_SC_FILE, TR_ARG_NONE, 0},
#endif
#ifdef __NR_newfstatat
    {__NR_newfstatat, "newfstatat", TR_SC_FILE, TR_ARG_AT1, TR_SC_REPORT | kProbe},
#endif
#ifdef __NR_statx
    {__NR_statx, "statx", TR_SC_FILE, TR_ARG_AT1, TR_SC_REPORT | kProbe},
#endif
#ifdef __NR_access
    {__NR_access, "access", TR_SC_FILE, TR_ARG_PATH0, TR_SC_REPORT | kProbe},
#endif
#ifdef __NR_faccessat
    {__NR_faccessat, "faccessat", TR_SC_FILE, TR_ARG_AT1, TR_SC_REPORT | kProbe},
#endif
#ifdef __NR_faccessat2
    {__NR_faccessat2, "faccessat2", TR_SC_FILE, TR_ARG_AT1, TR_SC_REPORT | kProbe},
#endif
#ifdef __NR_lseek
    {__NR_lseek, "lseek", TR_SC_FILE, TR_ARG_NONE, 0},
#endif
#ifdef __NR_getdents64
    {__NR_getdents64, "getdents64", TR_SC_FILE, TR_ARG_FD0, TR_SC_REPORT | kProbe},
#endif
#ifdef __NR_getdents
    {__NR_getdents, "getdents", TR_SC_FILE, TR_ARG_FD0, TR_SC_REPORT | kProbe},
#endif
#ifdef __NR_readlink
    {__NR_readlink, "readlink", TR_SC_FILE, TR_ARG_PATH0, TR_SC_REPORT | kProbe},
#endif
#ifdef __NR_readlinkat
    {__NR_readlinkat, "readlinkat", TR_SC_FILE, TR_ARG_AT1, TR_SC_REPORT | kProbe},
#endif
#ifdef __NR_mkdir
    {__NR_mkdir, "mkdir", TR_SC_FILE, TR_ARG_PATH0, TR_SC_REPORT},
#endif
#ifdef __NR_mkdirat
    {__NR_mkdirat, "mkdirat", TR_SC_FILE, TR_ARG_AT1, TR_SC_REPORT},
#endif
#ifdef __NR_rmdir
    {__NR_rmdir, "rmdir", TR_SC_FILE, TR_ARG_PATH0, TR_SC_REPORT},
#endif
#ifdef __NR_unlink
    {__NR_unlink, "unlink", TR_SC_FILE, TR_ARG_PATH0, TR_SC_REPORT},
#endif
#ifdef __NR_unlinkat
    {__NR_unlinkat, "unlinkat", TR_SC_FILE, TR_ARG_AT1, TR_SC_REPORT},
#endif
#ifdef __NR_rename
    {__NR_rename, "rename", TR_SC_FILE, TR_ARG_PATH0, TR_SC_REPORT},
#endif
#ifdef __NR_renameat
    {__NR_renameat, "renameat", TR_SC_FILE, TR_ARG_AT1, TR_SC_REPORT},
#endif
#ifdef __NR_renameat2
    {__NR_renameat2, "renameat2", TR_SC_FILE, TR_ARG_AT1, TR_SC_REPORT},
#endif
#ifdef __NR_link
    {__NR_link, "link", TR_SC_FILE, TR_ARG_PATH0, TR_SC_REPORT},
#endif
#ifdef __NR_linkat
    {__NR_linkat, "linkat", TR_SC_FILE, TR_ARG_AT1, TR_SC_REPORT},
#endif
#ifdef __NR_symlink
    {__NR_symlink, "symlink", TR_SC_FILE, TR_ARG_PATH1, TR_SC_REPORT},
#endif
#ifdef __NR_symlinkat
    {__NR_symlinkat, "symlinkat", TR_SC_FILE, TR_ARG_AT2, TR_SC_REPORT},
#endif
#ifdef __NR_mknod
    {__NR_mknod, "mknod", TR_SC_FILE, TR_ARG_PATH0, TR_SC_REPORT},
#endif
#ifdef __NR_mknodat
    {__NR_mknodat, "mknodat", TR_SC_FILE, TR_ARG_AT1, TR_SC_REPORT},
#endif
#ifdef __NR_chmod
    {__NR_chmod, "chmod", TR_SC_FILE, TR_ARG_PATH0, TR_SC_REPORT},
#endif
#ifdef __NR_fchmod
    {__NR_fchmod, "fchmod", TR_SC_FILE, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_fchmodat
    {__NR_fchmodat, "fchmodat", TR_SC_FILE, TR_ARG_AT1, TR_SC_REPORT},
#endif
#ifdef __NR_fchmodat2
    {__NR_fchmodat2, "fchmodat2", TR_SC_FILE, TR_ARG_AT1, TR_SC_REPORT},
#endif
#ifdef __NR_chown
    {__NR_chown, "chown", TR_SC_FILE, TR_ARG_PATH0, TR_SC_REPORT},
#endif
#ifdef __NR_lchown
    {__NR_lchown, "lchown", TR_SC_FILE, TR_ARG_PATH0, TR_SC_REPORT},
#endif
#ifdef __NR_fchown
    {__NR_fchown, "fchown", TR_SC_FILE, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_fchownat
    {__NR_fchownat, "fchownat", TR_SC_FILE, TR_ARG_AT1, TR_SC_REPORT},
#endif
#ifdef __NR_truncate
    {__NR_truncate, "truncate", TR_SC_FILE, TR_ARG_PATH0, TR_SC_REPORT},
#endif
#ifdef __NR_ftruncate
    {__NR_ftruncate, "ftruncate", TR_SC_FILE, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_fallocate
    {__NR_fallocate, "fallocate", TR_SC_FILE, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_utime
    {__NR_utime, "utime", TR_SC_FILE, TR_ARG_PATH0, TR_SC_REPORT},
#endif
#ifdef __NR_utimes
    {__NR_utimes, "utimes", TR_SC_FILE, TR_ARG_PATH0, TR_SC_REPORT},
#endif
#ifdef __NR_utimensat
    {__NR_utimensat, "utimensat", TR_SC_FILE, TR_ARG_AT1, TR_SC_REPORT},
#endif
#ifdef __NR_futimesat
    {__NR_futimesat, "futimesat", TR_SC_FILE, TR_ARG_AT1, TR_SC_REPORT},
#endif
#ifdef __NR_chdir
    {__NR_chdir, "chdir", TR_SC_FILE, TR_ARG_PATH0, TR_SC_REPORT},
#endif
#ifdef __NR_fchdir
    {__NR_fchdir, "fchdir", TR_SC_FILE, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_chroot
    {__NR_chroot, "chroot", TR_SC_FILE, TR_ARG_PATH0, TR_SC_REPORT},
#endif
#ifdef __NR_getcwd
    {__NR_getcwd, "getcwd", TR_SC_FILE, TR_ARG_NONE, 0},
#endif
#ifdef __NR_statfs
    {__NR_statfs, "statfs", TR_SC_FILE, TR_ARG_PATH0, TR_SC_REPORT},
#endif
#ifdef __NR_fstatfs
    {__NR_fstatfs, "fstatfs", TR_SC_FILE, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_setxattr
    {__NR_setxattr, "setxattr", TR_SC_FILE, TR_ARG_PATH0, TR_SC_REPORT},
#endif
#ifdef __NR_lsetxattr
    {__NR_lsetxattr, "lsetxattr", TR_SC_FILE, TR_ARG_PATH0, TR_SC_REPORT},
#endif
#ifdef __NR_fsetxattr
    {__NR_fsetxattr, "fsetxattr", TR_SC_FILE, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_removexattr
    {__NR_removexattr, "removexattr", TR_SC_FILE, TR_ARG_PATH0, TR_SC_REPORT},
#endif
#ifdef __NR_getxattr
    {__NR_getxattr, "getxattr", TR_SC_FILE, TR_ARG_NONE, 0},
#endif
#ifdef __NR_lgetxattr
    {__NR_lgetxattr, "lgetxattr", TR_SC_FILE, TR_ARG_NONE, 0},
#endif
#ifdef __NR_fgetxattr
    {__NR_fgetxattr, "fgetxattr", TR_SC_FILE, TR_ARG_NONE, 0},
#endif
#ifdef __NR_listxattr
    {__NR_listxattr, "listxattr", TR_SC_FILE, TR_ARG_NONE, 0},
#endif
#ifdef __NR_llistxattr
    {__NR_llistxattr, "llistxattr", TR_SC_FILE, TR_ARG_NONE, 0},
#endif
#ifdef __NR_flistxattr
    {__NR_flistxattr, "flistxattr", TR_SC_FILE, TR_ARG_NONE, 0},
#endif
#ifdef __NR_fadvise64
    {__NR_fadvise64, "fadvise64", TR_SC_FILE, TR_ARG_NONE, 0},
#endif
#ifdef __NR_readahead
    {__NR_readahead, "readahead", TR_SC_FILE, TR_ARG_NONE, 0},
#endif
#ifdef __NR_flock
    {__NR_flock, "flock", TR_SC_FILE, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_fcntl
    {__NR_fcntl, "fcntl", TR_SC_FILE, TR_ARG_NONE, 0},
#endif
#ifdef __NR_sendfile
    {__NR_sendfile, "sendfile", TR_SC_FILE, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_splice
    {__NR_splice, "splice", TR_SC_FILE, TR_ARG_FD2, TR_SC_REPORT},
#endif
#ifdef __NR_tee
    {__NR_tee, "tee", TR_SC_FILE, TR_ARG_NONE, 0},
#endif
#ifdef __NR_vmsplice
    {__NR_vmsplice, "vmsplice", TR_SC_FILE, TR_ARG_NONE, 0},
#endif
#ifdef __NR_copy_file_range
    {__NR_copy_file_range, "copy_file_range", TR_SC_FILE, TR_ARG_FD2, TR_SC_REPORT},
#endif
#ifdef __NR_io_setup
    {__NR_io_setup, "io_setup", TR_SC_FILE, TR_ARG_NONE, TR_SC_REPORT | TR_SC_EAGAIN},
#endif
#ifdef __NR_io_submit
    {__NR_io_submit, "io_submit", TR_SC_FILE, TR_ARG_NONE, 0},
#endif
#ifdef __NR_io_getevents
    {__NR_io_getevents, "io_getevents", TR_SC_FILE, TR_ARG_NONE, 0},
#endif
#ifdef __NR_io_uring_enter
    {__NR_io_uring_enter, "io_uring_enter", TR_SC_FILE, TR_ARG_NONE, 0},
#endif
#ifdef __NR_io_uring_setup
    {__NR_io_uring_setup, "io_uring_setup", TR_SC_FILE, TR_ARG_NONE, TR_SC_REPORT},
#endif
#ifdef __NR_dup
    {__NR_dup, "dup", TR_SC_FILE, TR_ARG_NONE, TR_SC_REPORT},
#endif
#ifdef __NR_dup2
    {__NR_dup2, "dup2", TR_SC_FILE, TR_ARG_NONE, 0},
#endif
#ifdef __NR_dup3
    {__NR_dup3, "dup3", TR_SC_FILE, TR_ARG_NONE, 0},
#endif
#ifdef __NR_pipe
    {__NR_pipe, "pipe", TR_SC_FILE, TR_ARG_NONE, TR_SC_REPORT},
#endif
#ifdef __NR_pipe2
    {__NR_pipe2, "pipe2", TR_SC_FILE, TR_ARG_NONE, TR_SC_REPORT},
#endif
#ifdef __NR_inotify_init1
    {__NR_inotify_init1, "inotify_init1", TR_SC_FILE, TR_ARG_NONE, TR_SC_REPORT},
#endif
#ifdef __NR_inotify_add_watch
    {__NR_inotify_add_watch, "inotify_add_watch", TR_SC_FILE, TR_ARG_PATH1, TR_SC_REPORT},
#endif
#ifdef __NR_eventfd2
    {__NR_eventfd2, "eventfd2", TR_SC_FILE, TR_ARG_NONE, TR_SC_REPORT},
#endif
#ifdef __NR_epoll_create1
    {__NR_epoll_create1, "epoll_create1", TR_SC_FILE, TR_ARG_NONE, TR_SC_REPORT},
#endif
#ifdef __NR_memfd_create
    {__NR_memfd_create, "memfd_create", TR_SC_MEM, TR_ARG_NONE, TR_SC_REPORT},
#endif
#ifdef __NR_mount
    {__NR_mount, "mount", TR_SC_FILE, TR_ARG_PATH1, TR_SC_REPORT},
#endif
#ifdef __NR_umount2
    {__NR_umount2, "umount2", TR_SC_FILE, TR_ARG_PATH0, TR_SC_REPORT},
#endif
#ifdef __NR_swapon
    {__NR_swapon, "swapon", TR_SC_FILE, TR_ARG_PATH0, TR_SC_REPORT},
#endif
#ifdef __NR_fsync
    {__NR_fsync, "fsync", TR_SC_SYNC, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_fdatasync
    {__NR_fdatasync, "fdatasync", TR_SC_SYNC, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_sync
    {__NR_sync, "sync", TR_SC_SYNC, TR_ARG_NONE, 0},
#endif
#ifdef __NR_syncfs
    {__NR_syncfs, "syncfs", TR_SC_SYNC, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_sync_file_range
    {__NR_sync_file_range, "sync_file_range", TR_SC_SYNC, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_msync
    {__NR_msync, "msync", TR_SC_SYNC, TR_ARG_NONE, TR_SC_REPORT},
#endif
#ifdef __NR_socket
    {__NR_socket, "socket", TR_SC_NET, TR_ARG_NONE, TR_SC_REPORT},
#endif
#ifdef __NR_socketpair
    {__NR_socketpair, "socketpair", TR_SC_NET, TR_ARG_NONE, TR_SC_REPORT},
#endif
#ifdef __NR_connect
    {__NR_connect, "connect", TR_SC_NET, TR_ARG_ADDR1, TR_SC_REPORT},
#endif
#ifdef __NR_bind
    {__NR_bind, "bind", TR_SC_NET, TR_ARG_ADDR1, TR_SC_REPORT},
#endif
#ifdef __NR_listen
    {__NR_listen, "listen", TR_SC_NET, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_accept
    {__NR_accept, "accept", TR_SC_NET, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_accept4
    {__NR_accept4, "accept4", TR_SC_NET, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_sendto
    {__NR_sendto, "sendto", TR_SC_NET, TR_ARG_ADDR4, TR_SC_REPORT},
#endif
#ifdef __NR_recvfrom
    {__NR_recvfrom, "recvfrom", TR_SC_NET, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_sendmsg
    {__NR_sendmsg, "sendmsg", TR_SC_NET, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_recvmsg
    {__NR_recvmsg, "recvmsg", TR_SC_NET, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_sendmmsg
    {__NR_sendmmsg, "sendmmsg", TR_SC_NET, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_recvmmsg
    {__NR_recvmmsg, "recvmmsg", TR_SC_NET, TR_ARG_FD0, TR_SC_REPORT},
#endif
#ifdef __NR_shutdown
    {__NR_shutdown, "shutdown", TR_SC_NET, TR_ARG_NONE, 0},
#endif
#ifdef __NR_getsockname
    {__NR_getsockname, "getsockname", TR_SC_NET, TR_ARG_NONE, 0},
#endif
#ifdef __NR_getpeername
    {__NR_getpeername, "getpeername", TR_SC_NET, TR_ARG_NONE, 0},
#endif
#ifdef __NR_setsockopt
    {__NR_setsockopt, "setsockopt", TR_SC_NET, TR_ARG_NONE, 0},
#endif
#ifdef __NR_getsockopt
    {__NR_getsockopt, "getsockopt", TR_SC_NET, TR_ARG_NONE, 0},
#endif
#ifdef __NR_mmap
    {__NR_mmap, "mmap", TR_SC_MEM, TR_ARG_NONE, TR_SC_REPORT | TR_SC_EAGAIN},
#endif
#ifdef __NR_munmap
    {__NR_munmap, "munmap", TR_SC_MEM, TR_ARG_NONE, 0},
#endif
#ifdef __NR_mprotect
    {__NR_mprotect, "mprotect", TR_SC_MEM, TR_ARG_NONE, TR_SC_REPORT},
#endif
#ifdef __NR_mremap
    {__NR_mremap, "mremap", TR_SC_MEM, TR_ARG_NONE, TR_SC_REPORT | TR_SC_EAGAIN},
#endif
#ifdef __NR_brk
    {__NR_brk, "brk", TR_SC_MEM, TR_ARG_NONE, 0},
#endif
#ifdef __NR_madvise
    {__NR_madvise, "madvise", TR_SC_MEM, TR_ARG_NONE, 0},
#endif
#ifdef __NR_mlock
    {__NR_mlock, "mlock", TR_SC_MEM, TR_ARG_NONE, TR_SC_REPORT | TR_SC_EAGAIN},
#endif
#ifdef __NR_mlock2
    {__NR_mlock2, "mlock2", TR_SC_MEM, TR_ARG_NONE, TR_SC_REPORT | TR_SC_EAGAIN},
#endif
#ifdef __NR_munlock
    {__NR_munlock, "munlock", TR_SC_MEM, TR_ARG_NONE, 0},
#endif
#ifdef __NR_mlockall
    {__NR_mlockall, "mlockall", TR_SC_MEM, TR_ARG_NONE, TR_SC_REPORT | TR_SC_EAGAIN},
#endif
#ifdef __NR_munlockall
    {__NR_munlockall, "munlockall", TR_SC_MEM, TR_ARG_NONE, 0},
#endif
#ifdef __NR_mincore
    {__NR_mincore, "mincore", TR_SC_MEM, TR_ARG_NONE, 0},
#endif
#ifdef __NR_mbind
    {__NR_mbind, "mbind", TR_SC_MEM, TR_ARG_NONE, 0},
#endif
#ifdef __NR_set_mempolicy
    {__NR_set_mempolicy, "set_mempolicy", TR_SC_MEM, TR_ARG_NONE, 0},
#endif
#ifdef __NR_get_mempolicy
    {__NR_get_mempolicy, "get_mempolicy", TR_SC_MEM, TR_ARG_NONE, 0},
#endif
#ifdef __NR_migrate_pages
    {__NR_migrate_pages, "migrate_pages", TR_SC_MEM, TR_ARG_NONE, 0},
#endif
#ifdef __NR_move_pages
    {__NR_move_pages, "move_pages", TR_SC_MEM, TR_ARG_NONE, 0},
#endif
#ifdef __NR_process_madvise
    {__NR_process_madvise, "process_madvise", TR_SC_MEM, TR_ARG_NONE, 0},
#endif
#ifdef __NR_shmget
    {__NR_shmget, "shmget", TR_SC_MEM, TR_ARG_NONE, TR_SC_REPORT},
#endif
#ifdef __NR_shmat
    {__NR_shmat, "shmat", TR_SC_MEM, TR_ARG_NONE, TR_SC_REPORT},
#endif
#ifdef __NR_clone
    {__NR_clone, "clone", TR_SC_PROC, TR_ARG_NONE, TR_SC_REPORT | TR_SC_EAGAIN},
#endif
#ifdef __NR_clone3
    {__NR_clone3, "clone3", TR_SC_PROC, TR_ARG_NONE, TR_SC_REPORT | TR_SC_EAGAIN},
#endif
#ifdef __NR_fork
    {__NR_fork, "fork", TR_SC_PROC, TR_ARG_NONE, TR_SC_REPORT | TR_SC_EAGAIN},
#endif
#ifdef __NR_vfork
    {__NR_vfork, "vfork", TR_SC_PROC, TR_ARG_NONE, TR_SC_REPORT | TR_SC_EAGAIN},
#endif
#ifdef __NR_execve
    {__NR_execve, "execve", TR_SC_PROC, TR_ARG_PATH0, TR_SC_REPORT},
#endif
#ifdef __NR_execveat
    {__NR_execveat, "execveat", TR_SC_PROC, TR_ARG_AT1, TR_SC_REPORT},
#endif
#ifdef __NR_exit
    {__NR_exit, "exit", TR_SC_PROC, TR_ARG_NONE, 0},
#endif
#ifdef __NR_exit_group
    {__NR_exit_group, "exit_group", TR_SC_PROC, TR_ARG_NONE, 0},
#endif
#ifdef __NR_kill
    {__NR_kill, "kill", TR_SC_PROC, TR_ARG_NONE, 0},
#endif
#ifdef __NR_tkill
    {__NR_tkill, "tkill", TR_SC_PROC, TR_ARG_NONE, 0},
#endif
#ifdef __NR_tgkill
    {__NR_tgkill, "tgkill", TR_SC_PROC, TR_ARG_NONE, 0},
#endif
#ifdef __NR_setrlimit
    {__NR_setrlimit, "setrlimit", TR_SC_PROC, TR_ARG_NONE, 0},
#endif
#ifdef __NR_prlimit64
    {__NR_prlimit64, "prlimit64", TR_SC_PROC, TR_ARG_NONE, 0},
#endif
#ifdef __NR_getrlimit
    {__NR_getrlimit, "getrlimit", TR_SC_PROC, TR_ARG_NONE, 0},
#endif
#ifdef __NR_getrusage
    {__NR_getrusage, "getrusage", TR_SC_PROC, TR_ARG_NONE, 0},
#endif
#ifdef __NR_prctl
    {__NR_prctl, "prctl", TR_SC_PROC, TR_ARG_NONE, 0},
#endif
#ifdef __NR_ptrace
    {__NR_ptrace, "ptrace", TR_SC_PROC, TR_ARG_NONE, 0},
#endif
#ifdef __NR_setsid
    {__NR_setsid, "setsid", TR_SC_PROC, TR_ARG_NONE, 0},
#endif
#ifdef __NR_setpgid
    {__NR_setpgid, "setpgid", TR_SC_PROC, TR_ARG_NONE, 0},
#endif
#ifdef __NR_sched_setaffinity
    {__NR_sched_setaffinity, "sched_setaffinity", TR_SC_PROC, TR_ARG_NONE, 0},
#endif
#ifdef __NR_sched_getaffinity
    {__NR_sched_getaffinity, "sched_getaffinity", TR_SC_PROC, TR_ARG_NONE, 0},
#endif
#ifdef __NR_unshare
    {__NR_unshare, "unshare", TR_SC_PROC, TR_ARG_NONE, TR_SC_REPORT},
#endif
#ifdef __NR_setns
    {__NR_setns, "setns", TR_SC_PROC, TR_ARG_NONE, TR_SC_REPORT},
#endif
#ifdef __NR_pidfd_open
    {__NR_pidfd_open, "pidfd_open", TR_SC_PROC, TR_ARG_NONE, 0},
#endif
#ifdef __NR_futex
    {__NR_futex, "futex", TR_SC_WAIT, TR_ARG_NONE, 0},
#endif
#ifdef __NR_futex_waitv
    {__NR_futex_waitv, "futex_waitv", TR_SC_WAIT, TR_ARG_NONE, 0},
#endif
#ifdef __NR_poll
    {__NR_poll, "poll", TR_SC_WAIT, TR_ARG_NONE, 0},
#endif
#ifdef __NR_ppoll
    {__NR_ppoll, "ppoll", TR_SC_WAIT, TR_ARG_NONE, 0},
#endif
#ifdef __NR_select
    {__NR_select, "select", TR_SC_WAIT, TR_ARG_NONE, 0},
#endif
#ifdef __NR_pselect6
    {__NR_pselect6, "pselect6", TR_SC_WAIT, TR_ARG_NONE, 0},
#endif
#ifdef __NR_epoll_wait
    {__NR_epoll_wait, "epoll_wait", TR_SC_WAIT, TR_ARG_NONE, 0},
#endif
#ifdef __NR_epoll_pwait
    {__NR_epoll_pwait, "epoll_pwait", TR_SC_WAIT, TR_ARG_NONE, 0},
#endif
#ifdef __NR_epoll_pwait2
    {__NR_epoll_pwait2, "epoll_pwait2", TR_SC_WAIT, TR_ARG_NONE, 0},
#endif
#ifdef __NR_nanosleep
    {__NR_nanosleep, "nanosleep", TR_SC_WAIT, TR_ARG_NONE, 0},
#endif
#ifdef __NR_clock_nanosleep
    {__NR_clock_nanosleep, "clock_nanosleep", TR_SC_WAIT, TR_ARG_NONE, 0},
#endif
#ifdef __NR_pause
    {__NR_pause, "pause", TR_SC_WAIT, TR_ARG_NONE, 0},
#endif
#ifdef __NR_rt_sigsuspend
    {__NR_rt_sigsuspend, "rt_sigsuspend", TR_SC_WAIT, TR_ARG_NONE, 0},
#endif
#ifdef __NR_rt_sigtimedwait
    {__NR_rt_sigtimedwait, "rt_sigtimedwait", TR_SC_WAIT, TR_ARG_NONE, 0},
#endif
#ifdef __NR_wait4
    {__NR_wait4, "wait4", TR_SC_WAIT, TR_ARG_NONE, 0},
#endif
#ifdef __NR_waitid
    {__NR_waitid, "waitid", TR_SC_WAIT, TR_ARG_NONE, 0},
#endif
#ifdef __NR_msgrcv
    {__NR_msgrcv, "msgrcv", TR_SC_WAIT, TR_ARG_NONE, 0},
#endif
#ifdef __NR_semop
    {__NR_semop, "semop", TR_SC_WAIT, TR_ARG_NONE, 0},
#endif
#ifdef __NR_semtimedop
    {__NR_semtimedop, "semtimedop", TR_SC_WAIT, TR_ARG_NONE, 0},
#endif
};

const Syscall* Find(uint32_t nr) {
  for (const auto& s : kSyscalls)
    if (s.nr == static_cast<long>(nr)) return &s;
  return nullptr;
}

}  // namespace

uint16_t SyscallDescriptor(uint32_t nr) {
  const Syscall* s = Find(nr);
  if (!s) return TR_SC_OTHER;
  return static_cast<uint16_t>((s->cls | (s->arg << TR_SC_ARG_SHIFT) | s->flags) & ~kProbe);
}

std::vector<ReportedSyscall> ReportedSyscalls(bool probes) {
  // Where the exit tracepoint's name is not the call's (x86_64 names of the old stat ABI).
  static const std::pair<const char*, const char*> kTracepoint[] = {
      {"stat", "newstat"}, {"lstat", "newlstat"}, {"sendfile", "sendfile64"}, {"umount2", "umount"}};
  std::vector<ReportedSyscall> out;
  for (const auto& s : kSyscalls) {
    if (!(s.flags & TR_SC_REPORT) || ((s.flags & kProbe) && !probes)) continue;
    std::string tp = s.name;
    for (const auto& [name, event] : kTracepoint)
      if (tp == name) tp = event;
    out.push_back({static_cast<uint32_t>(s.nr), s.name, "sys_exit_" + tp});
  }
  return out;
}

std::string SyscallName(uint32_t nr) {
  const Syscall* s = Find(nr);
  return s ? s->name : "syscall_" + std::to_string(nr);
}
