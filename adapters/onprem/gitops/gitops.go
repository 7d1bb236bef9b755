// Package gitops is the GitOps port (ports.GitOps) on go-git: it keeps a
// copy of the GitOps repository's branch in memory, and writes each change
// as one commit made directly of objects (the new blob and the trees on
// its path, no work tree), pushed without force. A push the remote refuses
// because it moved (another worker's deployment landed) is replayed on the
// new head; a remote that cannot be reached is tried again with spec 07's
// backoff. It is in the adapters layer.
package gitops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/mail"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// Backoff is a retry policy: the wait before attempt n (from 0) is
// min(Max, Base·2ⁿ) plus a random part up to Jitter (spec 07, Backoff
// Algorithm).
type Backoff struct {
	Base, Max, Jitter time.Duration
	// Attempts bounds the tries; 0 means until the context ends.
	Attempts int
}

// Wait returns the wait before attempt n.
func (b Backoff) Wait(n int) time.Duration {
	d := b.Max
	if n < 30 && b.Base<<n < b.Max {
		d = b.Base << n
	}
	if b.Jitter > 0 {
		d += rand.N(b.Jitter)
	}
	return d
}

// Defaults of the retry policies. Unreachable is spec 07's: 1 s doubling
// to at most 60 s, 1 s of jitter, 5 attempts. Moved is for a remote that
// moved under a push: that is another deployment landing, not a failure,
// so the change is replayed at once and again, briefly spaced, until the
// context ends.
var (
	DefaultUnreachable = Backoff{Base: time.Second, Max: time.Minute, Jitter: time.Second, Attempts: 5}
	DefaultMoved       = Backoff{Base: 20 * time.Millisecond, Max: 2 * time.Second, Jitter: 50 * time.Millisecond}
)

// Options configure a repository.
type Options struct {
	// URL is the remote: https://, ssh://, git@host:path, file:// or a
	// path.
	URL string
	// Branch is the branch deployments go to (default main).
	Branch string
	// Auth is the credential (TokenAuth, SSHKeyAuth); nil for none.
	Auth transport.AuthMethod
	// Committer names the commits' committer (default "Catalyst Forge
	// <forge@localhost>").
	Committer string
	// Unreachable and Moved are the retry policies (defaults above).
	Unreachable, Moved *Backoff
}

// TokenAuth is an HTTPS credential: a token sent as the password of
// basic authentication, as GitHub, GitLab and Gitea take it.
func TokenAuth(token string) transport.AuthMethod {
	return &githttp.BasicAuth{Username: "forge", Password: token}
}

// SSHKeyAuth is an SSH credential: a private key in PEM (unencrypted) for
// user ("git" when empty). Host keys are checked against known_hosts.
func SSHKeyAuth(user string, pem []byte) (transport.AuthMethod, error) {
	if user == "" {
		user = "git"
	}
	keys, err := gitssh.NewPublicKeys(user, pem, "")
	if err != nil {
		return nil, fault.Wrap(fault.Validation, err, "gitops: the SSH key cannot be read")
	}
	return keys, nil
}

// Repository is a GitOps repository's branch. Safe for concurrent use:
// changes through one Repository are made one at a time; changes through
// several (several workers) race on the remote and are replayed.
type Repository struct {
	opts      Options
	committer object.Signature
	mu        sync.Mutex
	repo      *git.Repository
	remoteRef plumbing.ReferenceName
	localRef  plumbing.ReferenceName
}

var _ ports.GitOps = (*Repository)(nil)

// New returns the repository at o.URL; nothing is fetched yet. Errors:
// Validation (no URL, a bad branch name).
func New(o Options) (*Repository, error) {
	if o.URL == "" {
		return nil, fault.New(fault.Validation, "gitops: the repository URL is empty")
	}
	if o.Branch == "" {
		o.Branch = "main"
	}
	if !plumbing.NewBranchReferenceName(o.Branch).IsBranch() || strings.ContainsAny(o.Branch, " ~^:?*[\\") {
		return nil, fault.New(fault.Validation, "gitops: %q is not a branch name", o.Branch)
	}
	if o.Committer == "" {
		o.Committer = "Catalyst Forge <forge@localhost>"
	}
	if o.Unreachable == nil {
		o.Unreachable = &DefaultUnreachable
	}
	if o.Moved == nil {
		o.Moved = &DefaultMoved
	}
	repo, err := git.Init(memory.NewStorage(), nil)
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "gitops: making the local copy")
	}
	if _, err := repo.CreateRemote(&gitconfig.RemoteConfig{Name: "origin", URLs: []string{o.URL}}); err != nil {
		return nil, fault.Wrap(fault.Validation, err, "gitops: remote %s", redact(o.URL))
	}
	return &Repository{opts: o, committer: signature(o.Committer, time.Time{}), repo: repo,
		remoteRef: plumbing.NewRemoteReferenceName("origin", o.Branch), localRef: plumbing.NewBranchReferenceName(o.Branch)}, nil
}

// Apply implements ports.GitOps.
func (r *Repository) Apply(ctx context.Context, c ports.GitOpsChange) (string, bool, error) {
	parts, err := splitPath(c.Path)
	if err != nil {
		return "", false, err
	}
	if strings.TrimSpace(c.Message) == "" {
		return "", false, fault.New(fault.Validation, "gitops: a change of %s needs a commit message", c.Path)
	}
	if c.When.IsZero() {
		c.When = time.Now()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for moved := 0; ; moved++ {
		head, err := r.fetch(ctx)
		if err != nil {
			return "", false, err
		}
		commit, changed, err := r.commit(head, parts, c)
		if err != nil || !changed {
			return commit.String(), false, err
		}
		err = r.push(ctx, commit)
		if err == nil {
			return commit.String(), true, nil
		}
		if !errors.Is(err, errMoved) {
			return "", false, err
		}
		if r.opts.Moved.Attempts > 0 && moved+1 >= r.opts.Moved.Attempts {
			return "", false, fault.New(fault.Unavailable, "gitops: %s kept moving: %d pushes of %s were refused", redact(r.opts.URL), moved+1, c.Path)
		}
		if err := sleep(ctx, r.opts.Moved.Wait(moved)); err != nil {
			return "", false, fault.Wrap(fault.Unavailable, err, "gitops: %s kept moving while %s was pushed", redact(r.opts.URL), c.Path)
		}
	}
}

// Read implements ports.GitOps.
func (r *Repository) Read(ctx context.Context, p string) ([]byte, string, error) {
	parts, err := splitPath(p)
	if err != nil {
		return nil, "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	head, err := r.fetch(ctx)
	if err != nil {
		return nil, "", err
	}
	if head.IsZero() {
		return nil, "", fault.New(fault.NotFound, "gitops: %s is empty: no %s", redact(r.opts.URL), p)
	}
	commit, err := r.repo.CommitObject(head)
	if err != nil {
		return nil, "", fault.Wrap(fault.Internal, err, "gitops: reading commit %s", head)
	}
	f, err := commit.File(strings.Join(parts, "/"))
	if errors.Is(err, object.ErrFileNotFound) || errors.Is(err, object.ErrDirectoryNotFound) || errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, "", fault.New(fault.NotFound, "gitops: no %s at %s", p, head)
	}
	if err != nil {
		return nil, "", fault.Wrap(fault.Internal, err, "gitops: reading %s at %s", p, head)
	}
	content, err := f.Contents()
	if err != nil {
		return nil, "", fault.Wrap(fault.Internal, err, "gitops: reading %s at %s", p, head)
	}
	return []byte(content), head.String(), nil
}

// errMoved says a push was refused because the remote's branch moved.
var errMoved = errors.New("the remote moved")

// fetch brings the branch's head from the remote and returns it (zero
// for an empty remote or a branch not made yet); an unreachable remote
// is tried again with the Unreachable policy.
func (r *Repository) fetch(ctx context.Context) (plumbing.Hash, error) {
	spec := gitconfig.RefSpec("+" + r.localRef.String() + ":" + r.remoteRef.String())
	for attempt := 0; ; attempt++ {
		err := r.repo.FetchContext(ctx, &git.FetchOptions{RemoteName: "origin", RefSpecs: []gitconfig.RefSpec{spec}, Auth: r.opts.Auth, Force: true, Tags: git.NoTags})
		switch {
		case err == nil, errors.Is(err, git.NoErrAlreadyUpToDate):
			ref, err := r.repo.Reference(r.remoteRef, true)
			if err != nil {
				return plumbing.ZeroHash, nil // fetched before, then the branch was deleted: start it again
			}
			return ref.Hash(), nil
		case errors.Is(err, transport.ErrEmptyRemoteRepository), isNoBranch(err):
			_ = r.repo.Storer.RemoveReference(r.remoteRef)
			return plumbing.ZeroHash, nil
		}
		if err := r.classify(err, "fetching"); !fault.Is(err, fault.Unavailable) || ctx.Err() != nil {
			return plumbing.ZeroHash, err
		} else if attempt+1 >= r.opts.Unreachable.Attempts && r.opts.Unreachable.Attempts > 0 {
			return plumbing.ZeroHash, err
		}
		if err := sleep(ctx, r.opts.Unreachable.Wait(attempt)); err != nil {
			return plumbing.ZeroHash, fault.Wrap(fault.Unavailable, err, "gitops: fetching from %s", redact(r.opts.URL))
		}
	}
}

// push pushes commit as the branch, without force: errMoved when the
// remote refuses it because its branch moved.
func (r *Repository) push(ctx context.Context, commit plumbing.Hash) error {
	if err := r.repo.Storer.SetReference(plumbing.NewHashReference(r.localRef, commit)); err != nil {
		return fault.Wrap(fault.Internal, err, "gitops: setting %s", r.localRef)
	}
	spec := gitconfig.RefSpec(r.localRef.String() + ":" + r.localRef.String())
	for attempt := 0; ; attempt++ {
		err := r.repo.PushContext(ctx, &git.PushOptions{RemoteName: "origin", RefSpecs: []gitconfig.RefSpec{spec}, Auth: r.opts.Auth})
		if err == nil || errors.Is(err, git.NoErrAlreadyUpToDate) {
			return nil
		}
		if strings.Contains(err.Error(), "non-fast-forward") || strings.Contains(err.Error(), "fetch first") || strings.Contains(err.Error(), "failed to update ref") ||
			strings.Contains(err.Error(), "failed to lock") || strings.Contains(err.Error(), "cannot lock ref") {
			return errMoved
		}
		cerr := r.classify(err, "pushing to")
		if !fault.Is(cerr, fault.Unavailable) || ctx.Err() != nil || (r.opts.Unreachable.Attempts > 0 && attempt+1 >= r.opts.Unreachable.Attempts) {
			return cerr
		}
		if err := sleep(ctx, r.opts.Unreachable.Wait(attempt)); err != nil {
			return fault.Wrap(fault.Unavailable, err, "gitops: pushing to %s", redact(r.opts.URL))
		}
	}
}

// commit writes the change on head (zero: an empty branch) as a new
// commit, unless the file holds that content already (changed=false and
// the head returned).
func (r *Repository) commit(head plumbing.Hash, parts []string, c ports.GitOpsChange) (plumbing.Hash, bool, error) {
	blob, err := r.store(plumbing.BlobObject, func(w io.Writer) error { _, err := w.Write(c.Content); return err })
	if err != nil {
		return plumbing.ZeroHash, false, err
	}
	var root *object.Tree
	var parents []plumbing.Hash
	if !head.IsZero() {
		hc, err := r.repo.CommitObject(head)
		if err != nil {
			return plumbing.ZeroHash, false, fault.Wrap(fault.Internal, err, "gitops: reading commit %s", head)
		}
		if root, err = hc.Tree(); err != nil {
			return plumbing.ZeroHash, false, fault.Wrap(fault.Internal, err, "gitops: reading the tree of %s", head)
		}
		parents = []plumbing.Hash{head}
	}
	tree, same, err := r.put(root, parts, blob)
	if err != nil || same {
		return head, false, err
	}
	author := signature(c.Author, c.When)
	if author.Name == "" {
		author = signature(r.opts.Committer, c.When)
	}
	committer := r.committer
	committer.When = c.When
	commit := &object.Commit{Author: author, Committer: committer, Message: strings.TrimRight(c.Message, "\n") + "\n", TreeHash: tree, ParentHashes: parents}
	obj := r.repo.Storer.NewEncodedObject()
	if err := commit.Encode(obj); err != nil {
		return plumbing.ZeroHash, false, fault.Wrap(fault.Internal, err, "gitops: writing the commit")
	}
	hash, err := r.repo.Storer.SetEncodedObject(obj)
	if err != nil {
		return plumbing.ZeroHash, false, fault.Wrap(fault.Internal, err, "gitops: storing the commit")
	}
	return hash, true, nil
}

// put returns the tree that is t (nil: empty) with the blob at the path
// of parts, writing the trees on the way; same says t holds that blob
// there already.
func (r *Repository) put(t *object.Tree, parts []string, blob plumbing.Hash) (plumbing.Hash, bool, error) {
	var entries []object.TreeEntry
	if t != nil {
		entries = append(entries, t.Entries...)
	}
	name := parts[0]
	i := indexOf(entries, name)
	var entry object.TreeEntry
	if len(parts) == 1 {
		if i >= 0 && entries[i].Hash == blob && entries[i].Mode == filemode.Regular {
			return plumbing.ZeroHash, true, nil
		}
		entry = object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: blob}
	} else {
		var sub *object.Tree
		if i >= 0 && entries[i].Mode == filemode.Dir {
			var err error
			if sub, err = r.repo.TreeObject(entries[i].Hash); err != nil {
				return plumbing.ZeroHash, false, fault.Wrap(fault.Internal, err, "gitops: reading tree %s", entries[i].Hash)
			}
		}
		h, same, err := r.put(sub, parts[1:], blob)
		if err != nil || same {
			return plumbing.ZeroHash, same, err
		}
		entry = object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h}
	}
	if i >= 0 {
		entries[i] = entry
	} else {
		entries = append(entries, entry)
	}
	sort.Sort(object.TreeEntrySorter(entries))
	tree := &object.Tree{Entries: entries}
	obj := r.repo.Storer.NewEncodedObject()
	if err := tree.Encode(obj); err != nil {
		return plumbing.ZeroHash, false, fault.Wrap(fault.Internal, err, "gitops: writing a tree")
	}
	h, err := r.repo.Storer.SetEncodedObject(obj)
	if err != nil {
		return plumbing.ZeroHash, false, fault.Wrap(fault.Internal, err, "gitops: storing a tree")
	}
	return h, false, nil
}

func indexOf(entries []object.TreeEntry, name string) int {
	for i, e := range entries {
		if e.Name == name {
			return i
		}
	}
	return -1
}

// store writes an object of type t.
func (r *Repository) store(t plumbing.ObjectType, write func(io.Writer) error) (plumbing.Hash, error) {
	obj := r.repo.Storer.NewEncodedObject()
	obj.SetType(t)
	w, err := obj.Writer()
	if err == nil {
		err = write(w)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return plumbing.ZeroHash, fault.Wrap(fault.Internal, err, "gitops: writing an object")
	}
	h, err := r.repo.Storer.SetEncodedObject(obj)
	if err != nil {
		return plumbing.ZeroHash, fault.Wrap(fault.Internal, err, "gitops: storing an object")
	}
	return h, nil
}

// classify turns a transport error into a fault: refused credentials are
// PermissionDenied, the rest Unavailable, naming the remote without its
// credentials.
func (r *Repository) classify(err error, op string) error {
	where := redact(r.opts.URL)
	switch {
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed), errors.Is(err, transport.ErrInvalidAuthMethod):
		return fault.Wrap(fault.PermissionDenied, err, "gitops: %s %s: the remote refused the credentials", op, where)
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return fault.Wrap(fault.Unavailable, err, "gitops: %s %s: no repository there", op, where)
	}
	return fault.New(fault.Unavailable, "gitops: %s %s: %s", op, where, redact(err.Error()))
}

// isNoBranch says a fetch found the remote without the branch.
func isNoBranch(err error) bool {
	var nm git.NoMatchingRefSpecError
	return errors.As(err, &nm) || strings.Contains(err.Error(), "couldn't find remote ref")
}

// splitPath checks a change's path: relative, clean, inside the
// repository, not under .git.
func splitPath(p string) ([]string, error) {
	if p == "" || path.IsAbs(p) || path.Clean(p) != p || p == "." || strings.HasPrefix(p, "../") || p == ".." {
		return nil, fault.New(fault.Validation, "gitops: %q is not a clean path inside the repository", p)
	}
	parts := strings.Split(p, "/")
	for _, part := range parts {
		if part == ".git" || strings.ContainsRune(part, 0) {
			return nil, fault.New(fault.Validation, "gitops: %q is not a path a change may write", p)
		}
	}
	return parts, nil
}

// signature reads "Name <email>" (or a bare name) at when.
func signature(who string, when time.Time) object.Signature {
	if a, err := mail.ParseAddress(who); err == nil {
		return object.Signature{Name: a.Name, Email: a.Address, When: when}
	}
	return object.Signature{Name: who, When: when}
}

// redact removes credentials from a URL or a message holding one.
func redact(s string) string {
	for {
		scheme := strings.Index(s, "://")
		if scheme < 0 {
			return s
		}
		rest := s[scheme+3:]
		at := strings.IndexByte(rest, '@')
		end := strings.IndexAny(rest, "/ ")
		if at < 0 || (end >= 0 && at > end) {
			return s
		}
		return s[:scheme+3] + "***" + redact(rest[at:])
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// String names the repository without credentials.
func (r *Repository) String() string {
	return fmt.Sprintf("gitops(%s, branch %s)", redact(r.opts.URL), r.opts.Branch)
}
