"""Writes the same random tables with pyarrow, pandas, polars and DuckDB, and
computes each file's datom-cv1 data_sha independently of datomfs.

    python writers.py OUT_DIR SEED

Each table is a random choice of column types and null patterns (fixed
seed). Every writer writes it its own way (pyarrow: every codec, dictionary
on/off, page v1/v2, small and large row groups, with and without
ARROW:schema; pandas: index on/off; polars; DuckDB). For each file the
oracle reads it back with pyarrow, which is Arrow C++, the reader R uses, and
applies the format contract's table 5.1 and cv1 (section 4.1) in Python.

OUT_DIR/manifest.json lists the files; for each, the oracle's data_sha and
column digests (or the columns it refuses), and which columns the contract
says R reads exactly as the table's reference pyarrow file (same: true),
with the reason where it does not.
"""
import hashlib
import itertools
import json
import math
import random
import struct
import sys
from decimal import Decimal

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

NA_BITS = 0x7FF00000000007A2
NAN_BITS = 0x7FF8000000000000
INT64_MIN = -(2**63)


class Refused(Exception):
    pass


# ---------------------------------------------------------------- oracle

def enc_bits(b):
    """cv1 numeric encoding of a float64 bit pattern (contract 4.1)."""
    if (b >> 52) & 0x7FF == 0x7FF and b & ((1 << 52) - 1):
        return b if b & 0xFFFFFFFF == 1954 else NAN_BITS
    if b == 1 << 63:
        return 0
    return b


def f2b(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def num_payload(vals):
    """vals: list of float bit patterns or None (NA)."""
    return b"".join(struct.pack("<Q", NA_BITS if v is None else enc_bits(v)) for v in vals)


def r_column(col, typ):
    """(kind, units, payload) of one column as R reads it (contract 5.1)."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    nulls = arr.is_null().to_pylist()
    t = typ
    if pa.types.is_boolean(t):
        return "num", None, num_payload([None if n else f2b(1.0 if v else 0.0) for v, n in zip(arr.to_pylist(), nulls)])
    if pa.types.is_int8(t) or pa.types.is_int16(t) or pa.types.is_uint8(t) or pa.types.is_uint16(t) \
            or pa.types.is_uint32(t) or pa.types.is_uint64(t):
        return "num", None, num_payload([None if n else f2b(float(v)) for v, n in zip(arr.to_pylist(), nulls)])
    if pa.types.is_int32(t):
        return "num", None, num_payload([None if n or v == -2**31 else f2b(float(v)) for v, n in zip(arr.to_pylist(), nulls)])
    if pa.types.is_int64(t):
        vals = arr.to_pylist()
        if all(v is None or -2**31 <= v <= 2**31 - 1 for v in vals):
            return "num", None, num_payload([None if v is None or v == -2**31 else f2b(float(v)) for v in vals])
        return "i64", None, b"".join(struct.pack("<q", INT64_MIN if v is None else v) for v in vals)
    if pa.types.is_float32(t):
        return "num", None, num_payload([None if n else f2b(float(v)) for v, n in zip(arr.to_pylist(), nulls)])
    if pa.types.is_float64(t):
        bits = arr.fill_null(0.0).to_numpy(zero_copy_only=False).view(np.uint64).tolist()
        return "num", None, num_payload([None if n else b for b, n in zip(bits, nulls)])
    if pa.types.is_decimal(t):
        out = []
        for v in arr.to_pylist():
            if v is None:
                out.append(None)
                continue
            x = float(v)
            if math.isinf(x):
                raise Refused("decimal beyond double range")
            out.append(f2b(x))
        return "num", None, num_payload(out)
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t):
        if pa.types.is_dictionary(t):
            if not (pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type)):
                raise Refused("dictionary of non-text")
            arr = arr.cast(t.value_type)
        vals = arr.to_pylist()
        mask = bytes(1 if v is None else 0 for v in vals)
        body = b"".join(b"\0" if v is None else v.encode() + b"\0" for v in vals)
        if any(v is not None and "\0" in v for v in vals):
            raise Refused("NUL in text")
        return "chr", None, mask + body
    if pa.types.is_date32(t):
        ints = arr.cast(pa.int32()).to_pylist()
        return "date", None, num_payload([None if v is None else f2b(float(v)) for v in ints])
    if pa.types.is_date64(t):
        ints = arr.cast(pa.int64()).to_pylist()
        # trunc_toward_zero(ms / 1000)
        return "time", None, num_payload([None if v is None else f2b(float(-(-v // 1000) if v < 0 else v // 1000)) for v in ints])
    unit_div = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}
    if pa.types.is_timestamp(t) or pa.types.is_time(t) or pa.types.is_duration(t):
        ints = arr.cast(pa.int64()).to_pylist()
        payload = num_payload([None if v is None else f2b(float(v) / unit_div[t.unit]) for v in ints])
        if pa.types.is_timestamp(t):
            return "time", None, payload
        return "drtn", "secs", payload
    raise Refused(str(t))


def oracle(path):
    tbl = pq.read_table(path)
    digests, refused = [], []
    for name, col in zip(tbl.column_names, tbl.columns):
        try:
            kind, units, payload = r_column(col, col.type)
        except Refused:
            refused.append(name)
            continue
        if units is not None:
            payload += b"\0" + units.encode()
        digests.append({"name": name, "kind": kind,
                        "sha": hashlib.sha256(kind.encode() + name.encode() + b"\0" + payload).hexdigest()})
    if refused:
        return {"refused": refused}
    h = hashlib.sha256(b"datom-cv1" + struct.pack("<d", float(tbl.num_rows)) + struct.pack("<d", float(len(digests))))
    for d in digests:
        h.update(d["sha"].encode())
    return {"data_sha": h.hexdigest(), "columns": digests}


# ---------------------------------------------------------------- tables

def maybe_null(rng, vals, p):
    return [None if rng.random() < p else v for v in vals]


def gen_column(rng, kind, n, p_null):
    if kind == "int":
        vals = [rng.choice([0, 1, -1, 2**31 - 1, -(2**31 - 1), rng.randint(-1000, 1000), rng.randint(-2**31 + 1, 2**31 - 1)]) for _ in range(n)]
        return pa.array(maybe_null(rng, vals, p_null), pa.int32())
    if kind == "big":
        vals = [rng.choice([2**31, -(2**31) - 1, 2**62, -(2**63) + 1, rng.randint(-2**63 + 1, 2**63 - 1), 7]) for _ in range(n)]
        vals[0] = 2**40  # at least one value beyond R's integer
        return pa.array(maybe_null(rng, vals, p_null), pa.int64())
    if kind == "dbl":
        specials = [0.0, -0.0, math.inf, -math.inf, 5e-324, 1.7976931348623157e308, 0.1, 1 / 3]
        vals = [rng.choice(specials) if rng.random() < 0.3 else rng.uniform(-1e6, 1e6) for _ in range(n)]
        if rng.random() < 0.5:
            vals[rng.randrange(n)] = math.nan
        return pa.array(maybe_null(rng, vals, p_null), pa.float64())
    if kind == "f32":
        vals = [rng.choice([0.0, -0.0, 1.5, math.inf, rng.uniform(-100, 100)]) for _ in range(n)]
        return pa.array(maybe_null(rng, vals, p_null), pa.float32())
    if kind == "lgl":
        return pa.array(maybe_null(rng, [rng.random() < 0.5 for _ in range(n)], p_null), pa.bool_())
    if kind == "chr":
        pool = ["", "a", "b c", "é", "日本", "x" * 40, "NA", "0", "tab\tnew\nline", "\U0001F600"]
        return pa.array(maybe_null(rng, [rng.choice(pool) + str(rng.randint(0, 9)) * rng.randint(0, 1) for _ in range(n)], p_null), pa.string())
    if kind == "fct":
        levels = ["lo", "mid", "hi", "ünï"]
        return pa.array(maybe_null(rng, [rng.choice(levels) for _ in range(n)], p_null), pa.string()).dictionary_encode()
    if kind == "date":
        return pa.array(maybe_null(rng, [rng.randint(-30000, 40000) for _ in range(n)], p_null), pa.int32()).cast(pa.date32())
    if kind == "ts":
        return pa.array(maybe_null(rng, [rng.randint(-2 * 10**15, 4 * 10**15) for _ in range(n)], p_null), pa.int64()).cast(pa.timestamp("us", "UTC"))
    if kind == "tsms":
        return pa.array(maybe_null(rng, [rng.randint(-2 * 10**12, 4 * 10**12) for _ in range(n)], p_null), pa.int64()).cast(pa.timestamp("ms", "America/New_York"))
    if kind == "tod":
        return pa.array(maybe_null(rng, [rng.randint(0, 86400 * 10**6 - 1) for _ in range(n)], p_null), pa.int64()).cast(pa.time64("us"))
    if kind == "dur":
        return pa.array(maybe_null(rng, [rng.randint(-10**12, 10**12) for _ in range(n)], p_null), pa.int64()).cast(pa.duration("us"))
    if kind == "dec":
        vals = [Decimal(rng.randint(-10**12, 10**12)).scaleb(-4) for _ in range(n)]
        return pa.array(maybe_null(rng, vals, p_null), pa.decimal128(18, 4))
    if kind == "dec38":
        vals = [Decimal(rng.randint(-(10**38 - 1), 10**38 - 1)).scaleb(-10) for _ in range(n)]
        return pa.array(maybe_null(rng, vals, p_null), pa.decimal128(38, 10))
    if kind == "dec256":
        prec = rng.choice([1, 3, 45, 76])
        vals = [Decimal(rng.randint(-(10**prec - 1), 10**prec - 1)) for _ in range(n)]
        return pa.array(maybe_null(rng, vals, p_null), pa.decimal256(prec, 0))
    if kind == "u32":
        return pa.array(maybe_null(rng, [rng.randint(0, 2**32 - 1) for _ in range(n)], p_null), pa.uint32())
    if kind == "u64":
        return pa.array(maybe_null(rng, [rng.randint(0, 2**64 - 1) for _ in range(n)], p_null), pa.uint64())
    raise ValueError(kind)


KINDS = ["int", "big", "dbl", "f32", "lgl", "chr", "fct", "date", "ts", "tsms", "tod", "dur", "dec", "dec38", "dec256", "u32", "u64"]


def gen_table(rng, n, kinds):
    kinds = kinds + rng.sample([k for k in KINDS if k not in kinds], rng.randint(1, 4))
    rng.shuffle(kinds)
    cols = {}
    for k in kinds:
        p_null = rng.choice([0.0, 0.0, 0.1, 0.5, 1.0])
        cols[k] = gen_column(rng, k, n, p_null)
    return pa.table(cols)


def has_nan(col):
    return any(isinstance(v, float) and math.isnan(v) for v in col.to_pylist())


# ---------------------------------------------------------------- writers

CODECS = ["none", "snappy", "gzip", "brotli", "zstd", "lz4"]


def pyarrow_configs(rng, full):
    allc = list(itertools.product(CODECS, [True, False], ["1.0", "2.0"], ["small", "large"], [True, False]))
    return allc if full else rng.sample(allc, 8)


def write_all(out, seed):
    rng = random.Random(seed)
    files = []
    sizes = [3, 1, 257, 5000, 50, 2, 1000, 9]
    # every kind in some table, the rest of each table random
    shuffled = rng.sample(KINDS, len(KINDS))
    for ti, n in enumerate(sizes):
        tbl = gen_table(rng, n, shuffled[ti::len(sizes)])
        tname = f"t{ti}"

        def add(fname, writer, options, same, reasons, write):
            path = f"{out}/{tname}_{fname}.parquet"
            write(path)
            entry = {"file": path, "table": tname, "writer": writer, "options": options,
                     "same": same, "reasons": reasons}
            entry.update(oracle(path))
            files.append(entry)

        all_same = {c: True for c in tbl.column_names}
        add("reference", "pyarrow", "defaults", all_same, {}, lambda p: pq.write_table(tbl, p))

        for codec, dic, page, rg, schema in pyarrow_configs(rng, ti == 2):
            same, reasons = dict(all_same), {}
            if not schema and "dur" in same:
                same["dur"] = False
                reasons["dur"] = "without ARROW:schema a duration is plain int64 (5.2): integer or integer64, not difftime"
            opts = f"codec={codec} dictionary={dic} page=v{page} row_groups={rg} arrow_schema={schema}"
            add(f"pa_{codec}_{int(dic)}_{page}_{rg}_{int(schema)}", "pyarrow", opts, same, reasons,
                lambda p, codec=codec, dic=dic, page=page, rg=rg, schema=schema: pq.write_table(
                    tbl, p, compression=codec, use_dictionary=dic, data_page_version=page,
                    row_group_size=(7 if rg == "small" else None), data_page_size=(512 if rg == "small" else None),
                    store_schema=schema))

        df = tbl.to_pandas()
        for index in (False, True):
            same, reasons = dict(all_same), {}
            for c in tbl.column_names:
                if c == "big" and tbl[c].null_count:
                    same[c], reasons[c] = False, "pandas holds int64 with nulls as float64: R reads double, not integer64"
                if c in ("dbl", "f32") and has_nan(tbl[c]):
                    same[c], reasons[c] = False, "pandas writes NaN as null: R reads NA"
            add(f"pandas_index{int(index)}", "pandas", f"index={index}", same, reasons,
                lambda p, index=index: df.to_parquet(p, engine="pyarrow", index=index))

        pl_cols = [c for c in tbl.column_names if c != "dec256"]
        if pl_cols:
            pdf = pl.from_arrow(tbl.select(pl_cols))
            add("polars", "polars", "defaults", {c: True for c in pl_cols}, {},
                lambda p: pdf.write_parquet(p))

        dk_cols = [c for c in tbl.column_names if c not in ("dur", "dec256")]
        if dk_cols:
            dk = tbl.select(dk_cols)
            con = duckdb.connect()
            con.execute("SET TimeZone = 'UTC'")
            con.register("dk", dk)
            add("duckdb", "duckdb", "defaults", {c: True for c in dk_cols}, {},
                lambda p: con.execute(f"COPY (SELECT * FROM dk) TO '{p}' (FORMAT parquet)"))

    # view types: pyarrow stores them, Arrow C++ restores them, R refuses
    views = pa.table({
        "ok": pa.array(["a", None, "b"]),
        "sv": pa.array(["a", None, "b"], pa.string_view()),
        "bv": pa.array([b"a", None, b"b"], pa.binary_view()),
        "lv": pa.array([[1], None, [2, 3]], pa.list_view(pa.int32())),
        "llv": pa.array([[1], None, [2, 3]], pa.large_list_view(pa.int32())),
    })
    path = f"{out}/views.parquet"
    pq.write_table(views, path)
    files.append({"file": path, "table": "views", "writer": "pyarrow", "options": "view types",
                  "same": {}, "reasons": {}, "refused": ["sv", "bv", "lv", "llv"]})
    return files


if __name__ == "__main__":
    out, seed = sys.argv[1], int(sys.argv[2])
    files = write_all(out, seed)
    with open(f"{out}/manifest.json", "w") as f:
        json.dump({"seed": seed, "files": files}, f, indent=1)
    print(len(files), "files")
