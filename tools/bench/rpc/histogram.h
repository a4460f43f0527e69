/*
 * tools/bench/rpc/histogram.h: a latency histogram with bounded relative error.
 *
 * Log-linear buckets (HdrHistogram's layout): values below 2^HIST_SUB_BITS
 * nanoseconds are exact; above, each power of two is split into
 * 2^(HIST_SUB_BITS-1) equal buckets, so a reported percentile is within 1/64
 * (1.6 %) of the true value. Recording is one index computation and one add.
 *
 * Thread rules: a histogram belongs to one thread; merge them after the threads
 * have stopped.
 */
#ifndef CLM_TOOLS_BENCH_RPC_HISTOGRAM_H
#define CLM_TOOLS_BENCH_RPC_HISTOGRAM_H

#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_BUCKETS (64 * (1 << (HIST_SUB_BITS - 1)))

typedef struct histogram {
    uint64_t count;
    uint64_t max_ns;
    uint64_t buckets[HIST_BUCKETS];
} histogram;

/** Zero every bucket. */
void histogram_reset(histogram *h);

/** Record one value in nanoseconds (negative values count as 0). */
void histogram_record(histogram *h, int64_t value_ns);

/** Add every bucket of `from` into `into`. */
void histogram_merge(histogram *into, const histogram *from);

/**
 * @brief The value at quantile q (0 < q <= 1): the middle of the bucket holding
 * the ceil(q * count)-th smallest value, clamped to the largest value recorded.
 * @return nanoseconds; 0 for an empty histogram.
 */
uint64_t histogram_quantile(const histogram *h, double q);

/** The bucket index of a value, and the smallest value of a bucket (for tests). */
unsigned histogram_index(uint64_t value_ns);
uint64_t histogram_bucket_low(unsigned index);

#endif
