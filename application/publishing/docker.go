package publishing

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/oci"
	"github.com/catalyst-forge/forge/ports"
)

// docker pushes a container artifact to <registry>[/<namespace>]/<name>
// under each tag of the project's configuration ("sha-<commit>" when it
// names none). A tag that holds the same digest already is left alone;
// present says every tag did, so nothing was pushed.
func (s *Service) docker(ctx context.Context, req Request, repoCfg config.Publisher, projectCfg map[string]any, p *produced) (map[string]any, bool, error) {
	if p.image == nil {
		return nil, false, fmt.Errorf("docker publishes container artifacts, and %s is a %s", req.Name, req.Artifact.Type)
	}
	host, _ := repoCfg.Settings["registry"].(string)
	if s.Override != "" {
		host = s.Override
	}
	if host == "" {
		return nil, false, errors.New("the publisher names no registry")
	}
	namespace, _ := repoCfg.Settings["namespace"].(string)
	path := strings.Trim(strings.Join([]string{strings.Trim(namespace, "/"), req.Name}, "/"), "/")
	repo := host + "/" + path
	tags, err := tagsOf(projectCfg, req.CommitSHA)
	if err != nil {
		return nil, false, err
	}
	reg, err := s.Registry(ctx, host, repoCfg.Credentials)
	if err != nil {
		return nil, false, err
	}
	digest := p.image.desc.Digest
	pushed := false
	for _, tag := range tags {
		if d, err := reg.Resolve(ctx, repo+":"+tag); err == nil && d.Digest == digest {
			continue
		} else if err != nil && !fault.Is(err, fault.NotFound) {
			return nil, false, err
		}
		if !pushed {
			if err := pushImage(ctx, reg, repo, p.image); err != nil {
				return nil, false, err
			}
			pushed = true
		}
		if _, err := reg.PushManifest(ctx, repo+":"+tag, p.image.root); err != nil {
			return nil, false, err
		}
	}
	return map[string]any{
		"uri": repo + "@" + string(digest), "registry": host, "namespace": namespace, "repository": path,
		"tag": tags[0], "tags": tags, "digest": string(digest),
	}, !pushed, nil
}

// pushImage pushes an image's blobs and the manifests its index names;
// the caller pushes the image itself under its tags.
func pushImage(ctx context.Context, reg ports.Registry, repo string, im *stagedImage) error {
	for _, b := range im.blobs {
		if err := reg.PushBlob(ctx, repo, b); err != nil {
			return err
		}
	}
	for _, m := range im.children {
		if _, err := reg.PushManifest(ctx, repo+"@"+string(oci.DigestOf(m.Bytes)), m); err != nil {
			return err
		}
	}
	return nil
}

// tagsOf reads the tags of a project's docker publisher configuration.
func tagsOf(projectCfg map[string]any, commit string) ([]string, error) {
	raw, ok := projectCfg["tags"]
	if !ok {
		return []string{"sha-" + commit}, nil
	}
	list, ok := raw.([]any)
	if !ok || len(list) == 0 {
		return nil, errors.New("tags must be a non-empty list of strings")
	}
	tags := make([]string, 0, len(list))
	for _, t := range list {
		tag, ok := t.(string)
		if !ok || !validTag(tag) {
			return nil, fmt.Errorf("tag %v is not a valid image tag (letters, digits, _ . -, at most 128, not starting with . or -)", t)
		}
		tags = append(tags, tag)
	}
	return tags, nil
}

func validTag(t string) bool {
	if t == "" || len(t) > 128 || t[0] == '.' || t[0] == '-' {
		return false
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}
