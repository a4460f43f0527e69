/* adapters/ca/acme/solver.c: the table of built-in challenge solvers (solver.h). */
#include "adapters/ca/acme/solver.h"

#include <string.h>

const acme_solver_kind *const acme_solver_kinds[] = {
    &acme_solver_http01,
    &acme_solver_dns01,
    NULL,
};

const acme_solver_kind *acme_solver_find(const char *type)
{
    for (size_t i = 0; type != NULL && acme_solver_kinds[i] != NULL; i++)
        if (strcmp(acme_solver_kinds[i]->ops->type, type) == 0)
            return acme_solver_kinds[i];
    return NULL;
}
