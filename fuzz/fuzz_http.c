/*
** fuzz_http.c -- libFuzzer target over the server's own request parsing
** and routing (src/server/srv_params.c, srv_routes.c, srv_cursor.c): the
** input's lines are a method, a decoded URL path, query parameters
** (key=value), a cursor and the Accept, Accept-Encoding and Authorization
** headers.  Nothing may crash, hang or read out of bounds.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/srv_internal.h"

static char *next_line(char **p) {
    char *s = *p;
    if (!s) return NULL;
    char *nl = strchr(s, '\n');
    if (nl) {
        *nl = '\0';
        *p = nl + 1;
    } else {
        *p = NULL;
    }
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 1 << 16) return 0;
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *p = text;
    const char *method = next_line(&p), *path = next_line(&p), *query = next_line(&p);
    const char *cursor = next_line(&p), *accept = next_line(&p), *encoding = next_line(&p);
    const char *auth = next_line(&p);
    dl_error err = {0};

    char storage[2048];
    const char *parts[SRV_MAX_PATH_PARTS], *params[SRV_MAX_PATH_PARTS];
    int n = 0;
    if (path && srv_path_split(path, storage, sizeof storage, parts, &n, &err) == DL_OK) {
        bool mismatch;
        const srv_route *r = srv_route_match(method ? method : "GET", parts, n, params, &mismatch);
        srv_params qp;
        memset(&qp, 0, sizeof qp);
        char *q = query ? strdup(query) : NULL;
        char *save = NULL;
        for (char *kv = q ? strtok_r(q, "&", &save) : NULL; kv; kv = strtok_r(NULL, "&", &save)) {
            char *eq = strchr(kv, '=');
            if (eq) *eq = '\0';
            srv_params_add(&qp, kv, eq ? eq + 1 : NULL);
        }
        if (r) srv_params_check_known(&qp, r->query_params, &err);
        free(q);
    }
    static const uint8_t key[32] = {1, 2, 3};
    srv_cursor c;
    if (cursor) srv_cursor_decode(cursor, key, &c, &err);
    srv_format f;
    srv_format_negotiate(NULL, accept, &f, &err);
    srv_encoding_negotiate(encoding);
    size_t len;
    srv_bearer_token(auth, &len);
    free(text);
    return 0;
}
