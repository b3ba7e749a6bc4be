/*
** fuzz_json.c -- libFuzzer target for the JSON parser (src/util/dl_json.c).
** Parsing must never crash, hang or leak; a failure must carry a message.
** When the text parses, every node is walked and these must hold, else
** abort() so the fuzzer keeps the input:
**   - strings are NUL-terminated at their length and hold no NUL byte;
**   - containers report counts that match their arrays; objects have keys;
**   - a number literal that dl_json_i64 accepts round-trips through %lld.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/dl_json.h"

static void require(int cond, const char *what) {
    if (cond) return;
    fprintf(stderr, "fuzz_json: %s\n", what);
    abort();
}

static void walk(const dl_json *v, int depth) {
    require(depth <= DL_JSON_MAX_DEPTH + 1, "depth cap exceeded");
    switch (v->type) {
    case DL_JSON_STRING:
        require(v->text != NULL && strlen(v->text) == v->len, "string length");
        break;
    case DL_JSON_NUMBER: {
        int64_t x;
        if (dl_json_i64(v, &x)) {
            char buf[32];
            snprintf(buf, sizeof buf, "%lld", (long long)x);
            int64_t y = strtoll(buf, NULL, 10);
            require(x == y, "integer round trip");
        }
        break;
    }
    case DL_JSON_ARRAY:
    case DL_JSON_OBJECT:
        require(v->count == 0 || v->items != NULL, "container items");
        for (int64_t i = 0; i < v->count; i++) {
            if (v->type == DL_JSON_OBJECT) {
                require(v->keys && v->keys[i], "object key");
                require(dl_json_get(v, v->keys[i]) != NULL, "key lookup");
            }
            walk(&v->items[i], depth + 1);
        }
        break;
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    dl_json_doc *doc = NULL;
    dl_error err = {0};
    int rc = dl_json_parse((const char *)data, size, "fuzz", &doc, &err);
    if (rc != DL_OK) {
        require(err.message[0] != 0, "error without a message");
        return 0;
    }
    walk(dl_json_root(doc), 0);
    dl_json_doc_free(doc);
    return 0;
}
