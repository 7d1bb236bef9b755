package memstore

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// Store is a ports.Store that keeps everything in memory. The zero value
// is not usable: call New. It is safe for concurrent use.
type Store struct {
	view
	mu sync.Mutex
	st *state
}

var _ ports.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	s := &Store{st: newState()}
	s.view = view{do: s.locked}
	return s
}

// locked runs fn on the live state while holding the store's mutex.
func (s *Store) locked(fn func(*state) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fn(s.st)
}

// InTx runs fn on a staged copy of the state while holding the store's
// mutex, so transactions are serialised with every other operation. The
// copy replaces the state when fn returns nil and is dropped when it
// returns an error (or panics). The tx given to fn refuses to work once fn
// has returned. fn must use tx only: calling the Store itself from fn
// would wait for the mutex that InTx holds, forever.
func (s *Store) InTx(ctx context.Context, fn func(tx ports.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	staged := s.st.clone()
	var (
		txMu sync.Mutex
		done bool
	)
	tx := view{do: func(f func(*state) error) error {
		txMu.Lock()
		defer txMu.Unlock()
		if done {
			return fault.New(fault.Internal, "memstore: transaction used after InTx returned")
		}
		return f(staged)
	}}
	defer func() {
		txMu.Lock()
		done = true
		txMu.Unlock()
	}()

	if err := fn(tx); err != nil {
		return err
	}
	s.st = staged
	return nil
}

// Close does nothing: memory is released with the store.
func (s *Store) Close() error { return nil }

// view implements ports.Tx over a way to reach the state: with the store's
// mutex for a Store, on the staged copy inside InTx.
type view struct {
	do func(func(*state) error) error
}

var _ ports.Tx = view{}

// state is everything the store holds. Its methods assume the caller has
// exclusive access, check every rule before they change anything (so a
// failed operation leaves no trace), and copy entities in and out.
type state struct {
	seq uint64 // insertion order, to break ties in listings

	repositories map[string]repositoryRecord // by name

	runs      map[string]*runRecord // by ID
	runKeys   map[runKey]string     // (repository, commit) → run ID
	phaseRuns map[string]string     // phase ID → run ID
	taskRuns  map[string]string     // task ID → run ID
	stepRuns  map[string]string     // step ID → run ID

	releases    map[string]*releaseRecord // by ID
	releaseKeys map[tripletKey]string     // triplet → release ID
	projects    map[projectKey]*projectReleases

	deployments map[string]*deploymentRecord // by ID
	approvals   map[string]*approvalRecord   // by ID
}

func newState() *state {
	return &state{
		repositories: map[string]repositoryRecord{},
		runs:         map[string]*runRecord{},
		runKeys:      map[runKey]string{},
		phaseRuns:    map[string]string{},
		taskRuns:     map[string]string{},
		stepRuns:     map[string]string{},
		releases:     map[string]*releaseRecord{},
		releaseKeys:  map[tripletKey]string{},
		projects:     map[projectKey]*projectReleases{},
		deployments:  map[string]*deploymentRecord{},
		approvals:    map[string]*approvalRecord{},
	}
}

// next returns the next insertion sequence number.
func (st *state) next() uint64 {
	st.seq++
	return st.seq
}

// clone returns a deep copy of the state, for a transaction to work on.
func (st *state) clone() *state {
	c := newState()
	c.seq = st.seq
	for k, v := range st.repositories {
		c.repositories[k] = v
	}
	for k, v := range st.runs {
		c.runs[k] = &runRecord{run: *cloneRun(&v.run), seq: v.seq}
	}
	copyMap(c.runKeys, st.runKeys)
	copyMap(c.phaseRuns, st.phaseRuns)
	copyMap(c.taskRuns, st.taskRuns)
	copyMap(c.stepRuns, st.stepRuns)
	for k, v := range st.releases {
		c.releases[k] = &releaseRecord{rel: *cloneRelease(&v.rel), seq: v.seq}
	}
	copyMap(c.releaseKeys, st.releaseKeys)
	for k, v := range st.projects {
		c.projects[k] = v.clone()
	}
	for k, v := range st.deployments {
		c.deployments[k] = &deploymentRecord{d: *cloneDeployment(&v.d), seq: v.seq}
	}
	for k, v := range st.approvals {
		c.approvals[k] = &approvalRecord{a: *cloneApproval(&v.a), seq: v.seq}
	}
	return c
}

func copyMap[K comparable, V any](dst, src map[K]V) {
	for k, v := range src {
		dst[k] = v
	}
}

// paginate returns the part of items that p selects, after Normalize.
func paginate[T any](items []T, p ports.Page) []T {
	p = p.Normalize()
	if p.Offset >= len(items) {
		return []T{}
	}
	end := min(p.Offset+p.Limit, len(items))
	return items[p.Offset:end]
}

// notFound returns a NotFound error for an entity of kind what.
func notFound(what, id string) error {
	return fault.New(fault.NotFound, "%s %q not found", what, id)
}

// byTime sorts records by a time, oldest first (newest first when newest),
// records of the same time in the order they were stored (seq).
func byTime[T any](recs []T, at func(T) (time.Time, uint64), newest bool) {
	sort.Slice(recs, func(i, j int) bool {
		ta, sa := at(recs[i])
		tb, sb := at(recs[j])
		if !ta.Equal(tb) {
			return ta.Before(tb) != newest
		}
		return (sa < sb) != newest
	})
}
