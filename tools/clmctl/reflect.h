/*
 * tools/clmctl/reflect.h: the client side of gRPC server reflection (v1alpha, which
 * every gRPC server speaks; clmd serves v1 too). Files received are added to a
 * descset (lib/protodesc), which then answers symbol lookups.
 */
#ifndef CLM_TOOLS_CLMCTL_REFLECT_H
#define CLM_TOOLS_CLMCTL_REFLECT_H

#include <stddef.h>

#include "lib/protodesc/descset.h"
#include "tools/clmctl/client.h"

/**
 * @brief The services the server lists, sorted. Free with reflect_free_names.
 * @return CLM_OK; the call's error.
 */
clm_err reflect_list_services(clm_client *client, char ***names, size_t *count);
void reflect_free_names(char **names, size_t count);

/**
 * @brief Fetch the file defining `symbol` (and its dependencies) into `set`.
 * @return CLM_OK; CLM_ERR_NOT_FOUND when the server does not know the symbol.
 */
clm_err reflect_load_symbol(clm_client *client, descset *set, const char *symbol);

#endif
