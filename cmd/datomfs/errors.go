package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/datomfs/datomfs/internal/rds"
	"github.com/datomfs/datomfs/query"
	"github.com/datomfs/datomfs/versions"
)

// Exit codes, set in Main only.
const (
	exitOK       = 0
	exitError    = 1
	exitUsage    = 2
	exitRejected = 3
)

// usageError marks a mistake in how the command was called (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{msg: fmt.Sprintf(format, a...)} }

// hintError carries a one-line hint printed after the reason.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

func withHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &hintError{err: err, hint: hint}
}

func hintOf(err error) string {
	var h *hintError
	if errors.As(err, &h) {
		return h.hint
	}
	return ""
}

// exitCode maps an error to the process exit code.
func exitCode(err error) int {
	if errors.Is(err, versions.ErrPushRejected) {
		return exitRejected
	}
	return exitError
}

// unreachableHint says what to check for the part that could not be
// reached: an S3 store, a store folder, or the git remote.
func unreachableHint(err error) string {
	switch {
	case errors.Is(err, versions.ErrStoreUnreachable) && strings.Contains(err.Error(), "s3://"):
		return "check the network, the bucket's name and AWS_ENDPOINT_URL (for an S3-compatible server)"
	case errors.Is(err, versions.ErrStoreUnreachable):
		return "check that the store folder exists and is mounted (the store is a local path)"
	}
	return `check the network and the git remote's URL ("git remote -v" in the clone)`
}

// defaultHint is the advice for errors that carry none of their own.
func defaultHint(err error) string {
	switch {
	case errors.Is(err, versions.ErrPushRejected):
		return `run "datomfs pull", then retry`
	case errors.Is(err, versions.ErrDiverged):
		return "the clone has local commits the remote lacks; push or reset them with git, then retry"
	case errors.Is(err, versions.ErrAmbiguous):
		return "use a longer version or commit prefix (see \"datomfs history TABLE\", \"datomfs tags\")"
	case errors.Is(err, versions.ErrNotFound):
		return `see "datomfs list" and "datomfs history TABLE" for what exists`
	case errors.Is(err, versions.ErrInvalidName):
		return "names start with a letter and use letters, digits, space, _ ( ) -"
	case errors.Is(err, query.ErrBadCSV):
		return "every row needs the header's number of fields, quote fields that contain the delimiter (\"a,b\"), and give every column a unique name"
	case errors.Is(err, rds.ErrUnsupported):
		return "read it as parquet (-o FILE.parquet) or CSV instead; .rds holds only columns R's arrow reads as plain vectors"
	case errors.Is(err, fs.ErrNotExist) && !errors.Is(err, versions.ErrUnreachable):
		return "" // "no such file" says it all
	case errors.Is(err, versions.ErrInvalidInput):
		return `check the file with "datomfs hash FILE"`
	case errors.Is(err, versions.ErrStoreCredentials):
		return "S3 needs credentials: set AWS_PROFILE (a profile in ~/.aws/config), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; AWS_ENDPOINT_URL names an S3-compatible server"
	case errors.Is(err, versions.ErrUnreachable):
		return unreachableHint(err)
	case errors.Is(err, versions.ErrAuth):
		return "set DATOMFS_GIT_TOKEN (or GITHUB_TOKEN) to a token with access to the remote"
	case errors.Is(err, versions.ErrReadOnly):
		return `writing needs a clone: "datomfs clone URL DIR"`
	case errors.Is(err, versions.ErrGovernance):
		return `the project may have moved: run "datomfs pull", check .datom/project.yaml against the governance ref.json`
	case errors.Is(err, versions.ErrIntegrity):
		return "the stored object is damaged; run \"datomfs validate\" from a clone"
	}
	return ""
}
