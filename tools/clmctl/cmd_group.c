/*
 * tools/clmctl/cmd_group.c: group ls|show|create|set|rm (clm.v1.Groups).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clm/v1/groups.pb-c.h"
#include "tools/clmctl/clmctl.h"

static const char *renewal_text(const Clm__V1__RenewalSetting *r, char *buf, size_t size)
{
    if (r == NULL || !r->enabled)
        return "-";
    snprintf(buf, size, "%ud", r->days_before_expiry);
    return buf;
}

typedef struct group_rows {
    clmctl_globals *g;
    output_table *table;
} group_rows;

static int group_page(const ProtobufCMessage *reply, void *arg)
{
    const Clm__V1__ListGroupsResponse *r = (const void *)reply;
    group_rows *rows = arg;

    for (size_t i = 0; i < r->n_groups; i++) {
        const Clm__V1__Group *gr = r->groups[i];
        const Clm__V1__GroupPolicy *p = gr->policy;
        char count[24], renew[16], regen[16], reenroll[16], approval[16];
        if (rows->table == NULL) {
            clmctl_print_json(&gr->base);
            continue;
        }
        snprintf(count, sizeof(count), "%" PRIu64, gr->certificate_count);
        snprintf(approval, sizeof(approval), "%u level(s)",
                 p && p->approval ? p->approval->levels : 2);
        const char *cells[7] = {gr->name,
                                count,
                                renewal_text(p ? p->auto_renew : NULL, renew, sizeof(renew)),
                                renewal_text(p ? p->auto_regenerate : NULL, regen, sizeof(regen)),
                                renewal_text(p ? p->re_enroll : NULL, reenroll, sizeof(reenroll)),
                                approval,
                                gr->description};
        output_table_row(rows->table, cells);
    }
    return 0;
}

static int cmd_group_ls(clmctl_globals *g, int argc, char **argv)
{
    static const char *const headers[] = {"NAME", "CERTIFICATES", "AUTO-RENEW", "REGENERATE",
                                          "RE-ENROLL", "APPROVAL", "DESCRIPTION"};
    Clm__V1__ListGroupsRequest req = CLM__V1__LIST_GROUPS_REQUEST__INIT;
    group_rows rows = {g, NULL};
    int rc;

    (void)argv;
    if (argc != 0) {
        fprintf(stderr, "usage: clmctl group ls\n");
        return 2;
    }
    if (g->output != OUTPUT_JSON)
        rows.table = output_table_begin(g->output, headers, 7);
    rc = clmctl_for_each_page(g, "/clm.v1.Groups/ListGroups", &req.base,
                              &clm__v1__list_groups_response__descriptor, group_page, &rows);
    output_table_end(rows.table);
    return rc;
}

static int cmd_group_show(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__GetGroupRequest req = CLM__V1__GET_GROUP_REQUEST__INIT;
    ProtobufCMessage *r;

    if (argc != 1) {
        fprintf(stderr, "usage: clmctl group show NAME\n");
        return 2;
    }
    req.name = argv[0];
    r = clmctl_call(g, "/clm.v1.Groups/GetGroup", &req.base, &clm__v1__group__descriptor);
    if (r == NULL)
        return 1;
    clmctl_print_json(r);
    protobuf_c_message_free_unpacked(r, NULL);
    return 0;
}

/* The policy flags shared by create and set. Fills `group` and the update mask. */
typedef struct group_flags {
    Clm__V1__Group group;
    Clm__V1__GroupPolicy policy;
    Clm__V1__RenewalSetting renew, regenerate, reenroll;
    Clm__V1__CsrDefaults csr;
    Clm__V1__ApprovalPolicy approval;
    char *key_types[8], *hashes[4];
    char *mask[3];
    size_t n_mask;
    int policy_set;
} group_flags;

static int split_list(char *text, char **out, size_t max, size_t *n)
{
    char *save = NULL;

    *n = 0;
    for (char *t = strtok_r(text, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (*n == max)
            return 0;
        out[(*n)++] = t;
    }
    return 1;
}

static int parse_days(const char *text, Clm__V1__RenewalSetting *r)
{
    char *end;
    long days = strtol(text, &end, 10);

    r->enabled = 1;
    r->days_before_expiry = (uint32_t)(days < 0 ? 0 : days);
    return *end == '\0';
}

/* argv[0] is the command word, as getopt expects a program name there. */
static int parse_group_flags(int argc, char **argv, group_flags *f)
{
    static const struct option options[] = {
        {"description", required_argument, NULL, 'd'}, {"auto-renew", required_argument, NULL, 'r'},
        {"auto-regenerate", required_argument, NULL, 'g'}, {"re-enroll", required_argument, NULL, 'e'},
        {"auto-push", no_argument, NULL, 'p'}, {"override", no_argument, NULL, 'O'},
        {"org", required_argument, NULL, 'o'}, {"ou", required_argument, NULL, 'u'},
        {"locality", required_argument, NULL, 'l'}, {"state", required_argument, NULL, 's'},
        {"country", required_argument, NULL, 'c'}, {"key-types", required_argument, NULL, 'k'},
        {"hashes", required_argument, NULL, 'H'}, {"approval-levels", required_argument, NULL, 'a'},
        {"auto-approve-renewals", no_argument, NULL, 'A'}, {"rename", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0}};
    int c;

    optind = 0; /* restart getopt for the subcommand's own flags */
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        int ok = 1;
        f->policy_set |= c != 'd' && c != 'n';
        switch (c) {
        case 'd': f->group.description = optarg; f->mask[f->n_mask++] = "description"; break;
        case 'n': f->group.name = optarg; f->mask[f->n_mask++] = "name"; break;
        case 'r': ok = parse_days(optarg, &f->renew); f->policy.auto_renew = &f->renew; break;
        case 'g': ok = parse_days(optarg, &f->regenerate); f->policy.auto_regenerate = &f->regenerate; break;
        case 'e': ok = parse_days(optarg, &f->reenroll); f->policy.re_enroll = &f->reenroll; break;
        case 'p': f->policy.auto_push = 1; break;
        case 'O': f->policy.group_override = 1; break;
        case 'o': f->csr.organization = optarg; f->policy.csr_defaults = &f->csr; break;
        case 'u': f->csr.organizational_unit = optarg; f->policy.csr_defaults = &f->csr; break;
        case 'l': f->csr.locality = optarg; f->policy.csr_defaults = &f->csr; break;
        case 's': f->csr.state = optarg; f->policy.csr_defaults = &f->csr; break;
        case 'c': f->csr.country = optarg; f->policy.csr_defaults = &f->csr; break;
        case 'k': ok = split_list(optarg, f->key_types, 8, &f->policy.n_allowed_key_types);
                  f->policy.allowed_key_types = f->key_types; break;
        case 'H': ok = split_list(optarg, f->hashes, 4, &f->policy.n_allowed_hash_functions);
                  f->policy.allowed_hash_functions = f->hashes; break;
        case 'a': f->approval.levels = (uint32_t)strtoul(optarg, NULL, 10); f->policy.approval = &f->approval; break;
        case 'A': f->approval.auto_approve_renewals = 1; f->policy.approval = &f->approval; break;
        default: return 0;
        }
        if (!ok) {
            fprintf(stderr, "clmctl: bad value '%s'\n", optarg);
            return 0;
        }
        if (f->n_mask == 3)
            return 0;
    }
    if (f->policy_set)
        f->mask[f->n_mask++] = "policy";
    f->group.policy = &f->policy;
    return 1;
}

static void group_flags_init(group_flags *f)
{
    memset(f, 0, sizeof(*f));
    clm__v1__group__init(&f->group);
    clm__v1__group_policy__init(&f->policy);
    clm__v1__renewal_setting__init(&f->renew);
    clm__v1__renewal_setting__init(&f->regenerate);
    clm__v1__renewal_setting__init(&f->reenroll);
    clm__v1__csr_defaults__init(&f->csr);
    clm__v1__approval_policy__init(&f->approval);
}

#define GROUP_FLAGS_USAGE                                                                  \
    "[--description TEXT] [--auto-renew DAYS] [--auto-regenerate DAYS] [--re-enroll DAYS]\n" \
    "  [--auto-push] [--override] [--org O] [--ou OU] [--locality L] [--state S] [--country C]\n" \
    "  [--key-types RSA-2048,EC-P256,...] [--hashes SHA256,...] [--approval-levels N]\n"     \
    "  [--auto-approve-renewals]"

static int cmd_group_create(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__CreateGroupRequest req = CLM__V1__CREATE_GROUP_REQUEST__INIT;
    group_flags f;
    ProtobufCMessage *r;

    group_flags_init(&f);
    if (argc < 1 || !parse_group_flags(argc + 1, argv - 1, &f) || optind != argc) {
        fprintf(stderr, "usage: clmctl group create " GROUP_FLAGS_USAGE " NAME\n");
        return 2;
    }
    f.group.name = argv[argc - 1];
    req.group = &f.group;
    r = clmctl_call(g, "/clm.v1.Groups/CreateGroup", &req.base, &clm__v1__group__descriptor);
    if (r == NULL)
        return 1;
    clmctl_print_json(r);
    protobuf_c_message_free_unpacked(r, NULL);
    return 0;
}

static int cmd_group_set(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__UpdateGroupRequest req = CLM__V1__UPDATE_GROUP_REQUEST__INIT;
    group_flags f;
    ProtobufCMessage *r;

    group_flags_init(&f);
    if (argc < 1 || !parse_group_flags(argc + 1, argv - 1, &f) || optind != argc) {
        fprintf(stderr, "usage: clmctl group set [--rename NEW] " GROUP_FLAGS_USAGE " NAME\n"
                        "(policy flags replace the whole policy)\n");
        return 2;
    }
    req.name = argv[argc - 1];
    req.group = &f.group;
    req.update_mask = f.mask;
    req.n_update_mask = f.n_mask;
    r = clmctl_call(g, "/clm.v1.Groups/UpdateGroup", &req.base, &clm__v1__group__descriptor);
    if (r == NULL)
        return 1;
    clmctl_print_json(r);
    protobuf_c_message_free_unpacked(r, NULL);
    return 0;
}

static int cmd_group_rm(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__DeleteGroupRequest req = CLM__V1__DELETE_GROUP_REQUEST__INIT;
    Clm__V1__DeleteGroupResponse *r;

    if (argc == 3 && strcmp(argv[1], "--move-to") == 0)
        req.move_certificates_to = argv[2];
    else if (argc != 1) {
        fprintf(stderr, "usage: clmctl group rm NAME [--move-to GROUP]\n");
        return 2;
    }
    req.name = argv[0];
    r = (void *)clmctl_call(g, "/clm.v1.Groups/DeleteGroup", &req.base,
                            &clm__v1__delete_group_response__descriptor);
    if (r == NULL)
        return 1;
    printf("deleted group %s (%" PRIu64 " certificates moved)\n", argv[0], r->certificates_moved);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return 0;
}

const clmctl_command clmctl_group_commands[] = {
    {"group ls", "", "certificate groups and their renewal policy", cmd_group_ls},
    {"group show", "NAME", "one group with its whole policy", cmd_group_show},
    {"group create", "[FLAGS] NAME", "a new group (clmctl group create --help)", cmd_group_create},
    {"group set", "[FLAGS] NAME", "change a group's description, name or policy", cmd_group_set},
    {"group rm", "NAME [--move-to G]", "delete a group", cmd_group_rm},
    {NULL, NULL, NULL, NULL},
};
