/* Runs a command under ptrace, one instruction at a time, and writes the
 * addresses it executed inside the given binary (as offsets from where
 * the binary is loaded, i.e. the addresses `nm` prints, in decimal), one
 * per line, in increasing order. x86-64 only (it reads `rip`). Children
 * that the command forks, vforks or clones are followed until they exec
 * something else (the CMD a `run` starts with clone(CLONE_VM) shares its
 * address space, and its pages count in the same process's memory). For
 * scripts/hot-text.sh.
 *
 * usage: hot-text-trace OUT BINARY COMMAND [ARG]...
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

/* The lowest and highest executable addresses of BINARY's mappings in
 * process `pid`, and the address its file offset 0 is mapped at. */
static int find_binary(pid_t pid, const char *binary, unsigned long *lo,
                       unsigned long *hi, unsigned long *base) {
    char path[64], line[4096], name[4096];
    snprintf(path, sizeof path, "/proc/%d/maps", pid);
    FILE *maps = fopen(path, "r");
    if (!maps) return -1;
    char *real = realpath(binary, NULL);
    *lo = ~0UL, *hi = 0, *base = ~0UL;
    while (fgets(line, sizeof line, maps)) {
        unsigned long start, end, offset;
        char perms[8];
        name[0] = 0;
        if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %4095s", &start, &end, perms,
                   &offset, name) < 4)
            continue;
        if (!real || strcmp(name, real) != 0) continue;
        if (start - offset < *base) *base = start - offset;
        if (strchr(perms, 'x')) {
            if (start < *lo) *lo = start;
            if (end > *hi) *hi = end;
        }
    }
    fclose(maps);
    free(real);
    return *hi > *lo ? 0 : -1;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s OUT BINARY COMMAND [ARG]...\n", argv[0]);
        return 2;
    }
    pid_t root = fork();
    if (root == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        execvp(argv[3], argv + 3);
        _exit(127);
    }
    int status;
    waitpid(root, &status, 0); /* stopped at its exec */
    unsigned long lo, hi, base;
    if (find_binary(root, argv[2], &lo, &hi, &base) != 0) {
        fprintf(stderr, "%s is not mapped in the traced command\n", argv[2]);
        kill(root, SIGKILL);
        return 1;
    }
    unsigned char *seen = calloc(hi - lo, 1);
    ptrace(PTRACE_SETOPTIONS, root, 0,
           PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
               PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL);
    ptrace(PTRACE_SINGLESTEP, root, 0, 0);
    int live = 1, code = 0;
    while (live > 0) {
        pid_t pid = waitpid(-1, &status, __WALL);
        if (pid < 0) break;
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            live--;
            if (pid == root) code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            continue;
        }
        int event = status >> 16, signal = 0;
        if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
            event == PTRACE_EVENT_CLONE) {
            live++; /* the child arrives stopped, and is stepped from there */
        } else if (event == PTRACE_EVENT_EXEC && pid != root) {
            ptrace(PTRACE_DETACH, pid, 0, 0); /* another program now */
            live--;
            continue;
        } else if (event == 0 && WSTOPSIG(status) == SIGTRAP) {
            struct user_regs_struct regs;
            ptrace(PTRACE_GETREGS, pid, 0, &regs);
            if (regs.rip >= lo && regs.rip < hi) seen[regs.rip - lo] = 1;
        } else if (event == 0 && WSTOPSIG(status) != SIGSTOP) {
            signal = WSTOPSIG(status); /* delivered as it would have been */
        }
        ptrace(PTRACE_SINGLESTEP, pid, 0, signal);
    }
    FILE *out = fopen(argv[1], "w");
    if (!out) return 1;
    for (unsigned long i = 0; i < hi - lo; i++)
        if (seen[i]) fprintf(out, "%lu\n", lo + i - base);
    fclose(out);
    fprintf(stderr, "%s: exit status %d\n", argv[3], code);
    return 0;
}
