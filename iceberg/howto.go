package iceberg

import (
	"fmt"
	"strings"

	"github.com/datomfs/datomfs/versions/store"
)

// SparkRuntime is the Iceberg Spark runtime the engine tests read with.
const SparkRuntime = "org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:1.10.1"

// Namespace is the Iceberg namespace of the tables under a warehouse that
// is the store's prefix: {warehouse}/iceberg/{table} is the Hadoop
// catalog's layout for table iceberg.{table}.
const Namespace = "iceberg"

// Warehouse is the URL a Hadoop-style catalog takes as its warehouse: the
// store's root and prefix.
func Warehouse(loc store.Location) string {
	pl := place{loc: loc}
	k := strings.TrimSuffix(pl.key("x"), "/iceberg/x")
	if k == "iceberg/x" {
		k = ""
	}
	u := pl.url(k)
	return strings.TrimSuffix(u, "/")
}

// Howto says how each engine reads a table whose metadata is described by
// info, in a few lines of its own language.
func Howto(info TableInfo, warehouse string, s3 bool) map[string]string {
	m := info.MetadataLocation
	t := info.Table
	tag := info.CurrentVersion
	if tag == "" {
		tag = "<8-hex version>"
	}
	sparkWarehouse := warehouse
	sparkExtra := ""
	if s3 {
		sparkWarehouse = "s3a" + strings.TrimPrefix(warehouse, "s3")
		sparkExtra = fmt.Sprintf(` \
  --conf spark.sql.catalog.datom.io-impl=org.apache.iceberg.aws.s3.S3FileIO   # plus iceberg-aws-bundle and hadoop-aws on the class path`)
	}
	duckS3 := ""
	if s3 {
		duckS3 = "INSTALL httpfs; LOAD httpfs; CREATE SECRET (TYPE s3, PROVIDER credential_chain); "
	}
	return map[string]string{
		"pyiceberg": fmt.Sprintf(`from pyiceberg.table import StaticTable
t = StaticTable.from_metadata(%q)
t.scan().to_arrow()                                             # the current version
t.scan(snapshot_id=t.snapshot_by_name(%q).snapshot_id).to_pandas()  # a version by its tag`, m, tag),
		"duckdb": fmt.Sprintf(`INSTALL iceberg; LOAD iceberg; %sSELECT count(*) FROM iceberg_scan('%s');
-- a version: iceberg_scan('%s', snapshot_from_id => <snapshot id>)`, duckS3, m, m),
		"spark": fmt.Sprintf(`spark-sql --packages %s \
  --conf spark.sql.catalog.datom=org.apache.iceberg.spark.SparkCatalog \
  --conf spark.sql.catalog.datom.type=hadoop \
  --conf spark.sql.catalog.datom.warehouse=%s%s
SELECT count(*) FROM datom.%s.%s VERSION AS OF '%s';   -- or a snapshot id`, SparkRuntime, sparkWarehouse, sparkExtra, Namespace, t, tag),
		"trino": fmt.Sprintf(`-- Trino needs its own catalog (Hive metastore, Glue, JDBC or REST) with
-- iceberg.register-table-procedure.enabled=true; register the current metadata
-- (again after new versions: a registered table keeps the file it was given):
CALL iceberg.system.register_table(schema_name => 'datom', table_name => '%s',
  table_location => '%s', metadata_file_name => '%s');
SELECT count(*) FROM iceberg.datom.%s FOR VERSION AS OF <snapshot id>;`, t, info.TableLocation, lastSegment(m), t),
	}
}

func lastSegment(u string) string {
	if i := strings.LastIndexByte(u, '/'); i >= 0 {
		return u[i+1:]
	}
	return u
}
