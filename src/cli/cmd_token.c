/*
** cmd_token.c -- `dl token create|ls|revoke`: the bearer tokens of the data
** server, kept in the lake's catalog (only their SHA-256 is stored).
*/
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_lake.h"

static const cli_option token_options[] = {
    {"root", "DIR", "lake root (default $DL_ROOT, else ./lake)"},
    {"scope", "SCOPE", "create: read, write (ingest, resample) or admin (verify)"},
    {"datasets", "GLOB", "create: only datasets matching GLOB (e.g. 'BINANCE/SPOT/*/raw/1m')"},
    {"expires", "DURATION", "create: valid for DURATION (90m, 12h, 30d, 2w); default never"},
    {"name", "NAME", "create: a name for logs and revocation (default token-<time>)"},
    {"json", NULL, "ls: print JSON"},
};

static const cli_spec token_spec = {
    "token",
    "create --scope read|write|admin [--datasets GLOB] [--expires DURATION] [--name NAME]\n"
    "       dl token ls [--json] | dl token revoke NAME",
    "Manage the bearer tokens of `dl serve`.  create prints the new token as the\n"
    "last line of stdout: it is shown once, the lake keeps only its SHA-256.\n"
    "Scopes nest: admin > write > read.  revoke takes effect on the next request.\n",
    token_options,
    (int)(sizeof token_options / sizeof token_options[0]),
    1,
    2,
};

static int token_create(const cli_args *a, dl_lake *lake) {
    dl_token_scope scope;
    const char *s = cli_get(a, "scope");
    if (!s) return cli_usage_error(&token_spec, "create needs --scope read|write|admin");
    if (dl_token_scope_parse(s, &scope) != DL_OK)
        return cli_usage_error(&token_spec, "--scope must be read, write or admin, got '%s'", s);
    int64_t expires = 0, duration = 0;
    const char *e = cli_get(a, "expires");
    if (e && !cli_parse_duration_us(e, &duration))
        return cli_usage_error(&token_spec, "--expires wants a duration like 90m, 12h, 30d");
    dl_error err = {0};
    char name[64];
    const char *n = cli_get(a, "name");
    if (!n) {
        snprintf(name, sizeof name, "token-%lld", (long long)(cli_now_seconds() * 1000));
        n = name;
    }
    if (e) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        expires = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + duration;
    }
    char token[DL_TOKEN_TEXT_MAX];
    dl_token_info info;
    if (dl_token_create(lake, n, scope, cli_get(a, "datasets"), expires, token, &info, &err) !=
        DL_OK)
        return cli_fail(&err);
    printf("created token '%s' (id %" PRId64 ", scope %s, datasets %s, expires %s)\n", info.name,
           info.id, dl_token_scope_name(info.scope), info.datasets[0] ? info.datasets : "all",
           e ? e : "never");
    printf("%s\n", token);
    return cli_finish_stdout(CLI_EXIT_OK);
}

static void print_time(cli_buf *b, int64_t us, bool json) {
    char t[48];
    if (us == 0) {
        cli_buf_puts(b, json ? "null" : "-");
        return;
    }
    dl_format_timestamp(us, DL_UNIT_US, t, sizeof t);
    if (json)
        cli_append_json_string(b, (const uint8_t *)t, strlen(t));
    else
        cli_buf_puts(b, t);
}

static int token_ls(const cli_args *a, dl_lake *lake) {
    dl_error err = {0};
    dl_token_info *items = NULL;
    int64_t n = 0;
    if (dl_token_list(lake, &items, &n, &err) != DL_OK) return cli_fail(&err);
    bool json = cli_get(a, "json") != NULL;
    cli_buf b = {0};
    if (json)
        cli_buf_putc(&b, '[');
    else
        cli_buf_printf(&b, "%-6s %-24s %-6s %-32s %-24s %-24s %s\n", "ID", "NAME", "SCOPE",
                       "DATASETS", "CREATED", "EXPIRES", "REVOKED");
    for (int64_t i = 0; i < n; i++) {
        const dl_token_info *t = &items[i];
        if (json) {
            cli_buf_printf(&b, "%s{\"id\":%" PRId64 ",\"name\":", i ? "," : "", t->id);
            cli_append_json_string(&b, (const uint8_t *)t->name, strlen(t->name));
            cli_buf_printf(&b, ",\"scope\":\"%s\",\"datasets\":", dl_token_scope_name(t->scope));
            cli_append_json_string(&b, (const uint8_t *)t->datasets, strlen(t->datasets));
            cli_buf_puts(&b, ",\"created_at\":");
            print_time(&b, t->created_at, true);
            cli_buf_puts(&b, ",\"expires_at\":");
            print_time(&b, t->expires_at, true);
            cli_buf_puts(&b, ",\"revoked_at\":");
            print_time(&b, t->revoked_at, true);
            cli_buf_putc(&b, '}');
            continue;
        }
        cli_buf_printf(&b, "%-6" PRId64 " %-24s %-6s %-32s ", t->id, t->name,
                       dl_token_scope_name(t->scope), t->datasets[0] ? t->datasets : "*");
        print_time(&b, t->created_at, false);
        cli_buf_putc(&b, ' ');
        print_time(&b, t->expires_at, false);
        cli_buf_putc(&b, ' ');
        print_time(&b, t->revoked_at, false);
        cli_buf_putc(&b, '\n');
    }
    if (json) cli_buf_puts(&b, "]\n");
    fwrite(b.data, 1, b.len, stdout);
    cli_buf_free(&b);
    free(items);
    return cli_finish_stdout(CLI_EXIT_OK);
}

int cli_cmd_token(int argc, char **argv) {
    cli_args a;
    int prc = cli_parse(&token_spec, argc, argv, &a);
    if (prc != CLI_CONTINUE) return prc;
    const char *sub = a.args[0];
    bool create = strcmp(sub, "create") == 0, ls = strcmp(sub, "ls") == 0,
         revoke = strcmp(sub, "revoke") == 0;
    if (!create && !ls && !revoke)
        return cli_usage_error(&token_spec, "unknown subcommand '%s' (create, ls, revoke)", sub);
    if (revoke != (a.num_args == 2))
        return cli_usage_error(
            &token_spec, revoke ? "revoke needs the token's NAME" : "unexpected argument '%s'",
            a.args[1]);
    dl_lake *lake = cli_lake_open(&a);
    if (!lake) return CLI_EXIT_ERROR;
    int rc;
    if (create) {
        rc = token_create(&a, lake);
    } else if (ls) {
        rc = token_ls(&a, lake);
    } else {
        dl_error err = {0};
        rc = dl_token_revoke(lake, a.args[1], &err) == DL_OK ? CLI_EXIT_OK : cli_fail(&err);
        if (rc == CLI_EXIT_OK) printf("revoked token '%s'\n", a.args[1]);
        rc = cli_finish_stdout(rc);
    }
    dl_lake_close(lake);
    return rc;
}
