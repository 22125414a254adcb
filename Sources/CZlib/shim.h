#ifndef CZLIB_SHIM_H
#define CZLIB_SHIM_H
#include <zlib.h>

/// `deflateInit` and `inflateInit` are macros in zlib.h, which Swift cannot call; these wrap them.
static inline int czlib_deflateInit(z_streamp stream, int level) {
    return deflateInit(stream, level);
}
static inline int czlib_inflateInit(z_streamp stream) {
    return inflateInit(stream);
}
#endif
