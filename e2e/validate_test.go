package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateFindsDamage: a stored object truncated by 7 bytes is found
// by plain validate and one with a flipped byte by --read-data, on a local
// store and on S3; both exit 1 and name the object.
func TestValidateFindsDamage(t *testing.T) {
	for _, b := range []backend{localBackend(t), s3Backend(t)} {
		t.Run(b.name, func(t *testing.T) {
			p := newProject(t, b)
			p.e.must("write", extract(t, "2026-01-31", "parquet")["lb"], "--table", "lb", "-C", p.dir)
			if r := p.e.run("validate", "--read-data", "-C", p.dir); r.code != 0 || !strings.Contains(r.out, "0 problem(s)") {
				t.Fatalf("healthy project: %s", r)
			}
			var lbKey, dmKey string
			for k := range b.objects(t) {
				if strings.HasSuffix(k, ".parquet") && strings.Contains(k, "/lb/") {
					lbKey = k
				}
				if strings.HasSuffix(k, ".parquet") && strings.Contains(k, "/dm/") {
					dmKey = k
				}
			}
			if lbKey == "" || dmKey == "" {
				t.Fatalf("objects not found: %v", keysOf(b.objects(t)))
			}
			root := b.store
			if b.s3 != nil {
				root = filepath.Join(b.s3.Dir, "study-data")
			}
			damage := func(key string, fn func([]byte) []byte) {
				path := filepath.Join(root, filepath.FromSlash(key))
				body, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, fn(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			damage(lbKey, func(b []byte) []byte { return b[:len(b)-7] })
			r := p.e.run("validate", "-C", p.dir)
			if r.code != 1 || !strings.Contains(r.out, "bytes, not the recorded") || !strings.Contains(r.out, strings.TrimPrefix(lbKey, "proj/")) {
				t.Fatalf("truncated object, plain validate: %s", r)
			}
			damage(dmKey, func(b []byte) []byte { b[len(b)/2] ^= 1; return b })
			if r := p.e.run("validate", "-C", p.dir); strings.Contains(r.out, "dm/") {
				t.Fatalf("plain validate reads no bytes, yet reports dm: %s", r)
			}
			r = p.e.run("validate", "--read-data", "--json", "-C", p.dir)
			if r.code != 1 || !strings.Contains(r.out, "do not match the parquet_sha") || !strings.Contains(r.out, `"consistent": false`) {
				t.Fatalf("flipped byte, --read-data: %s", r)
			}
		})
	}
}

// TestUnportableTableNames: names a Windows clone could not check out are
// refused before anything happens, with the reason, and leave nothing.
func TestUnportableTableNames(t *testing.T) {
	p := newProject(t, localBackend(t))
	good := extract(t, "2026-01-31", "parquet")["lb"]
	for _, name := range []string{"CON", "nul", "COM1", "LPT9", "DM", "lb "} {
		t.Run(name, func(t *testing.T) {
			p.unchanged(t, func() {
				r := p.e.run("write", good, "--table", name, "-C", p.dir)
				oneLineError(t, r)
				if !strings.Contains(r.err, "Windows") && !strings.Contains(r.err, "case") {
					t.Errorf("no reason given: %s", r.err)
				}
			})
		})
	}
	if r := p.e.run("list", "-C", p.dir); strings.Contains(strings.ToUpper(r.out), "CON") {
		t.Fatalf("a refused table is listed: %s", r)
	}
}
