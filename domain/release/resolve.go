package release

import (
	"context"
	"errors"
	"regexp"
	"strconv"

	"github.com/catalyst-forge/forge/domain/fault"
)

// Finder is what identifier resolution needs from storage, for one
// repository/project. Each method returns a fault.NotFound error when
// nothing matches.
type Finder interface {
	ByAlias(ctx context.Context, alias string) (*Release, error)
	ByNumber(ctx context.Context, number int) (*Release, error)
	// BySHAPrefix returns every release whose commit starts with prefix.
	BySHAPrefix(ctx context.Context, prefix string) ([]*Release, error)
}

// MinSHAPrefix is the shortest commit prefix that identifies a release.
const MinSHAPrefix = 7

var hexPattern = regexp.MustCompile(`^[0-9a-f]+$`)

// Resolve finds the release an identifier names, in the spec's order:
// an exact alias, then a release number, then a commit SHA prefix of at
// least 7 characters. An ambiguous prefix is a conflict that lists the
// candidates; anything else unmatched is not found.
func Resolve(ctx context.Context, f Finder, id string) (*Release, error) {
	if r, err := f.ByAlias(ctx, id); err == nil {
		return r, nil
	} else if !fault.Is(err, fault.NotFound) {
		return nil, err
	}
	if n, err := strconv.Atoi(id); err == nil && n > 0 && strconv.Itoa(n) == id {
		if r, err := f.ByNumber(ctx, n); err == nil {
			return r, nil
		} else if !fault.Is(err, fault.NotFound) {
			return nil, err
		}
	}
	if len(id) >= MinSHAPrefix && hexPattern.MatchString(id) {
		rs, err := f.BySHAPrefix(ctx, id)
		if err != nil && !fault.Is(err, fault.NotFound) {
			return nil, err
		}
		switch len(rs) {
		case 0:
		case 1:
			return rs[0], nil
		default:
			candidates := make([]string, len(rs))
			for i, r := range rs {
				candidates[i] = r.CommitSHA
			}
			return nil, &fault.Error{Kind: fault.Conflict,
				Message: "commit prefix " + strconv.Quote(id) + " matches " + strconv.Itoa(len(rs)) + " releases; give more characters",
				Details: map[string]any{"candidates": candidates}}
		}
	}
	return nil, &fault.Error{Kind: fault.NotFound, Message: "no release matches " + strconv.Quote(id) + " (tried alias, release number and commit prefix)",
		Err: errors.New("release not found")}
}
