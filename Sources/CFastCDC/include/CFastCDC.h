#ifndef CFASTCDC_H
#define CFASTCDC_H

#include <stddef.h>
#include <stdint.h>

/// FastCDC's cut-point search (Xia et al., 2020, normalized chunking) over `bytes[0..<count]`.
///
/// Returns the length of the first chunk: `count` when `count <= min_size`; otherwise the first
/// position after `min_size` where the gear hash matches `mask_small` (before `avg_size`) or
/// `mask_large` (after it), capped at `max_size` and `count`. Kept in C so that it runs at full
/// speed in debug builds too (the end-to-end tests move hundreds of megabytes through it).
size_t fastcdc_cut(const uint8_t *bytes, size_t count, size_t min_size, size_t avg_size, size_t max_size,
                   uint64_t mask_small, uint64_t mask_large, const uint64_t *gear);

#endif
