package endpoints

import (
	"context"
	"sort"
	"sync"
)

// LogFields collect what an endpoint learns about a request that its
// transport's log line should carry: the run, the project, the
// repository, the environment. Safe for concurrent use.
type LogFields struct {
	mu sync.Mutex
	m  map[string]string
}

type logFieldsKey struct{}

// WithLogFields returns ctx with an empty set of log fields, which the
// transport reads back once the request is answered.
func WithLogFields(ctx context.Context) (context.Context, *LogFields) {
	f := &LogFields{m: map[string]string{}}
	return context.WithValue(ctx, logFieldsKey{}, f), f
}

// Annotate adds key=value to the request's log fields, when ctx has some
// and value is not empty.
func Annotate(ctx context.Context, kv ...string) {
	f, _ := ctx.Value(logFieldsKey{}).(*LogFields)
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			f.m[kv[i]] = kv[i+1]
		}
	}
}

// Each calls fn for every field, in key order.
func (f *LogFields) Each(fn func(key, value string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	keys := make([]string, 0, len(f.m))
	for k := range f.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fn(k, f.m[k])
	}
}
