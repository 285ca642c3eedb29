/*
 * probe - tries what a curious (or hostile) app would try, and reports what it got:
 * the clock, random numbers, the environment, files and the network. Under govmarket the clock
 * starts at context.now and is virtual, random numbers are seeded per run, the environment is
 * empty, and no file or socket is reachable: nothing is preopened. Two runs print the same.
 */
#include "../govmarket.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *errno_name(int e) {
    switch (e) {
    case 0: return "ok";
    case ENOENT: return "ENOENT";
    case EBADF: return "EBADF";
    case ENOTCAPABLE: return "ENOTCAPABLE";
    case EACCES: return "EACCES";
    case ENOTSUP: return "ENOTSUP";
    case ENOSYS: return "ENOSYS";
    case ENOTSOCK: return "ENOTSOCK";
    case EPERM: return "EPERM";
    default: return "other";
    }
}

int main(void) {
    size_t len = 0;
    char *request = gm_read_request(&len);
    gm_log("probe: read %zu request bytes", len);

    struct timespec wall, mono;
    clock_gettime(CLOCK_REALTIME, &wall);
    clock_gettime(CLOCK_MONOTONIC, &mono);

    unsigned char random_bytes[8] = {0};
    int random_rc = getentropy(random_bytes, sizeof random_bytes);
    char random_hex[17];
    for (int i = 0; i < 8; i++) snprintf(random_hex + 2 * i, 3, "%02x", random_bytes[i]);

    int env_count = 0;
    for (char **e = environ; e && *e; e++) env_count++;

    errno = 0;
    FILE *f = fopen("/etc/passwd", "r");
    const char *file_result = f ? "opened" : errno_name(errno);
    errno = 0;
    int fd = open("data.txt", O_RDONLY);
    const char *relative_result = fd >= 0 ? "opened" : errno_name(errno);
    errno = 0;
    DIR *root = opendir("/");
    const char *dir_result = root ? "opened" : errno_name(errno);

    /* WASI preview 1 has no socket() or connect(); the only socket calls act on inherited
     * descriptors, and none is inherited. Try them on the first descriptors after stdio. */
    errno = 0;
    int accepted = accept(3, NULL, NULL);
    const char *accept_result = accepted >= 0 ? "accepted" : errno_name(errno);
    errno = 0;
    ssize_t sent = send(3, "x", 1, 0);
    const char *send_result = sent >= 0 ? "sent" : errno_name(errno);

    char out[1024];
    snprintf(out, sizeof out,
             "{\"wall_clock_s\":%lld,\"monotonic_ns\":%lld,\"random_ok\":%s,\"random_hex\":\"%s\","
             "\"env_count\":%d,\"open_etc_passwd\":\"%s\",\"open_relative\":\"%s\","
             "\"opendir_root\":\"%s\",\"socket_accept\":\"%s\",\"socket_send\":\"%s\"}\n",
             (long long)wall.tv_sec, (long long)mono.tv_sec * 1000000000LL + mono.tv_nsec,
             random_rc == 0 ? "true" : "false", random_hex, env_count, file_result,
             relative_result, dir_result, accept_result, send_result);
    free(request);
    return gm_write_output(out) == 0 ? 0 : 1;
}
