/* Unit tests for store/seal.c. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/seal.h"
#include "tests/unit.h"

UNIT_TEST(seal_round_trip_and_tamper)
{
    char dir[] = "/tmp/clm-seal-XXXXXX";
    char path[256];
    seal_key *key, *again, *other;
    clm_buf blob = CLM_BUF_INIT, plain = CLM_BUF_INIT;
    struct stat st;

    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT_EQ(seal_key_load(dir, &key), CLM_OK);
    snprintf(path, sizeof(path), "%s/master.key", dir);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == 32);
    CHECK_INT_EQ(seal_key_load(dir, &again), CLM_OK); /* same key loaded, not replaced */

    CHECK_INT_EQ(seal(key, "cert-key:abc", "secret key bytes", 16, &blob), CLM_OK);
    CHECK_INT_EQ(blob.len, 16 + SEAL_OVERHEAD);
    CHECK(memmem(blob.data, blob.len, "secret", 6) == NULL);
    CHECK_INT_EQ(seal_open(again, "cert-key:abc", blob.data, blob.len, &plain), CLM_OK);
    CHECK_STR_EQ(clm_buf_str(&plain), "secret key bytes");
    clm_buf_wipe(&plain);

    CHECK_INT_EQ(seal_open(key, "cert-key:xyz", blob.data, blob.len, &plain), CLM_ERR_CRYPTO);
    blob.data[20] ^= 1;
    CHECK_INT_EQ(seal_open(key, "cert-key:abc", blob.data, blob.len, &plain), CLM_ERR_CRYPTO);
    blob.data[20] ^= 1;
    CHECK_INT_EQ(seal_open(key, "cert-key:abc", blob.data, 10, &plain), CLM_ERR_PARSE);
    CHECK_INT_EQ(plain.len, 0);

    /* another data directory: another key, the blob does not open */
    char dir2[] = "/tmp/clm-seal-XXXXXX";
    CHECK(mkdtemp(dir2) != NULL);
    CHECK_INT_EQ(seal_key_load(dir2, &other), CLM_OK);
    CHECK_INT_EQ(seal_open(other, "cert-key:abc", blob.data, blob.len, &plain), CLM_ERR_CRYPTO);

    /* a key readable by others is refused */
    chmod(path, 0644);
    seal_key *leaked = NULL;
    CHECK_INT_EQ(seal_key_load(dir, &leaked), CLM_ERR_STORE);
    CHECK_STR_CONTAINS(clm_error_message(), "readable by group or others");
    CHECK(leaked == NULL);

    clm_buf_free(&blob);
    clm_buf_wipe(&plain);
    seal_key_free(key);
    seal_key_free(again);
    seal_key_free(other);
    unlink(path);
    rmdir(dir);
    snprintf(path, sizeof(path), "%s/master.key", dir2);
    unlink(path);
    rmdir(dir2);
}

int main(void)
{
    UNIT_RUN(seal_round_trip_and_tamper);
    return unit_report();
}
