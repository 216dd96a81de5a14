"""Writes the parquet inputs of the .rds tests (e2e/rds_test.go):

    python make_tables.py GOLDEN_JSON OUTDIR SEED NROW

- golden_<id>.parquet: every data_sha vector of the format contract's
  golden.json, as the Arrow types R's arrow reads back as the vector's R
  type (double, integer, character, factor, Date, POSIXct UTC);
- random_<SEED>.parquet: NROW random rows of every type the .rds rendition
  supports, with nulls, edge values and several row groups (so factor
  dictionaries differ between row groups).
"""
import json
import sys
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

golden_path, out, seed, nrow = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])


def golden_column(c):
    vals = c["values"]
    rt = c["r_type"]
    if rt == "double":
        raw = b"".join(bytes.fromhex(v["input_bits_le"]) for v in vals)
        return pa.array(np.frombuffer(raw, dtype="<f8"), pa.float64())
    if rt == "integer":
        return pa.array([None if v["value"] == "NA_integer_" else int(v["value"].rstrip("L")) for v in vals], pa.int32())
    if rt == "character":
        return pa.array(vals, pa.string())
    if rt == "factor":
        codes = pa.array([None if k is None else k - 1 for k in c["codes_1based"]], pa.int32())
        return pa.DictionaryArray.from_arrays(codes, pa.array(c["levels"], pa.string()))
    if rt.startswith("Date"):
        return pa.array([None if v["stored_number"].startswith("NA") else int(v["stored_number"]) for v in vals], pa.date32())
    if rt.startswith("POSIXct") and "UTC" in rt:
        return pa.array([None if v["stored_number"].startswith("NA") else int(v["stored_number"]) for v in vals], pa.timestamp("s", tz="UTC"))
    raise SystemExit(f"golden column {c['name']}: R type {rt!r} has no Arrow equivalent here")


with open(golden_path) as f:
    golden = json.load(f)
for g in golden["data_sha"]:
    t = pa.table({c["name"]: golden_column(c) for c in g["columns"]})
    pq.write_table(t, f"{out}/golden_{g['id']}.parquet")

rng = np.random.default_rng(seed)
n = nrow


def nulls(arr, p=0.1):
    """Masks about p of the rows."""
    return rng.random(len(arr)) < p


def ints(lo, hi, dtype, edges=()):
    v = rng.integers(lo, hi, n, dtype=np.int64, endpoint=True)
    mask = nulls(v)
    for i, e in enumerate(edges):
        v[i % n] = e
        mask[i % n] = False  # the edges decide the R type: never null
    return pa.array(v.astype(dtype), mask=mask)


def words():
    alphabet = ["a", "b", "z", "é", "ß", "日本", "😀", " ", ",", '"', "\t", "\n", "NA", ""]
    out = []
    for _ in range(n):
        k = int(rng.integers(0, 6))
        out.append("".join(alphabet[int(i)] for i in rng.integers(0, len(alphabet), k)))
    return out


def floats():
    v = rng.standard_normal(n) * 10.0 ** rng.integers(-300, 300, n)
    specials = [0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, 1.7976931348623157e308]
    for i, s in enumerate(specials):
        v[(i * 7) % n] = s
    raw = v.tobytes()
    # R's NA (low word 1954) stored as a value, not a null.
    na_at = (3 * 11) % n
    raw = raw[: na_at * 8] + bytes.fromhex("a20700000000f07f") + raw[na_at * 8 + 8 :]
    return pa.array(np.frombuffer(raw, dtype="<f8"), pa.float64(), mask=nulls(v, 0.05))


def decimals(scale, digits):
    """n decimals of up to `digits` digits (built from 9-digit chunks)."""
    out = []
    for _ in range(n):
        s = "".join(str(int(rng.integers(0, 10**9))).zfill(9) for _ in range(digits // 9 + 1))[-digits:]
        sign = "-" if rng.random() < 0.5 else ""
        out.append(Decimal(sign + s).scaleb(-scale))
    return out


levels = ["lo", "mid", "hi", "é", "x y"]
fac_idx = rng.integers(0, len(levels), n)
secs = rng.integers(-2_000_000_000, 4_000_000_000, n)
cols = {
    "b": pa.array(rng.random(n) < 0.5, mask=nulls(np.zeros(n))),
    "i8": ints(-128, 127, np.int8, (-128, 127)),
    "i16": ints(-32768, 32767, np.int16, (-32768,)),
    "i32": ints(-(2**31), 2**31 - 1, np.int32, (-(2**31), 2**31 - 1)),
    "u8": ints(0, 255, np.uint8, (255,)),
    "u16": ints(0, 65535, np.uint16, (65535,)),
    "u32s": ints(0, 2**31 - 1, np.uint32, (2**31 - 1,)),
    "u32b": ints(0, 2**32 - 1, np.uint32, (2**32 - 1,)),
    "i64s": ints(-(2**31), 2**31 - 1, np.int64, (-(2**31),)),
    "i64b": ints(-(2**62), 2**62, np.int64, (2**53 + 1, -(2**63) + 1, 2**63 - 1)),
    "u64": pa.array(rng.integers(0, 2**64 - 1, n, dtype=np.uint64, endpoint=True), mask=nulls(np.zeros(n))),
    "f32": pa.array(rng.standard_normal(n).astype(np.float32), mask=nulls(np.zeros(n))),
    "f64": floats(),
    "dec": pa.array(decimals(3, 12), pa.decimal128(15, 3), mask=nulls(np.zeros(n))),
    "dec256": pa.array(decimals(5, 40), pa.decimal256(45, 5), mask=nulls(np.zeros(n))),
    "s": pa.array(words(), pa.string(), mask=nulls(np.zeros(n))),
    "ls": pa.array(words(), pa.large_string(), mask=nulls(np.zeros(n))),
    "fac": pa.DictionaryArray.from_arrays(pa.array(fac_idx, pa.int32(), mask=nulls(fac_idx)), pa.array(levels)),
    "ord": pa.DictionaryArray.from_arrays(pa.array(fac_idx[::-1].copy(), pa.int8()), pa.array(levels), ordered=True),
    "d32": pa.array(rng.integers(-50_000, 50_000, n).astype(np.int32), pa.date32(), mask=nulls(np.zeros(n))),
    "ts_s_utc": pa.array(secs, pa.timestamp("s", tz="UTC"), mask=nulls(secs)),
    "ts_ms_paris": pa.array(secs * 1000 + rng.integers(0, 1000, n), pa.timestamp("ms", tz="Europe/Paris"), mask=nulls(secs)),
    "ts_us_none": pa.array(secs * 1_000_000 + rng.integers(0, 1_000_000, n), pa.timestamp("us"), mask=nulls(secs)),
    "ts_ns_ny": pa.array(secs * 1_000_000_000 + rng.integers(0, 1_000_000_000, n), pa.timestamp("ns", tz="America/New_York"), mask=nulls(secs)),
    "t32_s": pa.array(rng.integers(0, 86400, n).astype(np.int32), pa.time32("s"), mask=nulls(secs)),
    "t32_ms": pa.array(rng.integers(0, 86_400_000, n).astype(np.int32), pa.time32("ms"), mask=nulls(secs)),
    "t64_us": pa.array(rng.integers(0, 86_400_000_000, n), pa.time64("us"), mask=nulls(secs)),
    "t64_ns": pa.array(rng.integers(0, 86_400_000_000_000, n), pa.time64("ns"), mask=nulls(secs)),
    "du_s": pa.array(rng.integers(-(10**9), 10**9, n), pa.duration("s"), mask=nulls(secs)),
    "du_ms": pa.array(rng.integers(-(10**12), 10**12, n), pa.duration("ms"), mask=nulls(secs)),
    "du_us": pa.array(rng.integers(-(10**15), 10**15, n), pa.duration("us"), mask=nulls(secs)),
    "du_ns": pa.array(rng.integers(-(10**18), 10**18, n), pa.duration("ns"), mask=nulls(secs)),
    "all_null_s": pa.array([None] * n, pa.string()),
}
pq.write_table(pa.table(cols), f"{out}/random_{seed}.parquet", row_group_size=max(1, n // 4))
