/* appliance/issue_client.h: `clmd issue-client` (see issue_client.c). */
#ifndef CLM_APPLIANCE_ISSUE_CLIENT_H
#define CLM_APPLIANCE_ISSUE_CLIENT_H

/** Run the subcommand; argv[0] is "issue-client". @return the exit status. */
int issue_client_main(int argc, char **argv);

#endif
