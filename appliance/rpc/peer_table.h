/*
 * appliance/rpc/peer_table.h: who is on each accepted Unix-socket connection.
 *
 * The gRPC C core does not report a Unix-socket peer's credentials, so clmd accepts
 * local connections itself, reads SO_PEERCRED, records the peer under the connection's
 * file descriptor and hands the descriptor to gRPC, which then names the peer
 * "fd:<n>". A descriptor number is only reused after gRPC closed the connection, and
 * the accept that reuses it overwrites the row before gRPC sees a call on it.
 *
 * Thread rules: all functions may be called from any thread.
 */
#ifndef CLM_APPLIANCE_RPC_PEER_TABLE_H
#define CLM_APPLIANCE_RPC_PEER_TABLE_H

#include <pthread.h>

#include "appliance/rpc/rpc.h"

#define PEER_TABLE_MAX_FD 65536

typedef struct peer_table {
    pthread_mutex_t lock;
    rpc_peer *rows; /* indexed by fd; role RPC_ROLE_NONE when unused */
} peer_table;

/** @return CLM_OK or CLM_ERR_NO_MEMORY. */
clm_err peer_table_init(peer_table *table);
void peer_table_destroy(peer_table *table);
/** Record the peer of fd. @return 0 if fd is outside the table (refuse it). */
int peer_table_set(peer_table *table, int fd, const rpc_peer *peer);
/** Copy the peer of fd into *peer. @return 0 when unknown. */
int peer_table_get(peer_table *table, int fd, rpc_peer *peer);
#endif
