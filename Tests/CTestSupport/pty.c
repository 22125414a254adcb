#define _XOPEN_SOURCE 600
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "CTestSupport.h"

int test_open_pty(char *name, size_t length) {
    int parent = posix_openpt(O_RDWR | O_NOCTTY);
    if (parent < 0) return -1;
    if (grantpt(parent) != 0 || unlockpt(parent) != 0) { close(parent); return -1; }
    const char *child = ptsname(parent);
    if (child == NULL || strlen(child) + 1 > length) { close(parent); return -1; }
    strcpy(name, child);
    return parent;
}
