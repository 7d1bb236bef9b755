package gormstore

import (
	"context"
	"errors"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/ports"
	"gorm.io/gorm"
)

// CreateRepository registers r, idempotently on its name; see
// ports.RepositoryStore.
func (s *Store) CreateRepository(ctx context.Context, r *repository.Repository) (*repository.Repository, bool, error) {
	if r == nil {
		return nil, false, fault.New(fault.Validation, "no repository given")
	}
	if r.Name == "" {
		return nil, false, &fault.Error{Kind: fault.Validation, Message: "repository must not be empty",
			Details: map[string]any{"field": "repository"}}
	}
	row := repositoryToRow(r)
	var err error
	if row.ID, err = newID(r.ID, "repository id"); err != nil {
		return nil, false, err
	}
	row.CreatedAt = s.orNow(r.CreatedAt)
	err = s.write(ctx, "registering repository "+r.Name, func(tx *gorm.DB) error {
		return dbErr(tx.Create(&row).Error, "registering repository "+r.Name)
	})
	if err == nil {
		got := row.domain()
		return &got, true, nil
	}
	if !fault.Is(err, fault.Conflict) {
		return nil, false, err
	}
	existing, gerr := s.GetRepository(ctx, r.Name)
	if gerr != nil {
		return nil, false, err // the conflict was on something else (the ID)
	}
	return existing, false, nil
}

// GetRepository returns the registration of name, or NotFound.
func (s *Store) GetRepository(ctx context.Context, name string) (*repository.Repository, error) {
	var row repositoryRow
	err := s.read(ctx).Where("name = ?", name).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fault.New(fault.NotFound, "repository %q is not registered", name)
	}
	if err != nil {
		return nil, dbErr(err, "reading repository "+name)
	}
	got := row.domain()
	return &got, nil
}

// ListRepositories lists registrations by name, and the total count.
func (s *Store) ListRepositories(ctx context.Context, page ports.Page) ([]repository.Repository, int, error) {
	page = page.Normalize()
	var total int64
	if err := s.read(ctx).Model(&repositoryRow{}).Count(&total).Error; err != nil {
		return nil, 0, dbErr(err, "counting repositories")
	}
	var rows []repositoryRow
	if err := s.read(ctx).Order("name").Limit(page.Limit).Offset(page.Offset).Find(&rows).Error; err != nil {
		return nil, 0, dbErr(err, "listing repositories")
	}
	out := make([]repository.Repository, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, int(total), nil
}
