/*
** srv_cursor.c -- opaque pagination cursors: the keyset position of the
** last row served plus the lake version (or time) the first page pinned,
** signed with HMAC-SHA256 under a per-lake secret so that a client can
** neither forge a position nor read another version through one.
**
** Layout before base64url: magic 'C' 1, version 1, query hash u64, pinned
** version i64, pinned time i64, last ts i64, skip i64, served i64, dataset
** length u8 + bytes, then the first 16 bytes of the HMAC of all that.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/hmac.h>

#include "srv_internal.h"

#define CURSOR_MAGIC   'C'
#define CURSOR_VERSION 1
#define MAC_BYTES      16
#define FIXED_BYTES    (2 + 8 * 6 + 1)

static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void mac(const uint8_t key[32], const uint8_t *data, size_t n, uint8_t out[32]) {
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, 32, data, n, out, &len);
}

int srv_cursor_encode(const srv_cursor *c, const uint8_t key[32], char *out, size_t out_size,
                      dl_error *err) {
    uint8_t raw[FIXED_BYTES + DL_DATASET_NAME_MAX + 32];
    size_t dlen = strlen(c->dataset);
    if (dlen > 255) return dl_error_set(err, DL_EINVAL, "cursor dataset name too long");
    raw[0] = CURSOR_MAGIC;
    raw[1] = CURSOR_VERSION;
    put_u64(raw + 2, c->query_hash);
    put_u64(raw + 10, (uint64_t)c->pin_version);
    put_u64(raw + 18, (uint64_t)c->pin_time);
    put_u64(raw + 26, (uint64_t)c->last_ts);
    put_u64(raw + 34, (uint64_t)c->skip);
    put_u64(raw + 42, (uint64_t)c->served);
    raw[50] = (uint8_t)dlen;
    memcpy(raw + FIXED_BYTES, c->dataset, dlen);
    size_t n = FIXED_BYTES + dlen;
    uint8_t m[32];
    mac(key, raw, n, m);
    memcpy(raw + n, m, MAC_BYTES);
    n += MAC_BYTES;
    if (srv_b64url_encode(raw, n, out, out_size) == 0)
        return dl_error_set(err, DL_EINTERNAL, "cursor does not fit its buffer");
    return DL_OK;
}

int srv_cursor_decode(const char *text, const uint8_t key[32], srv_cursor *out, dl_error *err) {
    memset(out, 0, sizeof *out);
    size_t tlen = strlen(text);
    uint8_t raw[FIXED_BYTES + 256 + MAC_BYTES];
    if (tlen == 0 || tlen > SRV_CURSOR_MAX)
        return dl_error_set(err, DL_EINVAL, "malformed cursor (length %zu)", tlen);
    long n = srv_b64url_decode(text, tlen, raw, sizeof raw);
    if (n < FIXED_BYTES + MAC_BYTES || raw[0] != CURSOR_MAGIC || raw[1] != CURSOR_VERSION)
        return dl_error_set(err, DL_EINVAL, "malformed cursor (not one this server issued)");
    size_t dlen = raw[50];
    if ((size_t)n != FIXED_BYTES + dlen + MAC_BYTES || dlen >= DL_DATASET_NAME_MAX)
        return dl_error_set(err, DL_EINVAL, "malformed cursor (bad length)");
    uint8_t m[32];
    mac(key, raw, FIXED_BYTES + dlen, m);
    if (!srv_ct_equal(m, raw + FIXED_BYTES + dlen, MAC_BYTES))
        return dl_error_set(err, DL_EINVAL,
                            "cursor signature does not match (tampered, or "
                            "issued for another lake)");
    out->query_hash = get_u64(raw + 2);
    out->pin_version = (int64_t)get_u64(raw + 10);
    out->pin_time = (int64_t)get_u64(raw + 18);
    out->last_ts = (int64_t)get_u64(raw + 26);
    out->skip = (int64_t)get_u64(raw + 34);
    out->served = (int64_t)get_u64(raw + 42);
    memcpy(out->dataset, raw + FIXED_BYTES, dlen);
    out->dataset[dlen] = '\0';
    if (out->skip < 0 || out->served < 0 || out->pin_version < 0)
        return dl_error_set(err, DL_EINVAL, "malformed cursor (negative position)");
    return DL_OK;
}

static int read_key(const char *path, uint8_t key[32], dl_error *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return dl_error_set(err, DL_EIO, "%s: %s", path, strerror(errno));
    ssize_t n = read(fd, key, 32);
    close(fd);
    if (n != 32)
        return dl_error_set(err, DL_ECORRUPT, "%s: expected a 32-byte key, read %zd bytes", path,
                            n);
    return DL_OK;
}

/* Created under a temporary name and linked into place, so that two
** servers starting on one lake agree on one key and never see half of it. */
int srv_key_load(const char *root, uint8_t key[32], dl_error *err) {
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/.dl/server.key", root);
    if (access(path, F_OK) == 0) return read_key(path, key, err);
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return dl_error_set(err, DL_EIO, "%s: %s", tmp, strerror(errno));
    int rc = DL_OK;
    if (getrandom(key, 32, 0) != 32)
        rc = dl_error_set(err, DL_EIO, "getrandom: %s", strerror(errno));
    else if (write(fd, key, 32) != 32 || fsync(fd) != 0)
        rc = dl_error_set(err, DL_EIO, "%s: %s", tmp, strerror(errno));
    close(fd);
    if (rc == DL_OK && link(tmp, path) != 0) {
        if (errno == EEXIST)
            rc = read_key(path, key, err); /* another server won the race */
        else
            rc = dl_error_set(err, DL_EIO, "%s: %s", path, strerror(errno));
    }
    unlink(tmp);
    return rc;
}
