"""Reads a datomfs table's Iceberg metadata with real engines (e2e/iceberg_engines_test.go).

  iceberg_engines.py variant IN OUT          OUT = IN plus an int32 column "flag" (a schema change)
  iceberg_engines.py pyiceberg METADATA OUT  every snapshot scanned to OUT/<tag>.parquet; JSON on stdout
  iceberg_engines.py spark WAREHOUSE TABLE JAR WORK SNAPSHOTS_JSON
                                             per snapshot: count(*) VERSION AS OF <id>, columns
                                             VERSION AS OF '<tag>'; JSON on stdout
"""
import json
import os
import sys


def variant(src, dst):
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = pq.read_table(src)
    t = t.append_column("flag", pa.array([i % 3 for i in range(t.num_rows)], pa.int32()))
    pq.write_table(t, dst)


def pyiceberg(meta, out):
    import pyarrow.parquet as pq
    from pyiceberg.table import StaticTable

    props = {}
    if meta.startswith("s3://"):
        props = {
            "s3.endpoint": os.environ["AWS_ENDPOINT_URL"],
            "s3.access-key-id": os.environ["AWS_ACCESS_KEY_ID"],
            "s3.secret-access-key": os.environ["AWS_SECRET_ACCESS_KEY"],
            "s3.region": os.environ.get("AWS_REGION", "us-east-1"),
        }
    t = StaticTable.from_metadata(meta, properties=props)
    res = {"current": t.current_snapshot().snapshot_id, "current_rows": t.scan().to_arrow().num_rows, "snapshots": []}
    for s in t.snapshots():
        tbl = t.scan(snapshot_id=s.snapshot_id).to_arrow()
        tag = s.summary["datom.version"]
        by_tag = t.scan(snapshot_id=t.snapshot_by_name(tag).snapshot_id).to_arrow()
        path = os.path.join(out, tag + ".parquet")
        pq.write_table(tbl, path)
        res["snapshots"].append({
            "snapshot_id": s.snapshot_id,
            "parent_id": s.parent_snapshot_id,
            "schema_id": s.schema_id,
            "operation": s.summary.operation.value,
            "tag": tag,
            "version_id": s.summary["datom.version-id"],
            "data_sha": s.summary["datom.data-sha"],
            "author": s.summary["datom.author"],
            "message": s.summary["datom.message"],
            "rows": tbl.num_rows,
            "columns": tbl.column_names,
            "tag_scan_equal": by_tag.equals(tbl),
            "path": path,
        })
    res["history"] = [h.snapshot_id for h in t.history()]
    print(json.dumps(res))


def spark(warehouse, table, jar, work, snapshots):
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[1]")
             .config("spark.jars", jar)
             .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
             .config("spark.sql.catalog.datom", "org.apache.iceberg.spark.SparkCatalog")
             .config("spark.sql.catalog.datom.type", "hadoop")
             .config("spark.sql.catalog.datom.warehouse", warehouse)
             .config("spark.sql.warehouse.dir", os.path.join(work, "spark-warehouse"))
             .config("spark.local.dir", os.path.join(work, "spark-local"))
             .config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", "1")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    name = "datom.iceberg." + table
    out = {"current_rows": spark.sql(f"SELECT count(*) FROM {name}").collect()[0][0], "snapshots": []}
    for s in json.loads(snapshots):
        n = spark.sql(f"SELECT count(*) FROM {name} VERSION AS OF {s['snapshot_id']}").collect()[0][0]
        cols = spark.sql(f"SELECT * FROM {name} VERSION AS OF '{s['tag']}'").columns
        out["snapshots"].append({"snapshot_id": s["snapshot_id"], "rows": n, "columns": cols})
    out["listed"] = [r.snapshot_id for r in spark.sql(f"SELECT snapshot_id FROM {name}.snapshots ORDER BY committed_at").collect()]
    spark.stop()
    print(json.dumps(out))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "variant":
        variant(*sys.argv[2:4])
    elif mode == "pyiceberg":
        pyiceberg(*sys.argv[2:4])
    elif mode == "spark":
        spark(*sys.argv[2:7])
    else:
        sys.exit("unknown mode " + mode)
