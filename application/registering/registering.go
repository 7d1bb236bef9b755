// Package registering is the use case that registers repositories with
// the platform and lists them. Runs are accepted only for registered
// repositories. It is in the application layer.
package registering

import (
	"context"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/ports"
)

// Service registers repositories.
type Service struct {
	Store ports.Store
	Clock ports.Clock
}

// Register registers name (owner/name, stored in its canonical lower-case
// form: "ACME/Mono" is acme/mono) with limits, or returns the existing
// registration (created=false). Operators only.
func (s *Service) Register(ctx context.Context, who *identity.Principal, name string, limits repository.Limits) (*repository.Repository, bool, error) {
	if err := identity.Require(who, identity.PermRegisterRepository); err != nil {
		return nil, false, err
	}
	name = repository.Canonical(name)
	if err := repository.ValidateName(name); err != nil {
		return nil, false, err
	}
	if err := limits.Validate(); err != nil {
		return nil, false, err
	}
	return s.Store.CreateRepository(ctx, &repository.Repository{
		Name:      name,
		Limits:    limits.WithDefaults(),
		CreatedAt: s.Clock.Now(),
		CreatedBy: who.Subject,
	})
}

// List lists registered repositories by name.
func (s *Service) List(ctx context.Context, who *identity.Principal, page ports.Page) ([]repository.Repository, int, error) {
	if err := identity.Require(who, identity.PermRead); err != nil {
		return nil, 0, err
	}
	return s.Store.ListRepositories(ctx, page.Normalize())
}

// Get returns one registration.
func (s *Service) Get(ctx context.Context, who *identity.Principal, name string) (*repository.Repository, error) {
	if err := identity.Require(who, identity.PermRead); err != nil {
		return nil, err
	}
	name = repository.Canonical(name)
	r, err := s.Store.GetRepository(ctx, name)
	if fault.Is(err, fault.NotFound) {
		return nil, fault.New(fault.NotFound, "repository %s is not registered", name)
	}
	return r, err
}
