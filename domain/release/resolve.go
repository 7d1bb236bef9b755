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
	// ByAlias returns every release of the project that has alias, of
	// whatever kind, with their aliases (a project's aliases are unique
	// per kind, so there is at most one release per kind).
	ByAlias(ctx context.Context, alias string) ([]*Release, error)
	ByNumber(ctx context.Context, number int) (*Release, error)
	// BySHAPrefix returns every release whose commit starts with prefix.
	BySHAPrefix(ctx context.Context, prefix string) ([]*Release, error)
}

// MinSHAPrefix is the shortest commit prefix that identifies a release.
const MinSHAPrefix = 7

var hexPattern = regexp.MustCompile(`^[0-9a-f]+$`)

// AliasPrecedence is the order in which alias kinds answer an identifier
// that is an alias of several releases of a project. Aliases are unique
// per kind only, because kinds are made by different rules that cannot be
// kept apart: a tag "main-3" is a fine tag, and the third release of
// branch main gets the branch alias "main-3" too; refusing either would
// block a project's releases for good. So "main-3" names the release of
// the tag, which a person chose, before the branch alias, which a counter
// made; the other release stays reachable by its number and its commit.
// Numeric aliases come first, but no other kind may be only digits.
var AliasPrecedence = []AliasType{AliasNumeric, AliasTag, AliasBranch, AliasCustom}

// aliasRank is where the kind of r's alias named alias comes in
// AliasPrecedence (len(AliasPrecedence) when r does not list it).
func aliasRank(r *Release, alias string) int {
	for _, a := range r.Aliases {
		if a.Alias != alias {
			continue
		}
		for i, t := range AliasPrecedence {
			if a.Type == t {
				return i
			}
		}
	}
	return len(AliasPrecedence)
}

// NamedForGood reports whether alias is a numeric or tag alias of r: the
// two kinds that come first in AliasPrecedence (no other kind is only
// digits), so that no later release can take the name from r, and an
// identifier that resolved to r this way always will.
func NamedForGood(r *Release, alias string) bool {
	for _, a := range r.Aliases {
		if a.Alias == alias && (a.Type == AliasNumeric || a.Type == AliasTag) {
			return true
		}
	}
	return false
}

// Resolve finds the release an identifier names, in the spec's order:
// an exact alias (of the first kind in AliasPrecedence when the releases of
// several kinds have it), then a release number, then a commit SHA prefix
// of at least 7 characters. An ambiguous prefix is a conflict that lists
// the candidates; anything else unmatched is not found.
func Resolve(ctx context.Context, f Finder, id string) (*Release, error) {
	rs, err := f.ByAlias(ctx, id)
	if err != nil && !fault.Is(err, fault.NotFound) {
		return nil, err
	}
	var best *Release
	for _, r := range rs {
		if best == nil || aliasRank(r, id) < aliasRank(best, id) {
			best = r
		}
	}
	if best != nil {
		return best, nil
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
