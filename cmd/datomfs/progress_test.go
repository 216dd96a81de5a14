package main

import (
	"strings"
	"testing"
	"time"
)

// An upload's progress shows what, the bytes so far of the total, a rate
// and the time left, and ends its line when done; a second transfer gets
// its own bar.
func TestProgressBar(t *testing.T) {
	var out strings.Builder
	p := newProgress(&out)
	const total = 64 << 20
	for done := int64(0); done < total; done += 8 << 20 {
		p.update("upload lb", done, total)
		time.Sleep(30 * time.Millisecond)
	}
	p.update("upload lb", total, total)
	text := out.String()
	for _, want := range []string{"upload lb", "64 MiB", "MiB/s", "\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("progress output lacks %q:\n%q", want, text)
		}
	}
	if strings.Count(text, "\n") != 1 {
		t.Errorf("one transfer ended %d lines:\n%q", strings.Count(text, "\n"), text)
	}
	p.update("upload ae", 1<<20, 2<<20)
	p.update("upload ae", 2<<20, 2<<20)
	if !strings.Contains(out.String(), "upload ae") || strings.Count(out.String(), "\n") != 2 {
		t.Errorf("second transfer:\n%q", out.String())
	}
}
