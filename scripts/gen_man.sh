#!/usr/bin/env bash
# gen_man.sh -- writes the dl(1) man page (roff) to stdout from the CLI's own
# --help texts, so the installed manual never drifts from the binary.
# Usage: scripts/gen_man.sh path/to/dl > dl.1
set -euo pipefail
dl=${1:?usage: gen_man.sh DL}

# roff-escape: backslashes, and lines starting with . or ' (requests)
esc() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }
# A --help text as a preformatted block.
block() { printf '.nf\n'; esc; printf '.fi\n'; }

top=$("$dl" --help)
version=$("$dl" --version | awk '{print $NF}')
commands=$(printf '%s\n' "$top" | awk '/^commands:/ {f = 1; next} /^$/ {f = 0} f {print $1}')

printf '.TH DL 1 "" "dl-datalake %s" "User Commands"\n' "$version"
printf '.SH NAME\ndl \\- a market-data lake on Parquet files\n'
printf '.SH SYNOPSIS\n.B dl\n.I COMMAND\n[\\fIARGS\\fR]\n'
printf '.SH DESCRIPTION\n'
printf '%s\n' "$top" | block
printf '.SH COMMANDS\n'
for c in $commands; do
  printf '.SS %s\n' "$c"
  "$dl" "$c" --help 2>&1 | block
done
printf '.SH ENVIRONMENT\n.TP\n.B DL_ROOT\nThe lake root when --root is not given (default ./lake).\n'
printf '.SH SEE ALSO\nThe C library: datalake.h, pkg-config datalake; docs/abi.md of the source tree.\n'
