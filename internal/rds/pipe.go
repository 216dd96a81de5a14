package rds

import (
	"io"
	"sync"
)

// pipeWriter hands what is written to it to w on another goroutine, so
// that compression (w) and decoding (the writer's side) use two cores. It
// holds at most pipeDepth buffers in flight: memory stays bounded. A write
// error of w is returned by a later Write, or by Close.
type pipeWriter struct {
	w    io.Writer
	full chan []byte
	free chan []byte
	done chan struct{}

	mu  sync.Mutex
	err error
}

const pipeDepth = 4

func newPipeWriter(w io.Writer) *pipeWriter {
	p := &pipeWriter{w: w, full: make(chan []byte, pipeDepth), free: make(chan []byte, pipeDepth), done: make(chan struct{})}
	for range pipeDepth {
		p.free <- nil
	}
	go p.run()
	return p
}

func (p *pipeWriter) run() {
	defer close(p.done)
	for buf := range p.full {
		if p.failed() == nil {
			if _, err := p.w.Write(buf); err != nil {
				p.mu.Lock()
				p.err = err
				p.mu.Unlock()
			}
		}
		p.free <- buf[:0]
	}
}

func (p *pipeWriter) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Write copies b into a free buffer and queues it.
func (p *pipeWriter) Write(b []byte) (int, error) {
	if err := p.failed(); err != nil {
		return 0, err
	}
	buf := <-p.free
	p.full <- append(buf, b...)
	return len(b), nil
}

// Close waits until everything queued was written and returns the first
// error of w.
func (p *pipeWriter) Close() error {
	close(p.full)
	<-p.done
	return p.failed()
}
