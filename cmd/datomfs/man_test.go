package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The man pages are the commands' own help: one page per visible command,
// each with its description and examples; hidden commands get none.
func TestManPages(t *testing.T) {
	dir := t.TempDir()
	io, _, _, errOut := TestIO()
	if code := Main([]string{"man", "--dir", dir}, io); code != 0 {
		t.Fatalf("man: exit %d\n%s", code, errOut)
	}
	io, _, _, _ = TestIO()
	for _, c := range commands(&factory{IO: io}) {
		page := filepath.Join(dir, "datomfs-"+c.Name()+".1")
		body, err := os.ReadFile(page)
		if c.Hidden {
			if err == nil {
				t.Errorf("hidden command %s has a man page", c.Name())
			}
			continue
		}
		if err != nil {
			t.Errorf("no man page for %s: %v", c.Name(), err)
			continue
		}
		text := string(body)
		if !strings.HasPrefix(text, ".nh\n.TH \"DATOMFS\" \"1\"") || !strings.Contains(text, c.Short) {
			t.Errorf("%s: page lacks the header or the command's summary:\n%.300s", page, text)
		}
		if c.Example != "" && !strings.Contains(text, ".SH EXAMPLE") {
			t.Errorf("%s: the examples are missing", page)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "datomfs.1")); err != nil {
		t.Errorf("no datomfs.1: %v", err)
	}
}
