package working

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/catalyst-forge/forge/ports"
)

// maxLogBytes bounds a step log kept and uploaded; past it the log says
// it was cut.
const maxLogBytes = 16 << 20

// logUploader collects a step's output and uploads the whole log every
// interval while it grows, and once more at the end, so readers following
// the object see it grow (objects are replaced whole, never appended to).
type logUploader struct {
	store ports.ObjectStore
	key   string

	mu      sync.Mutex
	buf     bytes.Buffer
	dirty   bool
	cut     bool
	stop    chan struct{}
	stopped chan struct{}
}

func newLogUploader(store ports.ObjectStore, key string, every time.Duration) *logUploader {
	l := &logUploader{store: store, key: key, stop: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(l.stopped)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-tick.C:
				// A failed upload is retried at the next tick and by
				// Close, which reports it.
				_ = l.flush(context.Background())
			}
		}
	}()
	return l
}

// Write keeps p, up to maxLogBytes in all.
func (l *logUploader) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := maxLogBytes - l.buf.Len(); room < len(p) {
		if !l.cut {
			l.buf.Write(p[:max(room, 0)])
			l.buf.WriteString("\n[forge] log cut at 16 MiB\n")
			l.cut, l.dirty = true, true
		}
		return len(p), nil
	}
	l.buf.Write(p)
	l.dirty = true
	return len(p), nil
}

// flush uploads the log when it changed since the last upload. A failed
// upload leaves it marked changed, so the next flush tries again.
func (l *logUploader) flush(ctx context.Context) error {
	l.mu.Lock()
	if !l.dirty {
		l.mu.Unlock()
		return nil
	}
	data := bytes.Clone(l.buf.Bytes())
	l.dirty = false
	l.mu.Unlock()
	if _, err := l.store.Put(ctx, l.key, bytes.NewReader(data), ports.PutOptions{ContentType: "text/plain; charset=utf-8"}); err != nil {
		l.mu.Lock()
		l.dirty = true // try again at the next flush
		l.mu.Unlock()
		return err
	}
	return nil
}

// finalAttempts and finalRetry bound how hard Close tries to store the
// final log before it gives up.
const (
	finalAttempts = 3
	finalRetry    = 200 * time.Millisecond
)

// Close stops the periodic uploads and uploads the final log. It returns
// the error of the last attempt when the final log could not be stored:
// the step's log is then incomplete, which the step's record must show.
func (l *logUploader) Close(ctx context.Context) error {
	close(l.stop)
	<-l.stopped
	l.mu.Lock()
	l.dirty = true // the final log is always stored, even when empty
	l.mu.Unlock()
	var err error
	for i := range finalAttempts {
		if err = l.flush(ctx); err == nil {
			return nil
		}
		if i < finalAttempts-1 {
			select {
			case <-ctx.Done():
				return err
			case <-time.After(finalRetry):
			}
		}
	}
	return err
}
