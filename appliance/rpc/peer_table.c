/* appliance/rpc/peer_table.c: fd -> peer rows for Unix-socket connections. */
#include "appliance/rpc/peer_table.h"

#include <stdlib.h>

clm_err peer_table_init(peer_table *table)
{
    table->rows = calloc(PEER_TABLE_MAX_FD, sizeof(*table->rows));
    if (table->rows == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory for the peer table");
    pthread_mutex_init(&table->lock, NULL);
    return CLM_OK;
}

void peer_table_destroy(peer_table *table)
{
    if (table->rows == NULL)
        return;
    free(table->rows);
    table->rows = NULL;
    pthread_mutex_destroy(&table->lock);
}

int peer_table_set(peer_table *table, int fd, const rpc_peer *peer)
{
    if (fd < 0 || fd >= PEER_TABLE_MAX_FD)
        return 0;
    pthread_mutex_lock(&table->lock);
    table->rows[fd] = *peer;
    pthread_mutex_unlock(&table->lock);
    return 1;
}

int peer_table_get(peer_table *table, int fd, rpc_peer *peer)
{
    int known;

    if (fd < 0 || fd >= PEER_TABLE_MAX_FD)
        return 0;
    pthread_mutex_lock(&table->lock);
    *peer = table->rows[fd];
    known = peer->identity[0] != '\0';
    pthread_mutex_unlock(&table->lock);
    return known;
}
