// Package dirsecrets is the worked example of docs/adapters.md: a
// ports.SecretProvider that reads secrets from a directory of JSON files
// ({"provider": "dir", "name": "npm", "key": "token"} reads the field
// token of <dir>/npm.json), written the way the platform's adapters are,
// and passing the SecretProvider conformance suite. It is an example, not
// a provider the reference binaries offer.
package dirsecrets

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// Provider reads <Dir>/<name>.json: a JSON string (the secret) or a JSON
// object of string fields (select one with key).
type Provider struct {
	Dir string
}

var _ ports.SecretProvider = (*Provider)(nil)

// name keeps a secret's name from leaving Dir.
var name = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// Name is the provider field that selects this provider.
func (p *Provider) Name() string { return "dir" }

// Schema lists the fields of a reference: the file's name and a key.
func (p *Provider) Schema() string { return `name: string, key?: string & != ""` }

// Resolve reads the secret. Errors are the port's: Validation names the
// field, NotFound says what is missing without any value, Unavailable
// wraps what the disk said, and a cancelled context ends it.
func (p *Provider) Resolve(ctx context.Context, cfg map[string]any) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	n, _ := cfg["name"].(string)
	if !name.MatchString(n) {
		return "", &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "name"},
			Message: "dir secret: name must be lower-case letters, digits, '-' and '_'"}
	}
	data, err := os.ReadFile(filepath.Join(p.Dir, n+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fault.New(fault.NotFound, "dir secret %s does not exist", n)
	}
	if err != nil {
		return "", fault.Wrap(fault.Unavailable, err, "dir secret %s", n)
	}
	key, hasKey := cfg["key"].(string)
	if !hasKey {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return "", &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "key"},
				Message: "dir secret " + n + " holds fields: select one with key"}
		}
		return s, nil
	}
	var fields map[string]string
	if err := json.Unmarshal(data, &fields); err != nil {
		return "", &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "key"},
			Message: "dir secret " + n + " is not an object of fields: key cannot select one"}
	}
	v, ok := fields[key]
	if !ok {
		return "", fault.New(fault.NotFound, "dir secret %s has no key %s", n, key)
	}
	return v, nil
}
