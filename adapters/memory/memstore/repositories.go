package memstore

import (
	"context"
	"sort"

	"github.com/google/uuid"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/ports"
)

type repositoryRecord struct {
	repo repository.Repository
}

// CreateRepository implements ports.RepositoryStore.
func (v view) CreateRepository(_ context.Context, r *repository.Repository) (got *repository.Repository, created bool, err error) {
	err = v.do(func(st *state) error {
		got, created, err = st.createRepository(r)
		return err
	})
	return got, created, err
}

// GetRepository implements ports.RepositoryStore.
func (v view) GetRepository(_ context.Context, name string) (got *repository.Repository, err error) {
	err = v.do(func(st *state) error {
		rec, ok := st.repositories[name]
		if !ok {
			return notFound("repository", name)
		}
		got = cloneRepository(&rec.repo)
		return nil
	})
	return got, err
}

// ListRepositories implements ports.RepositoryStore.
func (v view) ListRepositories(_ context.Context, p ports.Page) (out []repository.Repository, total int, err error) {
	err = v.do(func(st *state) error {
		names := make([]string, 0, len(st.repositories))
		for name := range st.repositories {
			names = append(names, name)
		}
		sort.Strings(names)
		total = len(names)
		out = []repository.Repository{}
		for _, name := range paginate(names, p) {
			rec := st.repositories[name]
			out = append(out, *cloneRepository(&rec.repo))
		}
		return nil
	})
	return out, total, err
}

func (st *state) createRepository(r *repository.Repository) (*repository.Repository, bool, error) {
	if r == nil || r.Name == "" {
		return nil, false, &fault.Error{Kind: fault.Validation, Message: "repository name is required",
			Details: map[string]any{"field": "repository"}}
	}
	if rec, ok := st.repositories[r.Name]; ok {
		return cloneRepository(&rec.repo), false, nil
	}
	in := cloneRepository(r)
	if in.ID == "" {
		in.ID = uuid.NewString()
	}
	for _, rec := range st.repositories {
		if rec.repo.ID == in.ID {
			return nil, false, fault.New(fault.Conflict, "repository ID %q is taken", in.ID)
		}
	}
	st.repositories[in.Name] = repositoryRecord{repo: *in}
	return cloneRepository(in), true, nil
}
