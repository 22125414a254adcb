#ifndef CTEST_SUPPORT_H
#define CTEST_SUPPORT_H
#include <stddef.h>

/// Opens a pseudo-terminal pair. Returns the parent descriptor and writes the child's device
/// path into `name`, or returns -1.
int test_open_pty(char *name, size_t length);

#endif
