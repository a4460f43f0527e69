/* Fuzz target: the text form of targets (command lines, configuration) and the checks
 * behind it, without resolving names: whatever parses must expand or fail cleanly, and
 * nothing outside the allow-list may ever expand. */
#include "adapters/tls/targets.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const allow[] = {"127.0.0.0/24", "::1", "fd00::/120"};
    static tls_target_text text;
    adapter_probe_options options;
    tls_endpoint_list list;
    char *spec = malloc(size + 1);

    if (spec == NULL)
        return 0;
    memcpy(spec, data, size);
    spec[size] = '\0';
    memset(&options, 0, sizeof options);
    options.allow = allow;
    options.n_allow = 3;
    options.max_endpoints = 4096;
    if (tls_target_parse(spec, &text) == CLM_OK &&
        tls_targets_expand(&text.target, 1, &options, false, &list) == CLM_OK) {
        tls_allow_list a;
        if (tls_allow_list_parse(allow, 3, &a) != CLM_OK)
            abort();
        if (list.n > 4096)
            abort();
        for (size_t i = 0; i < list.n; i++) {
            tls_net net;
            if (tls_net_parse(list.v[i].address, "address", &net) != CLM_OK ||
                !tls_allow_list_permits(&a, &net) || list.v[i].port == 0)
                abort();
        }
        tls_allow_list_free(&a);
        tls_endpoint_list_free(&list);
    }
    free(spec);
    return 0;
}
