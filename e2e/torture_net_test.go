package e2e

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/datomfs/datomfs/internal/testenv"
)

// TestTortureNetwork writes through the CLI and through a mount while the
// network to the git server (git http-backend) or to the S3 gateway
// (Versity) hangs, is cut, or crawls, each fault placed at a random byte
// of the write's traffic (testenv.Proxy). A write returns in bounded time
// (DATOMFS_NET_IDLE_TIMEOUT=2s), succeeds or fails with one line; what it
// reported written (or "pushed") is on the remote; no clone is left dirty
// or diverged; after validate --fix the project validates clean.
func TestTortureNetwork(t *testing.T) {
	size := torture(t)
	seed := tortureSeed(t)
	rng := rand.New(rand.NewPCG(seed, 4))

	const token = "torture-token"
	gs := testenv.GitHTTP(t, token)
	gs.NewBareRepo(t, "study.git")
	bare := filepath.Join(gs.Root, "study.git")
	srv := testenv.Versity(t)
	srv.CreateBucket(t, "study-data")
	proxies := map[string]*testenv.Proxy{
		"git": testenv.NewProxy(t, strings.TrimPrefix(gs.URL, "http://")),
		"s3":  testenv.NewProxy(t, strings.TrimPrefix(srv.Endpoint, "http://")),
	}
	remote := "http://" + proxies["git"].Addr + "/study.git"
	env := []string{"DATOMFS_GIT_TOKEN=" + token, "DATOMFS_NET_IDLE_TIMEOUT=2s"}
	for _, kv := range srv.Env() {
		if strings.HasPrefix(kv, "AWS_ENDPOINT_URL=") {
			kv = "AWS_ENDPOINT_URL=http://" + proxies["s3"].Addr
		}
		env = append(env, kv)
	}
	b := backend{name: "s3", store: "s3://study-data/proj/", env: env, s3: srv}

	c := &crashProject{t: t, b: b, remote: bare, rng: rng, inputs: t.TempDir(), leftSeen: map[string]bool{}}
	c.e = newEngineer(t, "Nora", b)
	c.dir = filepath.Join(t.TempDir(), "cli")
	if p := c.e.proc("init", c.dir, "--project", "STUDY_001", "--store", b.store, "--remote", remote); p.code != 0 {
		t.Fatalf("init through the proxies: %s", p)
	}
	// A normal write measures the traffic of one write, where the faults
	// are placed.
	before := map[string]int64{"git": proxies["git"].Forwarded(), "s3": proxies["s3"].Forwarded()}
	c.cliWrite("net", ".parquet")
	traffic := map[string]int64{}
	for k, p := range proxies {
		traffic[k] = max(p.Forwarded()-before[k], 1)
	}
	t.Logf("one write moves %d bytes to and from git, %d to and from S3", traffic["git"], traffic["s3"])
	c.cliWrite("net2", ".csv")
	setup := len(c.reported)

	ned := newEngineer(t, "Ned", b)
	dirM := filepath.Join(t.TempDir(), "mnt")
	if p := ned.proc("clone", remote, dirM); p.code != 0 {
		t.Fatalf("clone through the proxies: %s", p)
	}
	mnt := mountDatomfs(t, ned, "-C", dirM, "--refresh", "0")

	type netCase struct{ target, fault, surface string }
	var cases []netCase
	reps := 1
	if size.long {
		reps = 6
	}
	for range reps {
		for _, target := range []string{"git", "s3"} {
			for _, fault := range []string{"pause", "drop"} {
				for _, surface := range []string{"cli", "mount"} {
					cases = append(cases, netCase{target, fault, surface})
				}
			}
		}
	}
	cases = append(cases, netCase{"s3", "slow", "cli"}, netCase{"git", "slow", "mount"})

	var pushedFailed []*twrite // failed, but said the version is pushed
	var failedWrites []*twrite
	outcomes := map[string]int{}
	took := map[string][]time.Duration{}
	for i, nc := range cases {
		name := fmt.Sprintf("%02d-%s-%s-%s", i, nc.target, nc.fault, nc.surface)
		t.Run(name, func(t *testing.T) {
			c.t = t
			px := proxies[nc.target]
			table := []string{"net", "net2"}[i%2]
			ext := []string{".parquet", ".csv"}[(i/2)%2]
			wr := c.input(table, ext)
			at := 1 + rng.Int64N(traffic[nc.target])
			var armed, fired atomic.Bool // a trigger the write did not reach must not fire later
			armed.Store(true)
			switch nc.fault {
			case "pause":
				px.AfterBytes(at, func() {
					if armed.Load() {
						fired.Store(true)
						px.Pause()
					}
				})
			case "drop":
				px.AfterBytes(at, func() {
					if armed.Load() {
						fired.Store(true)
						px.DropAll()
					}
				})
			case "slow":
				px.Slow(256 << 10)
			}
			var p proc
			if nc.surface == "cli" {
				p = c.e.proc("write", wr.file, "--table", table, "--pull", "-C", c.dir)
			} else {
				p = runProc(nil, hangLimit, "cp", wr.file, filepath.Join(mnt.dir, "tables", table, filepath.Base(wr.file)))
			}
			armed.Store(false)
			px.Resume()
			px.Slow(0)
			took[nc.fault] = append(took[nc.fault], p.took)

			outcome := "ok"
			switch {
			case p.hung:
				t.Errorf("HANG with the %s link %s at byte %d: %s", nc.target, nc.fault, at, p)
				outcome = "hung"
			case p.panicked():
				t.Errorf("PANIC with the %s link %s at byte %d: %s", nc.target, nc.fault, at, p)
				outcome = "panic"
			case p.code == 0:
				wr.ok = true
				if nc.surface == "cli" {
					if m := wroteLine.FindStringSubmatch(p.out); m != nil {
						wr.version = m[3]
					} else {
						t.Errorf("exit 0 without a new version: %s", p)
					}
				}
				c.reported = append(c.reported, wr)
			case nc.fault == "slow":
				t.Errorf("a slow but moving %s link failed the write: %s", nc.target, p)
				outcome = "failed"
			case nc.surface == "cli" && p.code != 1 && p.code != 3:
				t.Errorf("exit code %d: %s", p.code, p)
				outcome = "failed"
			case nc.surface == "cli":
				outcome = fmt.Sprintf("exit %d", p.code)
				if lines := strings.Split(strings.TrimSpace(p.err), "\n"); len(lines) > 2 || !strings.HasPrefix(lines[0], "datomfs: ") {
					t.Errorf("want a one-line reason (and a hint): %s", p)
				}
				if strings.Contains(p.err, "is pushed") {
					pushedFailed = append(pushedFailed, wr)
					outcome = "pushed, mirrors stale"
				} else {
					failedWrites = append(failedWrites, wr)
				}
			default:
				outcome = "cp: " + strings.TrimSpace(p.err[strings.LastIndex(p.err, ": ")+2:])
				failedWrites = append(failedWrites, wr)
			}
			if nc.fault != "slow" && !fired.Load() {
				outcome += " (fault not reached)"
			}
			outcomes[nc.fault+" "+nc.surface+": "+outcome]++

			select {
			case <-mnt.exited:
				t.Fatalf("the mount died:\n%s", tail(mnt.stderr.String(), 30))
			default:
			}
			if nc.surface == "cli" {
				cleanClone(t, c.e, c.dir)
			} else {
				cleanClone(t, ned, dirM)
			}
		})
	}
	c.t = t

	// With the network back: what said "pushed" is on the remote, stale
	// mirrors are repaired, and the project is consistent.
	for _, wr := range pushedFailed {
		if !c.onRemote(wr) {
			t.Errorf("LOST: write #%d of %s failed saying its version is pushed, and it is not on the remote", wr.seq, wr.table)
		}
	}
	if p := c.e.proc("pull", "-C", c.dir); p.code != 0 {
		t.Errorf("pull after the faults: %s", p)
	}
	if r, p := validate(t, c.e, c.dir, true); p.code != 0 || r.open() != 0 {
		t.Errorf("validate --fix after the faults: %d unfixed: %s", r.open(), p)
	}
	_, hist := freshAudit(t, backend{name: "s3", store: b.store, env: srv.Env(), s3: srv}, bare)
	c.reportedOnRemote()
	published := 0
	for _, wr := range failedWrites {
		if c.onRemote(wr) {
			published++
		}
	}
	if s := mnt.stderr.String(); strings.Contains(s, "panic:") || strings.Contains(s, "goroutine ") {
		t.Errorf("the mount panicked:\n%s", tail(s, 40))
	}
	stopMount(t, mnt)
	cleanClone(t, ned, dirM)

	keys := make([]string, 0, len(outcomes))
	for k := range outcomes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, outcomes[k]))
	}
	figures(t, "%d faulty writes (one write: %d bytes git, %d bytes S3): %s; %d reported written, %d failed saying pushed, %d failed of which %d are on the remote anyway (push landed, answer lost); median seconds pause %.1f, drop %.1f, slow %.1f; %d versions of net, %d of net2 on the remote",
		len(cases), traffic["git"], traffic["s3"], strings.Join(parts, ", "), len(c.reported)-setup, len(pushedFailed), len(failedWrites), published,
		medianSeconds(took["pause"]), medianSeconds(took["drop"]), medianSeconds(took["slow"]), len(hist["net"]), len(hist["net2"]))
}
