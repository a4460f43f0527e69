/* appliance/auth.c: roles for local uids and client certificates. */
#include "appliance/auth.h"

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUTH_MAX_UNIX 64
#define AUTH_MAX_MAP 256

struct auth_policy {
    int has_service_uid;
    uid_t service_uid;
    size_t n_unix;
    struct {
        uid_t uid;
        rpc_role role;
    } unix_roles[AUTH_MAX_UNIX];
    size_t n_map;
    struct {
        char match[256]; /* a full subject, or a CN */
        rpc_role role;
    } map[AUTH_MAX_MAP];
};

static char *trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static int parse_uid(const char *text, uid_t *uid)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v > 0xfffffffeUL)
        return 0;
    *uid = (uid_t)v;
    return 1;
}

static clm_err load_unix_roles(auth_policy *p, const char *spec)
{
    char copy[1024];
    char *save = NULL;

    snprintf(copy, sizeof(copy), "%s", spec);
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *entry = trim(item);
        char *colon = strchr(entry, ':');
        uid_t uid;
        rpc_role role;

        if (*entry == '\0')
            continue;
        if (colon == NULL)
            return clm_fail(CLM_ERR_CONFIG, "[auth] unix_roles: '%s' is not uid:role", entry);
        *colon = '\0';
        if (!parse_uid(trim(entry), &uid))
            return clm_fail(CLM_ERR_CONFIG, "[auth] unix_roles: '%s' is not a numeric uid",
                            entry);
        if (rpc_role_parse(trim(colon + 1), &role) != CLM_OK)
            return clm_fail(CLM_ERR_CONFIG, "[auth] unix_roles: %s", clm_error_message());
        if (p->n_unix == AUTH_MAX_UNIX)
            return clm_fail(CLM_ERR_CONFIG, "[auth] unix_roles: more than %d entries",
                            AUTH_MAX_UNIX);
        p->unix_roles[p->n_unix].uid = uid;
        p->unix_roles[p->n_unix++].role = role;
    }
    return CLM_OK;
}

static clm_err load_service_user(auth_policy *p, const char *name)
{
    struct passwd pw, *found = NULL;
    char buf[4096];

    if (name[0] == '\0')
        return CLM_OK;
    if (parse_uid(name, &p->service_uid)) {
        p->has_service_uid = 1;
        return CLM_OK;
    }
    if (getpwnam_r(name, &pw, buf, sizeof(buf), &found) != 0 || found == NULL)
        return clm_fail(CLM_ERR_CONFIG, "[auth] service_user: no user named '%s'", name);
    p->service_uid = found->pw_uid;
    p->has_service_uid = 1;
    return CLM_OK;
}

/* Role map file: "ROLE SUBJECT-OR-CN" per line; '#' starts a comment. */
static clm_err load_role_map(auth_policy *p, const char *path)
{
    FILE *f;
    char line[1024];
    int lineno = 0;

    if (path[0] == '\0')
        return CLM_OK;
    f = fopen(path, "r");
    if (f == NULL)
        return clm_fail(CLM_ERR_CONFIG, "[auth] role_map: %s: %s", path, strerror(errno));
    while (fgets(line, sizeof(line), f) != NULL) {
        char *text = trim(line);
        char *space;
        rpc_role role;

        lineno++;
        if (*text == '\0' || *text == '#')
            continue;
        space = text + strcspn(text, " \t");
        if (*space == '\0') {
            fclose(f);
            return clm_fail(CLM_ERR_CONFIG, "%s:%d: expected 'ROLE SUBJECT-OR-CN'", path, lineno);
        }
        *space = '\0';
        if (rpc_role_parse(text, &role) != CLM_OK) {
            fclose(f);
            return clm_fail(CLM_ERR_CONFIG, "%s:%d: %s", path, lineno, clm_error_message());
        }
        if (p->n_map == AUTH_MAX_MAP) {
            fclose(f);
            return clm_fail(CLM_ERR_CONFIG, "%s:%d: more than %d entries", path, lineno,
                            AUTH_MAX_MAP);
        }
        snprintf(p->map[p->n_map].match, sizeof(p->map[0].match), "%s", trim(space + 1));
        p->map[p->n_map++].role = role;
    }
    fclose(f);
    return CLM_OK;
}

clm_err auth_policy_load(const clm_config *cfg, auth_policy **out)
{
    auth_policy *p = calloc(1, sizeof(*p));
    clm_err err;

    *out = NULL;
    if (p == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    if ((err = load_unix_roles(p, cfg->unix_roles)) != CLM_OK ||
        (err = load_service_user(p, cfg->service_user)) != CLM_OK ||
        (err = load_role_map(p, cfg->role_map)) != CLM_OK) {
        free(p);
        return err;
    }
    *out = p;
    return CLM_OK;
}

void auth_policy_free(auth_policy *p)
{
    free(p);
}

rpc_role auth_unix_role(const auth_policy *p, uid_t uid)
{
    if (uid == 0 || (p->has_service_uid && uid == p->service_uid))
        return RPC_ROLE_ADMIN;
    for (size_t i = 0; i < p->n_unix; i++) {
        if (p->unix_roles[i].uid == uid)
            return p->unix_roles[i].role;
    }
    return RPC_ROLE_NONE;
}

int auth_subject_attribute(const char *subject, const char *type, int skip, char *out,
                           size_t out_size)
{
    size_t tlen = strlen(type);
    const char *p = subject;

    while (*p) {
        /* p is at the start of an attribute "TYPE=value" */
        int match = strncasecmp(p, type, tlen) == 0 && p[tlen] == '=';
        const char *v = p;
        size_t n = 0;

        while (*v && *v != '=')
            v++;
        if (*v == '=')
            v++;
        while (*v && *v != ',' && *v != '+') {
            char ch = *v++;
            if (ch == '\\' && *v) {
                if (isxdigit((unsigned char)v[0]) && isxdigit((unsigned char)v[1])) {
                    char hex[3] = {v[0], v[1], 0};
                    ch = (char)strtol(hex, NULL, 16);
                    v += 2;
                } else {
                    ch = *v++;
                }
            }
            if (match && n + 1 < out_size)
                out[n++] = ch;
        }
        if (match) {
            if (skip-- == 0) {
                out[n] = '\0';
                return 1;
            }
        }
        p = *v ? v + 1 : v;
    }
    return 0;
}

void auth_tls_identify(const auth_policy *p, const char *subject, rpc_peer *peer)
{
    char cn[256] = "";
    char ou[256];
    rpc_role role;

    peer->transport = RPC_TRANSPORT_TLS;
    peer->role = RPC_ROLE_NONE;
    snprintf(peer->identity, sizeof(peer->identity), "%s", subject);
    auth_subject_attribute(subject, "CN", 0, cn, sizeof(cn));
    for (size_t i = 0; i < p->n_map; i++) {
        if (strcmp(p->map[i].match, subject) == 0 || (cn[0] && strcmp(p->map[i].match, cn) == 0)) {
            peer->role = p->map[i].role;
            return;
        }
    }
    for (int i = 0; auth_subject_attribute(subject, "OU", i, ou, sizeof(ou)); i++) {
        if (rpc_role_parse(ou, &role) == CLM_OK) {
            peer->role = role;
            return;
        }
    }
    clm_error_clear();
}
