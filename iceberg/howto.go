package iceberg

import (
	"fmt"
	"strings"

	"github.com/datomfs/datomfs/versions/store"
)

// SparkRuntime is the Iceberg Spark runtime the engine tests read with.
const SparkRuntime = "org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:" + icebergVersion

const icebergVersion = "1.10.1"

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
		"spark": sparkHowto(t, tag, warehouse, s3),
		"trino": fmt.Sprintf(`# etc/catalog/datom.properties, with "datomfs serve iceberg-rest" running:
connector.name=iceberg
iceberg.catalog.type=rest
iceberg.rest-catalog.uri=http://127.0.0.1:8181
%s
-- then:
SELECT count(*) FROM datom.%s.%s FOR VERSION AS OF <snapshot id>;
-- (or, in a catalog of yours, register_table(..., table_location => '%s',
--  metadata_file_name => '%s'); again after new versions)`, trinoFS(s3), Namespace, t, info.TableLocation, lastSegment(m)),
	}
}

func sparkHowto(t, tag, warehouse string, s3 bool) string {
	if s3 {
		// A Hadoop catalog on S3 needs hadoop-aws; the REST catalog and
		// Iceberg's S3FileIO need only the AWS bundle.
		return fmt.Sprintf(`datomfs serve iceberg-rest &    # this project's tables as a REST catalog on 127.0.0.1:8181
spark-sql --packages %s,org.apache.iceberg:iceberg-aws-bundle:%s \
  --conf spark.sql.catalog.datom=org.apache.iceberg.spark.SparkCatalog \
  --conf spark.sql.catalog.datom.type=rest \
  --conf spark.sql.catalog.datom.uri=http://127.0.0.1:8181 \
  --conf spark.sql.catalog.datom.io-impl=org.apache.iceberg.aws.s3.S3FileIO   # plus s3.endpoint, s3.path-style-access for S3-compatible servers
SELECT count(*) FROM datom.%s.%s VERSION AS OF '%s';   -- or a snapshot id`, SparkRuntime, icebergVersion, Namespace, t, tag)
	}
	return fmt.Sprintf(`spark-sql --packages %s \
  --conf spark.sql.catalog.datom=org.apache.iceberg.spark.SparkCatalog \
  --conf spark.sql.catalog.datom.type=hadoop \
  --conf spark.sql.catalog.datom.warehouse=%s
SELECT count(*) FROM datom.%s.%s VERSION AS OF '%s';   -- or a snapshot id`, SparkRuntime, warehouse, Namespace, t, tag)
}

func trinoFS(s3 bool) string {
	if s3 {
		return "fs.native-s3.enabled=true\n# plus s3.region, and s3.endpoint, s3.path-style-access for S3-compatible servers"
	}
	return "# plus a file system for the file:// locations (the store folder, mounted on every worker)"
}

func lastSegment(u string) string {
	if i := strings.LastIndexByte(u, '/'); i >= 0 {
		return u[i+1:]
	}
	return u
}
