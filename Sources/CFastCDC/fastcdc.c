#include "CFastCDC.h"

size_t fastcdc_cut(const uint8_t *bytes, size_t count, size_t min_size, size_t avg_size, size_t max_size,
                   uint64_t mask_small, uint64_t mask_large, const uint64_t *gear) {
    if (count <= min_size) return count;
    if (count > max_size) count = max_size;
    size_t normal = avg_size < count ? avg_size : count;
    uint64_t hash = 0;
    size_t i = min_size;
    for (; i < normal; i++) {
        hash = (hash << 1) + gear[bytes[i]];
        if ((hash & mask_small) == 0) return i + 1;
    }
    for (; i < count; i++) {
        hash = (hash << 1) + gear[bytes[i]];
        if ((hash & mask_large) == 0) return i + 1;
    }
    return count;
}
