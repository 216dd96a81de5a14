"""Writes a parquet file of about SIZE_MB megabytes of incompressible data
(uncompressed pages): id int64, value float64, code int32, in 1M-row groups.
SEED picks the random values, so different seeds give different data_sha.

    python bench/mkparquet.py OUT SIZE_MB SEED
"""
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

out, size_mb, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
row_bytes = 8 + 8 + 4
rows = size_mb * 1_000_000 // row_bytes
chunk = 1_000_000
rng = np.random.default_rng(seed)
schema = pa.schema([("id", pa.int64()), ("value", pa.float64()), ("code", pa.int32())])
with pq.ParquetWriter(out, schema, compression="none", use_dictionary=False) as w:
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        w.write_table(pa.table({
            "id": np.arange(start, start + n, dtype=np.int64),
            "value": rng.random(n),
            "code": rng.integers(0, 2**31 - 1, n, dtype=np.int32),
        }, schema=schema))
