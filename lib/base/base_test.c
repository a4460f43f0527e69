/* Unit tests for lib/base: errors, logging format, clock, buffers. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/base/arena.h"
#include "lib/base/buf.h"
#include "lib/base/clock.h"
#include "lib/base/error.h"
#include "lib/base/log.h"
#include "tests/unit.h"

UNIT_TEST(error_names_and_context)
{
    CHECK_STR_EQ(clm_strerror(CLM_OK), "ok");
    CHECK_STR_EQ(clm_strerror(CLM_ERR_INVALID_ARGUMENT), "invalid argument");
    CHECK_STR_EQ(clm_strerror((clm_err)999), "unknown error");
    for (int e = 0; e < CLM_ERR_MAX; e++)
        CHECK(strcmp(clm_strerror((clm_err)e), "unknown error") != 0);
    CHECK_INT_EQ(clm_fail(CLM_ERR_PARSE, "line %d: bad", 3), CLM_ERR_PARSE);
    CHECK_STR_EQ(clm_error_message(), "line 3: bad");
    clm_error_context(CLM_ERR_PARSE, "reading %s", "a.ini");
    CHECK_STR_EQ(clm_error_message(), "reading a.ini: line 3: bad");
    clm_fail(CLM_ERR_CONFIG, "outer: %s", clm_error_message()); /* the message as an argument */
    CHECK_STR_EQ(clm_error_message(), "outer: reading a.ini: line 3: bad");
    clm_error_clear();
    CHECK_STR_EQ(clm_error_message(), "");
}

static char *capture_log(void (*emit)(void))
{
    char path[] = "/tmp/clm-log-XXXXXX";
    int fd = mkstemp(path);
    static char text[4096];
    ssize_t n;

    unlink(path);
    clm_log_set_fd(fd);
    emit();
    clm_log_set_fd(2);
    lseek(fd, 0, SEEK_SET);
    n = read(fd, text, sizeof(text) - 1);
    close(fd);
    text[n > 0 ? n : 0] = '\0';
    return text;
}

static void emit_fields(void)
{
    CLM_LOG_INFO("listening", "addr", "127.0.0.1:7443", "note", "two words", "q", "a\"b",
                 "n", CLM_I64(-42), "empty", "");
    CLM_LOG_DEBUG("hidden");
}

UNIT_TEST(log_line_format)
{
    char *line = capture_log(emit_fields);

    CHECK_STR_CONTAINS(line, "level=info event=listening addr=127.0.0.1:7443");
    CHECK_STR_CONTAINS(line, "note=\"two words\"");
    CHECK_STR_CONTAINS(line, "q=\"a\\\"b\"");
    CHECK_STR_CONTAINS(line, "n=-42 empty=\"\"\n");
    CHECK(strncmp(line, "ts=", 3) == 0);
    CHECK(strstr(line, "hidden") == NULL);
    clm_log_level level;
    CHECK_INT_EQ(clm_log_level_parse("warn", &level), CLM_OK);
    CHECK_INT_EQ(level, CLM_LOG_WARN);
    CHECK_INT_EQ(clm_log_level_parse("loud", &level), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "loud");
}

UNIT_TEST(fake_clock)
{
    clm_clock_fake fake;

    clm_clock_fake_init(&fake, 1000);
    CHECK_INT_EQ(clm_clock_now_ns(&fake.clock), 1000);
    clm_clock_fake_advance(&fake, 5 * CLM_NS_PER_SEC);
    CHECK_INT_EQ(clm_clock_monotonic_ns(&fake.clock), 1000 + 5 * CLM_NS_PER_SEC);
    CHECK(clm_clock_now_ns(clm_clock_system()) > INT64_C(1700000000) * CLM_NS_PER_SEC);
}

UNIT_TEST(buffer_growth)
{
    clm_buf b = CLM_BUF_INIT;
    unsigned char key[8];

    CHECK_STR_EQ(clm_buf_str(&b), "");
    for (int i = 0; i < 1000; i++)
        CHECK_INT_EQ(clm_buf_printf(&b, "%d,", i % 10), CLM_OK);
    CHECK_INT_EQ(b.len, 2000);
    CHECK(strncmp(clm_buf_str(&b), "0,1,2,", 6) == 0);
    clm_buf_reset(&b);
    CHECK_INT_EQ(clm_buf_append_str(&b, "secret"), CLM_OK);
    CHECK_STR_EQ(clm_buf_str(&b), "secret");
    clm_buf_wipe(&b);
    CHECK(b.data == NULL);
    clm_put_be64(key, UINT64_C(0x0102030405060708));
    CHECK_INT_EQ(key[0], 1);
    CHECK_INT_EQ(key[7], 8);
    CHECK(clm_get_be64(key) == UINT64_C(0x0102030405060708));
    char hex[9];
    clm_hex_encode(hex, (const unsigned char *)"\x01\xab\xff\x00", 4);
    CHECK_STR_EQ(hex, "01abff00");
}

UNIT_TEST(arena_allocations)
{
    clm_arena a = CLM_ARENA_INIT;
    char *s = clm_arena_strdup(&a, "hello");
    unsigned char *big = clm_arena_alloc(&a, 100000);

    CHECK_STR_EQ(s, "hello");
    CHECK(big != NULL && big[99999] == 0);
    for (int i = 0; i < 1000; i++) {
        long *p = clm_arena_alloc(&a, sizeof(long) * 3);
        CHECK(p != NULL && ((uintptr_t)p % sizeof(long)) == 0 && p[2] == 0);
    }
    CHECK(clm_arena_memdup(&a, "x", 0) == NULL);
    clm_arena_reset(&a);
    CHECK(a.head != NULL);
    CHECK_STR_EQ(clm_arena_strdup(&a, "again"), "again");
    clm_arena_free(&a);
    CHECK(a.head == NULL);
}

int main(void)
{
    UNIT_RUN(arena_allocations);
    UNIT_RUN(error_names_and_context);
    UNIT_RUN(log_line_format);
    UNIT_RUN(fake_clock);
    UNIT_RUN(buffer_growth);
    return unit_report();
}
