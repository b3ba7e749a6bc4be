/*
** dl_sha256.c -- SHA-256 of buffers and files through OpenSSL's EVP API.
*/
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dl_internal.h"

static void to_hex(const unsigned char *md, char hex_out[65]) {
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex_out[2 * i] = digits[md[i] >> 4];
        hex_out[2 * i + 1] = digits[md[i] & 15];
    }
    hex_out[64] = 0;
}

void dl_sha256_hex(const void *data, size_t len, char hex_out[65]) {
    DL_REQUIRE_OR_RETURN((data || len == 0) && hex_out, );
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    to_hex(md, hex_out);
}

int dl_sha256_file(const char *path, char hex_out[65], dl_error *err) {
    int rc = DL_OK;
    int fd = -1;
    EVP_MD_CTX *ctx = NULL;
    unsigned char *buf = NULL;
    DL_TRY(dl_file_open_data(path, &fd, err));
    ctx = EVP_MD_CTX_new();
    buf = malloc(1 << 20);
    if (!ctx || !buf || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        DL_FAIL(err, DL_ENOMEM, "%s: cannot start SHA-256", path);
    for (;;) {
        ssize_t n = read(fd, buf, 1 << 20);
        if (n < 0) {
            if (errno == EINTR) continue;
            DL_FAIL(err, DL_EIO, "%s: read: %s", path, strerror(errno));
        }
        if (n == 0) break;
        EVP_DigestUpdate(ctx, buf, (size_t)n);
    }
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    to_hex(md, hex_out);
cleanup:
    if (fd >= 0) close(fd);
    EVP_MD_CTX_free(ctx);
    free(buf);
    return rc;
}
