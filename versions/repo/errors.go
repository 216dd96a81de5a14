package repo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/datomfs/datomfs/internal/netdeadline"
	"github.com/datomfs/datomfs/internal/redact"
)

// Sentinel errors callers branch on with errors.Is.
var (
	// ErrPushRejected: the remote branch moved (another engineer pushed
	// first); pull, then retry.
	ErrPushRejected = errors.New("rejected (non-fast-forward)")
	// ErrDiverged: the local branch has commits the remote lacks and the
	// remote has commits we lack, so a fast-forward is impossible.
	ErrDiverged = errors.New("local and remote branches have diverged")
	// ErrAuth: the remote refused our credentials (HTTP 401/403).
	ErrAuth = errors.New("authentication failed")
	// ErrUnreachable: the remote cannot be reached (no such repository or
	// path, connection refused, DNS failure) or stopped answering ("not
	// responding": the idle timeout of InitOptions).
	ErrUnreachable = errors.New("remote unreachable")
	// ErrNotARepo: the directory is not a git work tree.
	ErrNotARepo = errors.New("not a git repository")
	// ErrExists: Init or Clone into a directory that already holds a
	// repository (Init) or is not empty (Clone).
	ErrExists = errors.New("already exists")
	// ErrEmptyRemote: Clone of a remote that has no commits yet.
	ErrEmptyRemote = errors.New("remote repository is empty (no commits yet)")
	// ErrLocalChanges: Pull would overwrite uncommitted changes.
	ErrLocalChanges = errors.New("local changes would be overwritten")
)

// mapRemoteErr turns a go-git transport error of operation op (fetch, push,
// clone, …) against remote into one of our sentinels where one fits. The
// returned message names the remote with credentials stripped and never
// contains a secret.
func mapRemoteErr(op, remote string, err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	loc := redact.URL(remote)
	secrets = append([]string{redact.Password(remote)}, secrets...)
	err = exposeCause(err)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s %s: %w", op, loc, redact.Error(err, secrets...))
	case errors.Is(err, netdeadline.ErrNotResponding):
		// Only the idle error: it names host:port and the timeout, nothing
		// secret, and go-git's wrapping would add a second copy of the URL.
		ie, _ := netdeadline.AsIdle(err)
		return fmt.Errorf("%s %s: %w: %w", op, loc, ErrUnreachable, ie)
	case errors.Is(err, transport.ErrAuthenticationRequired):
		// The server's body may echo anything; keep the message to one line.
		return fmt.Errorf("%s %s: %w (HTTP 401)", op, loc, ErrAuth)
	case errors.Is(err, transport.ErrAuthorizationFailed):
		return fmt.Errorf("%s %s: %w (HTTP 403)", op, loc, ErrAuth)
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return fmt.Errorf("%s %s: %w: repository not found", op, loc, ErrUnreachable)
	case errors.Is(err, transport.ErrEmptyRemoteRepository):
		return fmt.Errorf("%s %s: %w", op, loc, ErrEmptyRemote)
	case isNetErr(err):
		return fmt.Errorf("%s %s: %w: %w", op, loc, ErrUnreachable, redact.Error(err, secrets...))
	case isRejected(err):
		return fmt.Errorf("%s %s: %w", op, loc, ErrPushRejected)
	}
	return fmt.Errorf("%s %s: %w", op, loc, redact.Error(err, secrets...))
}

// exposeCause makes the cause inside go-git's wrappers that do not unwrap
// (plumbing.UnexpectedError, around a failed HTTP request, and
// plumbing.PermanentError) visible to errors.Is and errors.As; the message
// stays the same.
func exposeCause(err error) error {
	var ue *plumbing.UnexpectedError
	if errors.As(err, &ue) && ue.Err != nil {
		return &causeError{err: err, cause: exposeCause(ue.Err)}
	}
	var pe *plumbing.PermanentError
	if errors.As(err, &pe) && pe.Err != nil {
		return &causeError{err: err, cause: exposeCause(pe.Err)}
	}
	return err
}

type causeError struct{ err, cause error }

func (e *causeError) Error() string   { return e.err.Error() }
func (e *causeError) Unwrap() []error { return []error{e.err, e.cause} }

func isNetErr(err error) bool {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.As(err, &dnsErr), errors.As(err, &opErr):
		return true
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.ECONNRESET):
		return true
	}
	return false
}

// isRejected recognises a non-fast-forward push: go-git's own pre-check
// ("non-fast-forward update: refs/heads/x") or the server's report-status
// ("non-fast-forward", "fetch first", or a lost race for the ref lock
// when another push landed between advertisement and update).
func isRejected(err error) bool {
	if errors.Is(err, git.ErrNonFastForwardUpdate) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"non-fast-forward", "fetch first", "cannot lock ref", "failed to update ref"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
