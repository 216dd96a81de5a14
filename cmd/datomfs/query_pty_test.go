package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestMain lets a test run the CLI in a child process (DATOMFS_TEST_MAIN=1):
// the shell's terminal handling needs a real terminal on its own stdin.
func TestMain(m *testing.M) {
	if os.Getenv("DATOMFS_TEST_MAIN") == "1" {
		os.Exit(Main(os.Args[1:], System()))
	}
	os.Exit(m.Run())
}

// ptyOutput collects what the child writes on its terminal.
type ptyOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *ptyOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *ptyOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// TestQueryShellPty drives the shell on a pseudo-terminal as a user would:
// typed statements, Ctrl-C on a line and on a running statement, Up and
// Ctrl-R through the history, Ctrl-D to leave, and the history file.
func TestQueryShellPty(t *testing.T) {
	p, _ := cliProject(t)
	state := t.TempDir()
	cmd := exec.Command(os.Args[0], "query", "-C", p.Dir())
	cmd.Env = append(os.Environ(), "DATOMFS_TEST_MAIN=1", "XDG_STATE_HOME="+state,
		"DATOMFS_CACHE="+filepath.Join(t.TempDir(), "cache"), "TERM=xterm")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 60})
	if err != nil {
		t.Fatalf("start on a pty: %v", err)
	}
	defer tty.Close()
	out := &ptyOutput{}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	})

	seen := 0 // output before seen has been matched already
	waitFor := func(what string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			s := out.String()
			if i := strings.Index(s[seen:], what); i >= 0 {
				seen += i + len(what)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("no %q on the terminal; it shows:\n%s", what, out.String()[seen:])
	}
	typeKeys := func(s string) {
		t.Helper()
		if _, err := tty.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}

	waitFor("datomfs> ")
	typeKeys("SELECT 41+1 AS x;\r")
	waitFor("42")
	waitFor("datomfs> ")

	typeKeys("SELECT 'dropped'\r") // a pending statement ...
	waitFor("...> ")
	typeKeys("\x03") // ... that Ctrl-C drops
	waitFor("datomfs> ")
	typeKeys("SELECT 5*111 AS five;\r")
	waitFor("555")
	waitFor("datomfs> ")

	typeKeys("\x1b[A\r") // Up: the last statement again
	waitFor("555")
	waitFor("datomfs> ")

	typeKeys("\x1241+\r") // Ctrl-R: search the history
	waitFor("42")
	waitFor("datomfs> ")

	typeKeys("SELECT sum(hash(i)) FROM range(1000000000000) t(i);\r")
	time.Sleep(500 * time.Millisecond)
	typeKeys("\x03") // interrupts the statement, not the shell
	waitFor("Interrupted")
	waitFor("datomfs> ")

	typeKeys("\x04") // Ctrl-D leaves
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("shell exit: %v\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("Ctrl-D did not leave the shell:\n%s", out.String())
	}
	<-copied
	if strings.Count(out.String(), "dropped") > 1 { // echoed once, never run
		t.Errorf("the dropped line ran:\n%s", out.String())
	}
	raw, err := os.ReadFile(filepath.Join(state, "datomfs", "query_history"))
	if err != nil {
		t.Fatal(err)
	}
	hist := string(raw)
	for _, want := range []string{"SELECT 41+1 AS x;\n", "SELECT 5*111 AS five;\n", "range(1000000000000)"} {
		if !strings.Contains(hist, want) {
			t.Errorf("history file lacks %q:\n%s", want, hist)
		}
	}
	if strings.Contains(hist, "dropped") {
		t.Errorf("history has the dropped line:\n%s", hist)
	}
}
