/* tools/bench/rpc/histogram_test.c: bucket layout and quantiles. */
#include "tests/unit.h"
#include "tools/bench/rpc/histogram.h"

#include <stdlib.h>

UNIT_TEST(small_values_are_exact)
{
    for (uint64_t v = 0; v < 128; v++) {
        CHECK_INT_EQ(histogram_index(v), v);
        CHECK_INT_EQ(histogram_bucket_low((unsigned)v), v);
    }
}

UNIT_TEST(buckets_are_contiguous_and_increasing)
{
    /* Each bucket starts where the previous one ends, and its low value maps back to it. */
    for (unsigned i = 0; i < histogram_index(UINT64_C(1) << 56); i++) {
        CHECK(histogram_bucket_low(i + 1) > histogram_bucket_low(i));
        CHECK_INT_EQ(histogram_index(histogram_bucket_low(i)), i);
        CHECK_INT_EQ(histogram_index(histogram_bucket_low(i + 1) - 1), i);
    }
    CHECK_INT_EQ(histogram_index(128), 128);
    CHECK_INT_EQ(histogram_bucket_low(129), 130);
    CHECK(histogram_index(UINT64_C(1) << 62) < HIST_BUCKETS);
}

UNIT_TEST(relative_error_is_bounded)
{
    for (uint64_t v = 128; v < (UINT64_C(1) << 40); v = v * 3 / 2 + 7) {
        unsigned i = histogram_index(v);
        uint64_t width = histogram_bucket_low(i + 1) - histogram_bucket_low(i);
        CHECK((double)width / (double)v <= 1.0 / 64 + 1e-12);
    }
}

UNIT_TEST(quantiles_of_uniform_values)
{
    static histogram h;
    histogram_reset(&h);
    CHECK_INT_EQ(histogram_quantile(&h, 0.5), 0);
    for (int64_t us = 1; us <= 1000; us++)
        histogram_record(&h, us * 1000);
    CHECK_INT_EQ(h.count, 1000);
    uint64_t p50 = histogram_quantile(&h, 0.50);
    uint64_t p99 = histogram_quantile(&h, 0.99);
    CHECK(llabs((long long)p50 - 500000) <= 500000 / 64 + 1);
    CHECK(llabs((long long)p99 - 990000) <= 990000 / 64 + 1);
    CHECK_INT_EQ(histogram_quantile(&h, 1.0), 1000000);
}

UNIT_TEST(merge_adds_counts_and_keeps_max)
{
    static histogram a, b;
    histogram_reset(&a);
    histogram_reset(&b);
    histogram_record(&a, 1000);
    histogram_record(&b, 5000000);
    histogram_record(&b, -5);
    histogram_merge(&a, &b);
    CHECK_INT_EQ(a.count, 3);
    CHECK_INT_EQ(a.max_ns, 5000000);
    CHECK_INT_EQ(a.buckets[0], 1);
    CHECK_INT_EQ(histogram_quantile(&a, 0.01), 0);
}

int main(void)
{
    UNIT_RUN(small_values_are_exact);
    UNIT_RUN(buckets_are_contiguous_and_increasing);
    UNIT_RUN(relative_error_is_bounded);
    UNIT_RUN(quantiles_of_uniform_values);
    UNIT_RUN(merge_adds_counts_and_keeps_max);
    return unit_report();
}
