package repo

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport/client"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"

	"github.com/datomfs/datomfs/internal/netdeadline"
)

// installHTTP guards the one change this package makes to go-git's global
// state. go-git v5 looks the transport of a remote up in a process-wide
// table (plumbing/transport/client.Protocols) and has no per-operation way
// to choose the HTTP client, so the only way to give its HTTP(S) calls a
// connect and an idle timeout (internal/netdeadline) is to replace the
// "http" and "https" entries there. It happens once, in remoteCtx, which
// every remote operation of this package calls before go-git reads the
// table (whatever the remote's scheme: the table is a plain map).
//
// The installed client takes each request's timeouts from its context
// (netdeadline.WithTimeouts), so every Repo keeps its own. It is go-git's
// own HTTP client around another http.RoundTripper: go-git's options that
// clone an *http.Transport (CABundle, InsecureSkipTLS, ProxyOptions) would
// fail with it, and this package uses none of them. datomfs uses go-git
// only through this package.
var installHTTP sync.Once

// remoteCtx returns ctx for a go-git remote operation whose HTTP(S) calls
// follow t.
func remoteCtx(ctx context.Context, t netdeadline.Timeouts) context.Context {
	installHTTP.Do(func() {
		c := githttp.NewClient(&http.Client{Transport: netdeadline.NewTransports(nil)})
		client.InstallProtocol("http", c)
		client.InstallProtocol("https", c)
	})
	return netdeadline.WithTimeouts(ctx, t)
}

// netTimeouts resolves the network timeouts of a Repo (see InitOptions).
func netTimeouts(dial, idle time.Duration) (netdeadline.Timeouts, error) {
	return netdeadline.Timeouts{Dial: max(dial, 0), Idle: max(idle, 0)}.Resolve()
}
