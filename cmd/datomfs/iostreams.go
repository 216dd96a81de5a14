package main

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// IOStreams are the streams a command uses; tests swap them for buffers.
// Data goes to Out; messages and progress to ErrOut; progress only on a terminal.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	StdoutTTY bool
	StderrTTY bool
	StdinTTY  bool
	// TermWidth returns stdout's terminal width in columns (nil or 0:
	// unknown, no limit).
	TermWidth func() int
}

// System returns the process's streams with terminal detection.
func System() *IOStreams {
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		StdoutTTY: isTerminal(os.Stdout),
		StderrTTY: isTerminal(os.Stderr),
		StdinTTY:  isTerminal(os.Stdin),
		TermWidth: stdoutWidth,
	}
}

// TestIO returns streams backed by buffers, with no terminal.
func TestIO() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// isTerminal asks the terminal driver (a character device such as
// /dev/null is not a terminal).
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// terminalWidth is the width to fit tables to: the terminal's columns when
// stdout is one, else 0 (no limit).
func (s *IOStreams) terminalWidth() int {
	if !s.StdoutTTY || s.TermWidth == nil {
		return 0
	}
	return s.TermWidth()
}

// stdoutWidth asks the terminal driver for stdout's columns (0 if unknown).
func stdoutWidth() int {
	ws, err := unix.IoctlGetWinsize(int(os.Stdout.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	return int(ws.Col)
}
