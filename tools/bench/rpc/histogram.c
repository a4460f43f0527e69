/* tools/bench/rpc/histogram.c: log-linear latency buckets (see histogram.h). */
#include "tools/bench/rpc/histogram.h"

#include <math.h>
#include <string.h>

#define HIST_HALF (1u << (HIST_SUB_BITS - 1)) /* buckets per power of two */

void histogram_reset(histogram *h)
{
    memset(h, 0, sizeof(*h));
}

unsigned histogram_index(uint64_t v)
{
    unsigned msb;
    unsigned shift;

    if (v < (1u << HIST_SUB_BITS))
        return (unsigned)v;
    msb = 63u - (unsigned)__builtin_clzll(v);
    shift = msb - (HIST_SUB_BITS - 1);
    /* v >> shift lies in [HIST_HALF, 2 * HIST_HALF) */
    return shift * HIST_HALF + (unsigned)(v >> shift);
}

uint64_t histogram_bucket_low(unsigned index)
{
    unsigned shift;

    if (index < (1u << HIST_SUB_BITS))
        return index;
    shift = index / HIST_HALF - 1;
    return (uint64_t)(index % HIST_HALF + HIST_HALF) << shift;
}

void histogram_record(histogram *h, int64_t value_ns)
{
    uint64_t v = value_ns < 0 ? 0 : (uint64_t)value_ns;
    unsigned i = histogram_index(v);

    if (i >= HIST_BUCKETS)
        i = HIST_BUCKETS - 1;
    h->buckets[i]++;
    h->count++;
    if (v > h->max_ns)
        h->max_ns = v;
}

void histogram_merge(histogram *into, const histogram *from)
{
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        into->buckets[i] += from->buckets[i];
    into->count += from->count;
    if (from->max_ns > into->max_ns)
        into->max_ns = from->max_ns;
}

uint64_t histogram_quantile(const histogram *h, double q)
{
    uint64_t rank;
    uint64_t seen = 0;

    if (h->count == 0)
        return 0;
    if (q > 1.0)
        q = 1.0;
    rank = (uint64_t)ceil(q * (double)h->count);
    if (rank == 0)
        rank = 1;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t low = histogram_bucket_low(i);
            uint64_t high = i + 1 < HIST_BUCKETS ? histogram_bucket_low(i + 1) : low;
            uint64_t mid = low + (high - low) / 2;
            return mid > h->max_ns ? h->max_ns : mid;
        }
    }
    return h->max_ns;
}
