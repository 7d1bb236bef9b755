package running

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
)

// DefaultRetention is how long a pipeline run is kept after it was
// created, when the operator sets nothing (spec 06: 90 days).
const DefaultRetention = 90 * 24 * time.Hour

// DefaultPruneBatch is how many runs one batch of Prune deletes.
const DefaultPruneBatch = 100

// Prune deletes the runs created before before that have ended and that no
// release names (a release keeps its run as provenance), with their
// phases, tasks and steps and, when Objects is set, everything they stored
// there (pipeline.ObjectsPrefix): objects first, then the rows, so a failure
// leaves a run without logs rather than logs no run points to. A run whose
// objects cannot be deleted keeps its rows, to be tried again next time,
// and the others go on. It works in batches of batch runs (0 or over 100:
// DefaultPruneBatch), each one indexed read and one bounded delete, and
// stops when a batch comes back short, deletes nothing, or ctx ends.
// Releases, deployments and approvals are never touched. It returns how
// many runs went, and the first error met.
func (s *Service) Prune(ctx context.Context, before time.Time, batch int) (int, error) {
	if batch <= 0 || batch > ports.MaxPageLimit {
		batch = DefaultPruneBatch
	}
	total := 0
	var first error
	for ctx.Err() == nil {
		ids, err := s.Store.ExpiredRuns(ctx, before, batch)
		if err != nil || len(ids) == 0 {
			return total, errors.Join(first, err)
		}
		deletable := ids
		if s.Objects != nil {
			deletable = nil
			for _, id := range ids {
				if err := s.deleteObjects(ctx, pipeline.ObjectsPrefix(id)); err != nil {
					if first == nil {
						first = fmt.Errorf("run %s: %w", id, err)
					}
					continue
				}
				deletable = append(deletable, id)
			}
		}
		n, err := s.Store.DeleteRuns(ctx, deletable)
		total += n
		if err != nil {
			return total, errors.Join(first, err)
		}
		if len(ids) < batch || n == 0 {
			break
		}
	}
	return total, first
}

// deleteObjects deletes every object under prefix.
func (s *Service) deleteObjects(ctx context.Context, prefix string) error {
	for {
		objs, more, err := s.Objects.List(ctx, prefix, "", 0)
		if err != nil {
			return err
		}
		for _, o := range objs {
			if err := s.Objects.Delete(ctx, o.Key); err != nil {
				return err
			}
		}
		if !more || len(objs) == 0 {
			return nil
		}
	}
}
