package publishing

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/fault"
)

// github attaches a binary or archive artifact to the GitHub release of a
// tag (the project configuration's tag, "<project>/sha-<commit>" by
// default), creating the release when there is none, as the asset
// asset_name (default: the file's name). An asset of that name with the
// same digest is left alone (present); one with other content is an
// error, since release assets are not replaced.
func (s *Service) github(ctx context.Context, req Request, repoCfg config.Publisher, projectCfg map[string]any, p *produced) (map[string]any, bool, error) {
	if p.file == "" {
		return nil, false, fmt.Errorf("github publishes binary and archive artifacts, and %s is a %s", req.Name, req.Artifact.Type)
	}
	if s.GitHub == nil {
		return nil, false, errors.New("this worker publishes no GitHub release assets")
	}
	owner, _ := repoCfg.Settings["owner"].(string)
	repo, _ := repoCfg.Settings["repo"].(string)
	if owner == "" || repo == "" {
		return nil, false, errors.New("the publisher names no owner and repo")
	}
	tag, _ := projectCfg["tag"].(string)
	if tag == "" {
		tag = req.Project + "/sha-" + req.CommitSHA
	}
	name, _ := projectCfg["asset_name"].(string)
	if name == "" {
		name = filepath.Base(p.file)
	}
	digest, _ := p.fields["digest"].(string)
	size, _ := p.fields["size"].(int64)
	gh, err := s.GitHub(ctx, repoCfg.Credentials)
	if err != nil {
		return nil, false, err
	}
	rel, err := gh.Release(ctx, owner, repo, tag, req.CommitSHA)
	if err != nil {
		return nil, false, err
	}
	fields := func(downloadURL string) map[string]any {
		return map[string]any{"uri": downloadURL, "download_url": downloadURL, "release_url": rel.HTMLURL, "asset_name": name, "tag": tag}
	}
	for _, a := range rel.Assets {
		if a.Name != name {
			continue
		}
		if a.Digest == digest {
			return fields(a.DownloadURL), true, nil
		}
		return nil, false, fmt.Errorf("release %s already has an asset %s with other content (%s)", tag, name, orUnknown(a.Digest))
	}
	f, err := os.Open(p.file)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	a, err := gh.Upload(ctx, rel, name, size, f)
	if fault.Is(err, fault.Conflict) {
		return nil, false, fmt.Errorf("release %s got an asset %s from elsewhere meanwhile", tag, name)
	}
	if err != nil {
		return nil, false, err
	}
	return fields(a.DownloadURL), false, nil
}

func orUnknown(digest string) string {
	if digest == "" {
		return "GitHub gives no digest"
	}
	return digest
}
