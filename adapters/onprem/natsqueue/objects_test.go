package natsqueue_test

import (
	"bytes"
	"context"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// memObjects is a map-backed ObjectStore for these tests: it stands in
// for the store a deployment gives the queue (filesystem, S3) so the
// tests can see what the queue stored. It claims nothing about object
// stores; their own conformance suite does.
type memObjects struct {
	mu   sync.Mutex
	objs map[string][]byte
}

var _ ports.ObjectStore = (*memObjects)(nil)

func newMemObjects() *memObjects { return &memObjects{objs: map[string][]byte{}} }

func (m *memObjects) Put(_ context.Context, key string, r io.Reader, opts ports.PutOptions) (ports.ObjectInfo, error) {
	if key == "" || strings.HasPrefix(key, "/") {
		return ports.ObjectInfo{}, fault.New(fault.Validation, "bad key %q", key)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return ports.ObjectInfo{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objs[key] = b
	return ports.ObjectInfo{Key: key, Size: int64(len(b)), ContentType: opts.ContentType, ModTime: time.Now()}, nil
}

func (m *memObjects) Get(_ context.Context, key string, offset int64) (io.ReadCloser, ports.ObjectInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objs[key]
	if !ok {
		return nil, ports.ObjectInfo{}, fault.New(fault.NotFound, "no object at %s", key)
	}
	offset = min(offset, int64(len(b)))
	return io.NopCloser(bytes.NewReader(b[offset:])), ports.ObjectInfo{Key: key, Size: int64(len(b))}, nil
}

func (m *memObjects) Stat(_ context.Context, key string) (ports.ObjectInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objs[key]
	if !ok {
		return ports.ObjectInfo{}, fault.New(fault.NotFound, "no object at %s", key)
	}
	return ports.ObjectInfo{Key: key, Size: int64(len(b))}, nil
}

func (m *memObjects) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objs, key)
	return nil
}

func (m *memObjects) List(_ context.Context, prefix, after string, limit int) ([]ports.ObjectInfo, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if limit <= 0 {
		limit = 1000
	}
	var keys []string
	for k := range m.objs {
		if strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	more := len(keys) > limit
	if more {
		keys = keys[:limit]
	}
	out := make([]ports.ObjectInfo, len(keys))
	for i, k := range keys {
		out[i] = ports.ObjectInfo{Key: k, Size: int64(len(m.objs[k]))}
	}
	return out, more, nil
}

func (m *memObjects) PresignGet(context.Context, string, time.Duration) (string, error) {
	return "", fault.New(fault.Unavailable, "memObjects cannot presign")
}
