package versions

// The write path's checkpoints, in order. A test build (tag "faults") can
// kill the process at any of them (DATOMFS_CRASH_AT=<point>); unit tests
// make one fail through Project.testHook. "upload-partial" is reached in
// the middle of the parquet upload. A sync's batch has one more,
// "upload-sync": its uploads written, not yet durable nor in place.
var writeCheckpoints = []string{"stage", "hash", "fetch", "upload", "upload-partial", "commit", "push", "mirror"}

// checkpoint marks a point of the write path: a crash there in fault
// builds, an injected failure in unit tests.
func (p *Project) checkpoint(point string) error {
	crashPoint(point)
	if p.testHook != nil {
		return p.testHook(point)
	}
	return nil
}
