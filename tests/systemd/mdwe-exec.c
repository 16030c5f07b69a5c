/*
 * mdwe-exec COMMAND [ARGS...]: run a command under the kernel's memory-deny-write-execute
 * (PR_SET_MDWE, Linux 6.3 and later), the rule that systemd's MemoryDenyWriteExecute=yes
 * enforces with a seccomp filter: no mapping may be writable and executable at once, or
 * become executable. Inherited across execve(). Exits 77 (a skip for ctest) where the
 * kernel lacks it, 1 when it does not hold.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef PR_SET_MDWE
#define PR_SET_MDWE              65
#define PR_MDWE_REFUSE_EXEC_GAIN 1
#endif

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: mdwe-exec COMMAND [ARGS...]\n");
        return 2;
    }
    if (prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0L, 0L, 0L) != 0) {
        fprintf(stderr, "mdwe-exec: PR_SET_MDWE: %s: skipped\n", strerror(errno));
        return 77;
    }
    void *p =
        mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
        fprintf(stderr, "mdwe-exec: a writable and executable mapping was allowed\n");
        return 1;
    }
    execvp(argv[1], argv + 1);
    fprintf(stderr, "mdwe-exec: %s: %s\n", argv[1], strerror(errno));
    return 127;
}
