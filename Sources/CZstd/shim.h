#ifndef CZSTD_SHIM_H
#define CZSTD_SHIM_H
#include <zstd.h>
#include <zstd_errors.h>

/// `ZSTD_CONTENTSIZE_UNKNOWN` and `ZSTD_CONTENTSIZE_ERROR` are expression macros in zstd.h,
/// which Swift does not import; these return them.
static inline unsigned long long czstd_contentSizeUnknown(void) {
    return ZSTD_CONTENTSIZE_UNKNOWN;
}
static inline unsigned long long czstd_contentSizeError(void) {
    return ZSTD_CONTENTSIZE_ERROR;
}
#endif
