/*
** dl_feat_semver.c -- Semantic Versioning 2.0.0 (semver.org): validation
** and precedence of feature-set version strings.
**
** Grammar: MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]; numeric identifiers are
** "0" or start with 1-9 (no leading zeros) and may be arbitrarily long, so
** they are compared as digit strings (longer is larger), never parsed into
** an integer that could overflow.  Pre-release and build identifiers are
** non-empty runs of [0-9A-Za-z-]; numeric pre-release identifiers have no
** leading zeros.  Precedence ignores build metadata.
*/
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "features/dl_feat_internal.h"
#include "util/dl_internal.h"

static bool is_ident_char(char c) {
    return isalnum((unsigned char)c) || c == '-';
}

static bool all_digits(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i])) return false;
    return n > 0;
}

/* One numeric core part at *p: "0" or [1-9][0-9]*. */
static int parse_core_number(const char *text, const char **p, const char *what, dl_error *err) {
    const char *s = *p;
    size_t n = 0;
    while (isdigit((unsigned char)s[n])) n++;
    if (n == 0)
        return dl_error_set(err, DL_EINVAL,
                            "version \"%s\" is not SemVer 2.0: %s at byte %d must be a number "
                            "(expected MAJOR.MINOR.PATCH such as 1.2.0)",
                            text, what, (int)(s - text));
    if (n > 1 && s[0] == '0')
        return dl_error_set(err, DL_EINVAL,
                            "version \"%s\" is not SemVer 2.0: %s \"%.*s\" has a leading zero",
                            text, what, (int)n, s);
    *p = s + n;
    return DL_OK;
}

/* Dot-separated identifiers up to '+' or the end; `numeric_rule` refuses
** numeric identifiers with leading zeros (pre-release only). */
static int parse_identifiers(const char *text, const char **p, const char *what, bool numeric_rule,
                             dl_error *err) {
    const char *s = *p;
    for (;;) {
        size_t n = 0;
        while (is_ident_char(s[n])) n++;
        if (n == 0)
            return dl_error_set(err, DL_EINVAL,
                                "version \"%s\" is not SemVer 2.0: empty or invalid %s identifier "
                                "at byte %d (allowed: letters, digits, '-', separated by '.')",
                                text, what, (int)(s - text));
        if (numeric_rule && n > 1 && s[0] == '0' && all_digits(s, n))
            return dl_error_set(err, DL_EINVAL,
                                "version \"%s\" is not SemVer 2.0: numeric %s identifier "
                                "\"%.*s\" has a leading zero",
                                text, what, (int)n, s);
        s += n;
        if (*s != '.') break;
        s++;
    }
    *p = s;
    return DL_OK;
}

int dl_semver_validate(const char *text, dl_error *err) {
    int rc = DL_OK;
    if (!text || !*text) return dl_error_set(err, DL_EINVAL, "version is empty");
    size_t len = strlen(text);
    if (len > DL_FEATURE_VERSION_MAX)
        return dl_error_set(err, DL_EINVAL,
                            "version \"%.40s...\" is %zu bytes long; the limit is %d", text, len,
                            DL_FEATURE_VERSION_MAX);
    const char *p = text;
    if (*p == 'v' || *p == 'V')
        return dl_error_set(err, DL_EINVAL,
                            "version \"%s\" is not SemVer 2.0: write it without the leading '%c' "
                            "(%s)",
                            text, *p, text + 1);
    static const char *const parts[] = {"MAJOR", "MINOR", "PATCH"};
    for (int i = 0; i < 3; i++) {
        DL_TRY(parse_core_number(text, &p, parts[i], err));
        if (i < 2) {
            if (*p != '.')
                DL_FAIL(err, DL_EINVAL,
                        "version \"%s\" is not SemVer 2.0: expected '.' after %s at byte %d "
                        "(MAJOR.MINOR.PATCH such as 1.2.0)",
                        text, parts[i], (int)(p - text));
            p++;
        }
    }
    if (*p == '-') {
        p++;
        DL_TRY(parse_identifiers(text, &p, "pre-release", true, err));
    }
    if (*p == '+') {
        p++;
        DL_TRY(parse_identifiers(text, &p, "build", false, err));
    }
    if (*p)
        DL_FAIL(err, DL_EINVAL, "version \"%s\" is not SemVer 2.0: unexpected '%c' at byte %d",
                text, *p, (int)(p - text));
cleanup:
    return rc;
}

bool dl_semver_is_prerelease(const char *v) {
    size_t core = strcspn(v, "-+");
    return v[core] == '-';
}

/* Compares two runs of digits without leading zeros as numbers. */
static int cmp_numeric(const char *a, size_t an, const char *b, size_t bn) {
    if (an != bn) return an < bn ? -1 : 1;
    int c = memcmp(a, b, an);
    return (c > 0) - (c < 0);
}

/* Length of the identifier at s (up to '.', '-' in the core, '+' or end). */
static size_t ident_len(const char *s, const char *stops) {
    return strcspn(s, stops);
}

static int cmp_prerelease(const char *a, const char *b) {
    for (;;) {
        size_t an = ident_len(a, ".+"), bn = ident_len(b, ".+");
        bool anum = all_digits(a, an), bnum = all_digits(b, bn);
        int c;
        if (anum && bnum)
            c = cmp_numeric(a, an, b, bn);
        else if (anum != bnum)
            c = anum ? -1 : 1; /* numeric identifiers have lower precedence */
        else
            c = dl_bytes_cmp(a, an, b, bn);
        if (c) return c;
        a += an;
        b += bn;
        bool amore = *a == '.', bmore = *b == '.';
        if (!amore || !bmore) return (amore > bmore) - (amore < bmore); /* longer set is larger */
        a++;
        b++;
    }
}

int dl_semver_compare(const char *a, const char *b) {
    DL_REQUIRE_OR_RETURN(a && b, 0);
    for (int i = 0; i < 3; i++) {
        size_t an = ident_len(a, ".-+"), bn = ident_len(b, ".-+");
        int c = cmp_numeric(a, an, b, bn);
        if (c) return c;
        a += an + (i < 2 && a[an] == '.');
        b += bn + (i < 2 && b[bn] == '.');
    }
    bool apre = *a == '-', bpre = *b == '-';
    if (!apre || !bpre) return (apre < bpre) - (apre > bpre); /* a release outranks a pre-release */
    return cmp_prerelease(a + 1, b + 1);
}
