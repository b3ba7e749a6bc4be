"""The ctypes mirrors of public structs match the C compiler's layout."""
import ctypes
import os
import subprocess

import pytest

from conftest import ROOT
from datalake import _native

STRUCTS = {
    "dl_error": (_native.DlError, ["code", "message"]),
    "dl_dataset_id": (_native.DlDatasetId, ["exchange", "market", "symbol", "type", "period"]),
    "dl_dataset_info": (_native.DlDatasetInfo, [f[0] for f in _native.DlDatasetInfo._fields_]),
    "dl_lake_version": (_native.DlLakeVersion, [f[0] for f in _native.DlLakeVersion._fields_]),
    "dl_lake_gap": (_native.DlLakeGap, [f[0] for f in _native.DlLakeGap._fields_]),
    "dl_text": (_native.DlText, [f[0] for f in _native.DlText._fields_]),
    "dl_query_spec": (_native.DlQuerySpec, [f[0] for f in _native.DlQuerySpec._fields_]),
    "dl_table": (_native.DlTable, ["schema", "columns", "num_rows"]),
    "dl_write_options": (_native.DlWriteOptions, [f[0] for f in _native.DlWriteOptions._fields_]),
    "dl_lake_write_result": (_native.DlLakeWriteResult, [f[0] for f in _native.DlLakeWriteResult._fields_]),
    "dl_ingest_result": (_native.DlIngestResult, [f[0] for f in _native.DlIngestResult._fields_]),
    "dl_verify_report": (_native.DlVerifyReport, [f[0] for f in _native.DlVerifyReport._fields_]),
    "dl_feature_version": (_native.DlFeatureVersion, [f[0] for f in _native.DlFeatureVersion._fields_]),
    "dl_features_get_options": (_native.DlFeaturesGetOptions, ["ttl_us", "as_of_system_time"]),
    "struct ArrowSchema": (_native.ArrowSchema, [f[0] for f in _native.ArrowSchema._fields_]),
    "struct ArrowArray": (_native.ArrowArray, [f[0] for f in _native.ArrowArray._fields_]),
    "struct ArrowArrayStream": (_native.ArrowArrayStream, [f[0] for f in _native.ArrowArrayStream._fields_]),
}


@pytest.fixture(scope="module")
def c_layout(tmp_path_factory):
    cc = os.environ.get("CC", "cc")
    src = tmp_path_factory.mktemp("abi") / "layout.c"
    lines = ['#include <stddef.h>', '#include <stdio.h>', '#include "datalake.h"', "int main(void) {"]
    for name, (_, fields) in STRUCTS_ALL.items():
        t = name if name.startswith("struct") else name
        lines.append('printf("%%s size %%zu\\n", "%s", sizeof(%s));' % (name, t))
        for f in fields:
            lines.append('printf("%%s.%%s %%zu\\n", "%s", "%s", offsetof(%s, %s));' % (name, f, t, f))
    lines.append("return 0; }")
    src.write_text("\n".join(lines))
    exe = str(src)[:-2]
    subprocess.run([cc, "-std=c11", "-I" + os.path.join(ROOT, "include"), str(src), "-o", exe], check=True)
    out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
    return dict(line.rsplit(" ", 1) for line in out.splitlines())


# structs only partly mirrored: their leading fields sit where the header puts
# them, and the whole struct fits the buffer Python hands the library
PARTIAL = {
    "dl_ingest_options": (_native.DlIngestOptionsHead, ["format", "exchange", "market", "dataset", "ts_column", "ts_format"]),
    "dl_lake_write_options": (_native.DlLakeWriteOptionsHead, ["parquet", "message", "command"]),
}
STRUCTS_ALL = dict(STRUCTS, **PARTIAL)


@pytest.mark.parametrize("name", sorted(PARTIAL))
def test_partial_mirror_prefix(c_layout, name):
    cls, fields = PARTIAL[name]
    assert int(c_layout[name + " size"]) <= _native.OPTIONS_BUFFER
    for f in fields:
        assert int(c_layout["%s.%s" % (name, f)]) == getattr(cls, f).offset, "%s.%s moved" % (name, f)


@pytest.mark.parametrize("name", sorted(STRUCTS))
def test_struct_layout_matches_header(c_layout, name):
    cls, fields = STRUCTS[name]
    c_fields = {k.split(".", 1)[1] for k in c_layout if k.startswith(name + ".")}
    assert c_fields == set(fields), "mirror of %s lists other fields than the test" % name
    assert int(c_layout[name + " size"]) == ctypes.sizeof(cls), "sizeof(%s) differs: update python/datalake/_native.py" % name
    for f in fields:
        assert int(c_layout["%s.%s" % (name, f)]) == getattr(cls, f).offset, "%s.%s moved" % (name, f)
