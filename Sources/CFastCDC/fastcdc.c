#include "CFastCDC.h"

/// Rolls the gear hash over `bytes[*index ..< end]` and returns the position just after the first
/// byte at which `(hash & mask) == 0`, or 0 when there is none (then `*index` and `*hash` hold where
/// the scan stopped). Two bytes per step: the hash after the second byte is computed from the hash
/// before the first, so the dependency chain is one shift and one add per two bytes instead of per
/// byte, while the hash after the first byte is still checked. The cut points are exactly those of
/// a byte-by-byte scan.
static inline size_t scan(const uint8_t *bytes, size_t *index, size_t end, uint64_t *hash, uint64_t mask,
                          const uint64_t *gear) {
    size_t i = *index;
    uint64_t h = *hash;
    for (; i + 1 < end; i += 2) {
        uint64_t first = gear[bytes[i]], second = gear[bytes[i + 1]];
        uint64_t middle = (h << 1) + first;
        h = (h << 2) + (first << 1) + second;
        if ((middle & mask) == 0) return i + 1;
        if ((h & mask) == 0) return i + 2;
    }
    for (; i < end; i++) {
        h = (h << 1) + gear[bytes[i]];
        if ((h & mask) == 0) return i + 1;
    }
    *index = i;
    *hash = h;
    return 0;
}

size_t fastcdc_cut(const uint8_t *bytes, size_t count, size_t min_size, size_t avg_size, size_t max_size,
                   uint64_t mask_small, uint64_t mask_large, const uint64_t *gear) {
    if (count <= min_size) return count;
    if (count > max_size) count = max_size;
    size_t normal = avg_size < count ? avg_size : count;
    uint64_t hash = 0;
    size_t i = min_size, cut;
    if ((cut = scan(bytes, &i, normal, &hash, mask_small, gear)) != 0) return cut;
    if ((cut = scan(bytes, &i, count, &hash, mask_large, gear)) != 0) return cut;
    return count;
}
