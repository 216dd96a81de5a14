"""Reads a datomfs table's Iceberg metadata with real engines (e2e/iceberg_engines_test.go).

  iceberg_engines.py variant IN OUT          OUT = IN plus an int32 column "flag" (a schema change)
  iceberg_engines.py pyiceberg METADATA OUT  every snapshot scanned to OUT/<tag>.parquet; JSON on stdout
  iceberg_engines.py duckdb METADATA SNAPSHOT_IDS_JSON
                                             count(*) of iceberg_scan at each snapshot, of the
                                             table folder (version-hint.text) and its snapshots; JSON
  iceberg_engines.py rest URI TABLE           the table through a REST catalog (pyiceberg): snapshots
                                             and their row counts; JSON
  iceberg_engines.py spark WAREHOUSE TABLE JARS WORK SNAPSHOTS_JSON REST_URI
                                             per catalog (Hadoop on a local store, REST) and
                                             snapshot: count(*) VERSION AS OF <id>, columns
                                             VERSION AS OF '<tag>'; JSON on stdout
"""
import json
import os
import sys


def s3_props():
    """pyiceberg's S3 settings from the environment the test gives (Versity)."""
    if "AWS_ENDPOINT_URL" not in os.environ:
        return {}
    return {
        "s3.endpoint": os.environ["AWS_ENDPOINT_URL"],
        "s3.access-key-id": os.environ["AWS_ACCESS_KEY_ID"],
        "s3.secret-access-key": os.environ["AWS_SECRET_ACCESS_KEY"],
        "s3.region": os.environ.get("AWS_REGION", "us-east-1"),
    }


def variant(src, dst):
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = pq.read_table(src)
    t = t.append_column("flag", pa.array([i % 3 for i in range(t.num_rows)], pa.int32()))
    pq.write_table(t, dst)


def pyiceberg(meta, out):
    import pyarrow.parquet as pq
    from pyiceberg.table import StaticTable

    t = StaticTable.from_metadata(meta, properties=s3_props())
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


def duckdb_scan(meta, snapshot_ids):
    import glob
    import duckdb

    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    # The extensions come from PyPI (duckdb-extension-*), not DuckDB's site.
    for ext in ("avro", "iceberg", "httpfs"):
        mod = __import__("duckdb_extension_" + ext)
        path = glob.glob(os.path.join(os.path.dirname(mod.__file__), "extensions", "*", ext + ".duckdb_extension"))[0]
        con.execute(f"LOAD '{path}'")
    if meta.startswith("s3://"):
        endpoint = os.environ["AWS_ENDPOINT_URL"].split("://", 1)[1]
        con.execute(f"""CREATE SECRET (TYPE s3, KEY_ID '{os.environ["AWS_ACCESS_KEY_ID"]}',
            SECRET '{os.environ["AWS_SECRET_ACCESS_KEY"]}', ENDPOINT '{endpoint}',
            REGION '{os.environ.get("AWS_REGION", "us-east-1")}', URL_STYLE 'path', USE_SSL false)""")
    q = lambda sql: con.execute(sql).fetchall()
    folder = meta.rsplit("/metadata/", 1)[0]
    out = {
        "current_rows": q(f"SELECT count(*) FROM iceberg_scan('{meta}')")[0][0],
        "folder_rows": q(f"SELECT count(*) FROM iceberg_scan('{folder}')")[0][0],
        "snapshots": [r[0] for r in q(f"SELECT snapshot_id FROM iceberg_snapshots('{meta}') ORDER BY sequence_number")],
        "rows": [q(f"SELECT count(*) FROM iceberg_scan('{meta}', snapshot_from_id => {i})")[0][0] for i in json.loads(snapshot_ids)],
    }
    print(json.dumps(out))


def rest(uri, table):
    from pyiceberg.catalog import load_catalog

    cat = load_catalog("datom", type="rest", uri=uri, **s3_props())
    t = cat.load_table("iceberg." + table)
    print(json.dumps({
        "tables": [".".join(i) for i in cat.list_tables("iceberg")],
        "current": t.current_snapshot().snapshot_id,
        "snapshots": [s.snapshot_id for s in t.snapshots()],
        "rows": [t.scan(snapshot_id=s.snapshot_id).to_arrow().num_rows for s in t.snapshots()],
    }))


def spark(warehouse, table, jars, work, snapshots, rest_uri):
    """A local store: catalog "datom" (Hadoop, the store as warehouse) and
    catalog "rest" (datomfs serve iceberg-rest). S3: catalog "rest" alone,
    reading the files through Iceberg's S3FileIO (the AWS bundle)."""
    from pyspark.sql import SparkSession

    s3 = warehouse.startswith("s3://")
    b = (SparkSession.builder.master("local[1]")
         .config("spark.jars", jars)
         .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
         .config("spark.sql.catalog.rest", "org.apache.iceberg.spark.SparkCatalog")
         .config("spark.sql.catalog.rest.type", "rest")
         .config("spark.sql.catalog.rest.uri", rest_uri)
         .config("spark.sql.warehouse.dir", os.path.join(work, "spark-warehouse"))
         .config("spark.local.dir", os.path.join(work, "spark-local"))
         .config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "1"))
    if s3:
        for k, v in {
            "io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
            "s3.endpoint": os.environ["AWS_ENDPOINT_URL"],
            "s3.path-style-access": "true",
            "s3.access-key-id": os.environ["AWS_ACCESS_KEY_ID"],
            "s3.secret-access-key": os.environ["AWS_SECRET_ACCESS_KEY"],
            "client.region": os.environ.get("AWS_REGION", "us-east-1"),
        }.items():
            b = b.config("spark.sql.catalog.rest." + k, v)
    else:
        b = (b.config("spark.sql.catalog.datom", "org.apache.iceberg.spark.SparkCatalog")
             .config("spark.sql.catalog.datom.type", "hadoop")
             .config("spark.sql.catalog.datom.warehouse", warehouse))
    spark = b.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    count = lambda sql: spark.sql(sql).collect()[0][0]
    names = {"rest": "rest.iceberg." + table}
    if not s3:
        names["datom"] = "datom.iceberg." + table
    out = {}
    for cat, name in names.items():
        res = {"current_rows": count(f"SELECT count(*) FROM {name}"), "snapshots": []}
        for s in json.loads(snapshots):
            res["snapshots"].append({
                "snapshot_id": s["snapshot_id"],
                "rows": count(f"SELECT count(*) FROM {name} VERSION AS OF {s['snapshot_id']}"),
                "columns": spark.sql(f"SELECT * FROM {name} VERSION AS OF '{s['tag']}'").columns,
            })
        res["listed"] = [r.snapshot_id for r in spark.sql(f"SELECT snapshot_id FROM {name}.snapshots ORDER BY committed_at").collect()]
        out[cat] = res
    spark.stop()
    print(json.dumps(out))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "variant":
        variant(*sys.argv[2:4])
    elif mode == "pyiceberg":
        pyiceberg(*sys.argv[2:4])
    elif mode == "duckdb":
        duckdb_scan(*sys.argv[2:4])
    elif mode == "rest":
        rest(*sys.argv[2:4])
    elif mode == "spark":
        spark(*sys.argv[2:8])
    else:
        sys.exit("unknown mode " + mode)
