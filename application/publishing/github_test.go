package publishing_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/catalyst-forge/forge/domain/artifact"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// releases is an in-memory GitHub: releases by tag with their assets.
type releases struct {
	mu      sync.Mutex
	byTag   map[string]*ports.GitHubRelease
	uploads int
}

func (g *releases) Release(_ context.Context, owner, repo, tag, _ string) (ports.GitHubRelease, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if owner+"/"+repo != "acme/mono" {
		return ports.GitHubRelease{}, fault.New(fault.NotFound, "no repository %s/%s", owner, repo)
	}
	r, ok := g.byTag[tag]
	if !ok {
		r = &ports.GitHubRelease{ID: int64(len(g.byTag) + 1), Tag: tag, HTMLURL: "https://gh/" + tag, UploadURL: "https://uploads/" + tag}
		g.byTag[tag] = r
	}
	return *r, nil
}

func (g *releases) Upload(_ context.Context, rel ports.GitHubRelease, name string, size int64, content io.Reader) (ports.GitHubAsset, error) {
	b, _ := io.ReadAll(content)
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.byTag[rel.Tag]
	for _, a := range r.Assets {
		if a.Name == name {
			return ports.GitHubAsset{}, fault.New(fault.Conflict, "asset %s exists", name)
		}
	}
	sum := sha256.Sum256(b)
	a := ports.GitHubAsset{Name: name, Size: int64(len(b)), Digest: "sha256:" + hex.EncodeToString(sum[:]), DownloadURL: "https://gh/download/" + rel.Tag + "/" + name}
	if a.Size != size {
		return ports.GitHubAsset{}, fault.New(fault.Validation, "size %d, want %d", a.Size, size)
	}
	r.Assets = append(r.Assets, a)
	g.uploads++
	return a, nil
}

func TestGitHubPublisher(t *testing.T) {
	content := "#!/bin/sh\necho hello\n"
	f := newFixture(t, producers{
		"bin": func(staging string) int {
			_ = os.WriteFile(filepath.Join(staging, "hello"), []byte(content), 0o755)
			return 0
		},
		"other": func(staging string) int {
			_ = os.WriteFile(filepath.Join(staging, "hello"), []byte("changed"), 0o755)
			return 0
		},
		"image": func(staging string) int { writeLayout(t, filepath.Join(staging, "image"), "x"); return 0 },
	})
	gh := &releases{byTag: map[string]*ports.GitHubRelease{}}
	f.svc.GitHub = func(context.Context, *config.SecretRef) (ports.GitHubReleases, error) { return gh, nil }
	ctx := context.Background()
	req := func(run string, typ config.ArtifactType, projectCfg map[string]any) (artifact.Publication, error) {
		r := request("cli", config.Artifact{Type: typ, Producer: config.Producer{Script: &config.ScriptProducer{Run: run}},
			Publishers: map[string]map[string]any{"releases": projectCfg}})
		r.Publishers["releases"] = config.Publisher{Type: "github", Settings: map[string]any{"owner": "acme", "repo": "mono"}}
		out, err := f.svc.Build(ctx, r)
		return out.Publishers["releases"], err
	}

	pub, err := req("bin", config.ArtifactBinary, map[string]any{"asset_name": "hello-linux-amd64"})
	tag := "hello/sha-" + strings.Repeat("c", 40)
	if err != nil || pub.Status != artifact.Published || pub.Fields["asset_name"] != "hello-linux-amd64" || pub.Fields["tag"] != tag ||
		pub.Fields["uri"] != "https://gh/download/"+tag+"/hello-linux-amd64" || pub.Fields["release_url"] != "https://gh/"+tag {
		t.Fatalf("first publication = %+v, %v", pub, err)
	}
	if pub, _ = req("bin", config.ArtifactBinary, map[string]any{"asset_name": "hello-linux-amd64"}); pub.Status != artifact.Present || gh.uploads != 1 {
		t.Errorf("second publication = %+v after %d uploads; want present, one upload", pub, gh.uploads)
	}
	if pub, _ = req("other", config.ArtifactBinary, map[string]any{"asset_name": "hello-linux-amd64"}); pub.Status != artifact.Failed ||
		!strings.Contains(pub.Error, "already has an asset hello-linux-amd64 with other content") {
		t.Errorf("other content under the same name = %+v", pub)
	}
	if pub, _ = req("bin", config.ArtifactBinary, map[string]any{"tag": "v1.2.0"}); pub.Status != artifact.Published || pub.Fields["asset_name"] != "hello" || pub.Fields["tag"] != "v1.2.0" {
		t.Errorf("the configured tag and the file's name = %+v", pub)
	}
	if pub, _ = req("image", config.ArtifactContainer, map[string]any{}); !strings.Contains(pub.Error, "github publishes binary and archive artifacts") {
		t.Errorf("a container = %+v", pub)
	}
}
