"""Writes a parquet file of about SIZE_MB megabytes shaped like a study
table for the .rds benchmark: id int64, value float64, code int32, visit
date32, taken timestamp[us, UTC], arm dictionary (factor), site string (few
values), in 1M-row groups, numeric pages uncompressed.

    python bench/mkrdsinput.py OUT SIZE_MB SEED
"""
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

out, size_mb, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
row_bytes = 8 + 8 + 4 + 4 + 8 + 1 + 1
rows = size_mb * 1_000_000 // row_bytes
chunk = 1_000_000
rng = np.random.default_rng(seed)
arms = pa.array(["placebo", "low-dose", "high-dose"])
sites = np.array([f"site-{i:03d}" for i in range(200)], dtype=object)
schema = pa.schema([
    ("id", pa.int64()), ("value", pa.float64()), ("code", pa.int32()),
    ("visit", pa.date32()), ("taken", pa.timestamp("us", tz="UTC")),
    ("arm", pa.dictionary(pa.int32(), pa.string())), ("site", pa.string()),
])
with pq.ParquetWriter(out, schema, compression="none", use_dictionary=["arm", "site"]) as w:
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        w.write_table(pa.table({
            "id": np.arange(start, start + n, dtype=np.int64),
            "value": rng.random(n),
            "code": rng.integers(0, 2**31 - 1, n, dtype=np.int32),
            "visit": pa.array(rng.integers(18000, 21000, n, dtype=np.int32), pa.date32()),
            "taken": pa.array(rng.integers(1_500_000_000_000_000, 1_800_000_000_000_000, n), pa.timestamp("us", tz="UTC")),
            "arm": pa.DictionaryArray.from_arrays(pa.array(rng.integers(0, 3, n, dtype=np.int32)), arms),
            "site": pa.array(sites[rng.integers(0, len(sites), n)], pa.string()),
        }, schema=schema))
