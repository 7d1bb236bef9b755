package publishing

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/catalyst-forge/forge/application/signing"
	"github.com/catalyst-forge/forge/domain/artifact"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/ports"
)

// Service builds and publishes artifacts. Safe for concurrent use.
type Service struct {
	// Steps runs script producers.
	Steps ports.StepExecutor
	// Registry returns a client for a registry host, authenticated with
	// credentials (a secret reference of the repository's publisher
	// configuration, resolved at the point of use) or, without them, as
	// the worker's own configuration says.
	Registry func(ctx context.Context, host string, credentials *config.SecretRef) (ports.Registry, error)
	// GitHub returns a client of GitHub's release API authenticated with
	// credentials (a publisher's secret reference, resolved at the point
	// of use); nil makes github publishers fail saying so.
	GitHub func(ctx context.Context, credentials *config.SecretRef) (ports.GitHubReleases, error)
	// Objects returns the object store of a docs publisher's bucket
	// (its settings: bucket, region, endpoint; its credentials resolved
	// at the point of use) and what releases it once the publisher is
	// done; nil makes docs publishers fail saying so.
	Objects func(ctx context.Context, publisher config.Publisher) (ports.ObjectStore, func(), error)
	// Signer signs tracking images; nil leaves them unsigned.
	Signer *signing.Signer
	// Tracking is where tracking images go: a registry host and an
	// optional path ("registry.example.com/forge-tracking").
	Tracking string
	// Override, when set, replaces the registry host of every docker
	// publisher: on one machine everything goes to the local registry.
	Override string
}

// Request is one artifact to build and publish.
type Request struct {
	RunID      string
	Repository string // owner/name
	CommitSHA  string
	CommitTime time.Time
	// Dir is the checkout; ProjectPath the project directory in it.
	Dir, Project, ProjectPath string
	Name                      string
	Artifact                  config.Artifact
	// Publishers are the repository's publisher configurations.
	Publishers map[string]config.Publisher
	// Previous is an earlier attempt's outcome: publishers that succeeded
	// then are not run again.
	Previous *artifact.Output
	// Env holds context variables for the producer (FORGE_RUN_ID...).
	Env map[string]string
	// Log receives the producer's output and a line per publisher.
	Log io.Writer
}

// Build produces the artifact, publishes it and pushes its tracking
// image. The outcome says what failed, if anything: a producer failure
// fails the artifact and publishes nothing; publisher failures are
// recorded per publisher, and the tracking image records the rest. An
// error means the context ended.
func (s *Service) Build(ctx context.Context, req Request) (artifact.Output, error) {
	out := artifact.Output{Name: req.Name, Project: req.Project, Type: string(req.Artifact.Type), Publishers: map[string]artifact.Publication{}}
	if req.Log == nil {
		req.Log = io.Discard
	}
	staging, err := os.MkdirTemp("", "forge-staging-")
	if err != nil {
		out.Error = "no staging directory could be made on this worker"
		return out, nil
	}
	defer os.RemoveAll(staging)
	fmt.Fprintf(req.Log, "[forge] building artifact %s (%s)\n", req.Name, req.Artifact.Type)
	p, err := s.produce(ctx, req, staging)
	if ctx.Err() != nil {
		return out, context.Cause(ctx)
	}
	if err != nil {
		out.Error = err.Error()
		fmt.Fprintf(req.Log, "[forge] artifact %s failed: %s\n", req.Name, out.Error)
		return out, nil
	}
	out.Producer = p.fields
	for _, name := range slices.Sorted(maps.Keys(req.Artifact.Publishers)) {
		if prev, ok := previous(req.Previous, name); ok {
			out.Publishers[name] = prev
			fmt.Fprintf(req.Log, "[forge] publisher %s: done in an earlier attempt (%s)\n", name, prev.Fields["uri"])
			continue
		}
		pub := s.publish(ctx, req, name, p)
		if ctx.Err() != nil {
			return out, context.Cause(ctx)
		}
		out.Publishers[name] = pub
		switch pub.Status {
		case artifact.Failed:
			fmt.Fprintf(req.Log, "[forge] publisher %s failed: %s\n", name, pub.Error)
		default:
			fmt.Fprintf(req.Log, "[forge] publisher %s: %s %s\n", name, pub.Status, pub.Fields["uri"])
		}
	}
	if s.Tracking != "" {
		tr, err := s.track(ctx, req, out)
		if ctx.Err() != nil {
			return out, context.Cause(ctx)
		}
		if err != nil {
			out.Error = "its tracking image could not be pushed: " + err.Error()
			fmt.Fprintf(req.Log, "[forge] %s\n", out.Error)
			return out, nil
		}
		out.Tracking = tr
		fmt.Fprintf(req.Log, "[forge] tracking image %s@%s\n", tr.URI, tr.Digest)
	}
	return out, nil
}

// publish runs one publisher.
func (s *Service) publish(ctx context.Context, req Request, name string, p *produced) artifact.Publication {
	repoCfg, ok := req.Publishers[name]
	if !ok {
		return artifact.Publication{Status: artifact.Failed, Error: fmt.Sprintf("the repository defines no publisher %q", name)}
	}
	pub := artifact.Publication{Type: repoCfg.Type}
	var fields map[string]any
	var present bool
	var err error
	switch repoCfg.Type {
	case "docker":
		fields, present, err = s.docker(ctx, req, repoCfg, req.Artifact.Publishers[name], p)
	case "github":
		fields, present, err = s.github(ctx, req, repoCfg, req.Artifact.Publishers[name], p)
	case "docs":
		fields, present, err = s.docs(ctx, req, repoCfg, req.Artifact.Publishers[name], p)
	case "cue":
		fields, present, err = s.cue(ctx, req, repoCfg, req.Artifact.Publishers[name], p)
	default:
		err = fmt.Errorf("publishers of type %s are not available on this worker yet", repoCfg.Type)
	}
	switch {
	case err != nil:
		pub.Status, pub.Error = artifact.Failed, err.Error()
	case present:
		pub.Status, pub.Fields = artifact.Present, fields
	default:
		pub.Status, pub.Fields = artifact.Published, fields
	}
	return pub
}

// previous is publisher name's outcome in an earlier attempt, when it
// did not fail.
func previous(o *artifact.Output, name string) (artifact.Publication, bool) {
	if o == nil {
		return artifact.Publication{}, false
	}
	p, ok := o.Publishers[name]
	return p, ok && p.Status != artifact.Failed
}
