/*
 * Fuzz target: the params checks of the TLS job kinds (tls-discovery, push-validation)
 * and of work-order and renewal-sweep, which read JSON that comes through the API
 * (CreateSchedule, RunNow). The first byte picks the kind: 'R' renewal-sweep, else mod 3. A real store in a temporary directory answers the group lookups.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/app.h"
#include "appliance/inventory/groups.h"
#include "appliance/inventory/tables.h"
#include "appliance/jobs/kinds.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static clm_err add_default(store_txn *txn, void *arg)
{
    (void)arg;
    return group_ensure_default(txn, 0);
}

static clm_app *fuzz_app(void)
{
    static clm_app app;
    static int ready;
    static const store_table *const tables[] = {&inventory_certificates, &inventory_groups};
    char dir[] = "/tmp/clm-params-fuzz-XXXXXX";

    if (ready)
        return &app;
    config_defaults(&app.config);
    snprintf(app.config.tls_allow, sizeof(app.config.tls_allow), "%s",
             "127.0.0.0/8, ::1, 10.0.0.0/16");
    app.clock = clm_clock_system();
    if (mkdtemp(dir) == NULL || store_open(dir, NULL, tables, 2, &app.store) != CLM_OK ||
        store_update(app.store, add_default, NULL) != CLM_OK)
        abort();
    ready = 1;
    return &app;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clm_app *app = fuzz_app();

    if (size == 0)
        return 0;
    const char *kind = data[0] == 'R'      ? "renewal-sweep"
                     : data[0] % 3 == 1 ? "push-validation"
                     : data[0] % 3 == 2 ? "work-order" : "tls-discovery";
    clm_err err = jobs_check_params(kind, (const char *)data + 1, size - 1, app);
    if (err != CLM_OK && err != CLM_ERR_INVALID_ARGUMENT && err != CLM_ERR_PERMISSION &&
        err != CLM_ERR_NOT_FOUND)
        abort();
    return 0;
}
