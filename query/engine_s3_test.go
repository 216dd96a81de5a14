package query

import (
	"testing"

	"github.com/datomfs/datomfs/internal/testenv"
)

// TestEngineS3Store runs the whole engine suite on a project whose store is
// a real S3 server (Versity gateway on loopback).
func TestEngineS3Store(t *testing.T) {
	srv := testenv.Versity(t)
	srv.CreateBucket(t, "query-data")
	srv.SetEnv(t)
	runEngineSuite(t, "s3://query-data/study001")
}
