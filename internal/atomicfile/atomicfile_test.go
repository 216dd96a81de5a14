package atomicfile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	for _, tc := range []struct {
		body    string
		perm    os.FileMode
		durable bool
	}{{"one", 0o644, false}, {"two, longer", 0o600, true}, {"", 0o644, false}} {
		if err := Write(path, []byte(tc.body), tc.perm, tc.durable); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != tc.body {
			t.Fatalf("read back %q, %v; want %q", got, err, tc.body)
		}
		fi, _ := os.Stat(path)
		if want := tc.perm &^ Umask(); fi.Mode().Perm() != want {
			t.Errorf("mode %v, want %v", fi.Mode().Perm(), want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
	// A folder that cannot be written: an error and nothing left.
	if err := Write(filepath.Join(dir, "missing", "f"), []byte("x"), 0o644, false); err == nil {
		t.Fatal("write into a missing folder succeeded")
	}
}

// TestUmask: the value read from /proc is the one the kernel applies.
func TestUmask(t *testing.T) {
	m := syscall.Umask(0)
	syscall.Umask(m)
	if got := Umask(); got != os.FileMode(m) {
		t.Fatalf("Umask() = %o, the process umask is %o", got, m)
	}
}
