package publishing

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"time"

	"github.com/catalyst-forge/forge/domain/artifact"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/oci"
	"github.com/catalyst-forge/forge/ports"
)

// Media types, annotations and the artifact type of tracking images
// (spec 01, Artifact OCI Tracking Images). The SBOM is an SPDX 2.3 JSON
// document, so its layer says application/spdx+json (spec 04: SBOMs
// follow SPDX).
const (
	ArtifactTypeTracking    = "application/vnd.forge.artifact.tracking.v1"
	MediaTypeTrackingMeta   = "application/vnd.forge.artifact.metadata.v1+json"
	MediaTypeSPDX           = "application/spdx+json"
	MediaTypeInToto         = "application/vnd.in-toto+json"
	AnnotationLayerType     = "org.catalyst-forge.layer.type"
	predicateSLSAProvenance = "https://slsa.dev/provenance/v1"
	builderID               = "https://catalyst-forge.dev/worker"
)

// imageName is what a path component of an image name may be.
var imageName = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)

// TrackingRepository is where the tracking images of an artifact go:
// [tracking]/[repository]/[project]/[artifact].
func TrackingRepository(tracking, repository, project, name string) (string, error) {
	for _, part := range append(strings.Split(repository, "/"), project, name) {
		if !imageName.MatchString(part) {
			return "", fault.New(fault.Validation, "%q cannot be part of an image name (lowercase letters, digits, and . _ - between them)", part)
		}
	}
	return strings.TrimSuffix(tracking, "/") + "/" + repository + "/" + project + "/" + name, nil
}

// trackingMetadata is the metadata layer: what was built, from what, how
// and where it went. Times come from the commit, and nothing that differs
// between two builds of the same commit (a run ID, whether a publisher
// pushed or found its content present) is in it, so the tracking image
// of a rebuild is the same image.
type trackingMetadata struct {
	Artifact struct {
		Name    string `json:"name"`
		Type    string `json:"type"`
		Project string `json:"project"`
	} `json:"artifact"`
	Source struct {
		Repository string    `json:"repository"`
		Commit     string    `json:"commit"`
		Path       string    `json:"path"`
		CommitTime time.Time `json:"commitTime"`
	} `json:"source"`
	Build struct {
		Producer string    `json:"producer"`
		BuiltAt  time.Time `json:"builtAt"`
		Builder  string    `json:"builder"`
	} `json:"build"`
	Output     map[string]any               `json:"output"`
	Publishers map[string]publishedLocation `json:"publishers"`
}

type publishedLocation struct {
	Type   string         `json:"type"`
	Fields map[string]any `json:"fields"`
}

func producerName(p config.Producer) string {
	if p.Earthly != nil {
		return "earthly"
	}
	return "script"
}

// trackingLayers builds the metadata, SBOM and attestation documents.
func trackingLayers(req Request, out artifact.Output) (meta, sbom, attestation []byte, err error) {
	var m trackingMetadata
	m.Artifact.Name, m.Artifact.Type, m.Artifact.Project = req.Name, string(req.Artifact.Type), req.Project
	m.Source.Repository, m.Source.Commit, m.Source.Path, m.Source.CommitTime = req.Repository, req.CommitSHA, req.ProjectPath, req.CommitTime.UTC()
	m.Build.Producer, m.Build.BuiltAt, m.Build.Builder = producerName(req.Artifact.Producer), req.CommitTime.UTC(), builderID
	m.Output = out.View()
	delete(m.Output, "publishers")
	m.Publishers = map[string]publishedLocation{}
	for name, p := range out.Publishers {
		if p.Status != artifact.Failed {
			m.Publishers[name] = publishedLocation{Type: p.Type, Fields: maps.Clone(p.Fields)}
		}
	}
	if meta, err = json.Marshal(m); err != nil {
		return nil, nil, nil, err
	}
	digest, _ := out.Producer["digest"].(string)
	hexDigest := strings.TrimPrefix(digest, "sha256:")
	purpose := map[string]string{"container": "CONTAINER", "binary": "APPLICATION", "archive": "ARCHIVE"}[string(req.Artifact.Type)]
	pkgID := "SPDXRef-Package-" + req.Name
	if sbom, err = json.Marshal(map[string]any{
		"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
		"name":              req.Project + "/" + req.Name,
		"documentNamespace": fmt.Sprintf("https://catalyst-forge.dev/spdx/%s/%s/%s/%s", req.Repository, req.Project, req.Name, req.CommitSHA),
		"creationInfo":      map[string]any{"created": req.CommitTime.UTC().Format(time.RFC3339), "creators": []string{"Tool: catalyst-forge"}},
		"packages": []map[string]any{{
			"name": req.Name, "SPDXID": pkgID, "versionInfo": req.CommitSHA, "downloadLocation": "NOASSERTION",
			"filesAnalyzed": false, "primaryPackagePurpose": purpose,
			"checksums": []map[string]string{{"algorithm": "SHA256", "checksumValue": hexDigest}},
		}},
		"relationships": []map[string]string{{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": pkgID}},
	}); err != nil {
		return nil, nil, nil, err
	}
	if attestation, err = json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []map[string]any{{"name": req.Name, "digest": map[string]string{"sha256": hexDigest}}},
		"predicateType": predicateSLSAProvenance,
		"predicate": map[string]any{
			"buildDefinition": map[string]any{
				"buildType":          "https://catalyst-forge.dev/artifact/" + producerName(req.Artifact.Producer) + "/v1",
				"externalParameters": map[string]any{"repository": req.Repository, "project": req.Project, "path": req.ProjectPath, "artifact": req.Name},
				"resolvedDependencies": []map[string]any{{
					"uri": "git+" + req.Repository, "digest": map[string]string{"gitCommit": req.CommitSHA},
				}},
			},
			"runDetails": map[string]any{"builder": map[string]string{"id": builderID}},
		},
	}); err != nil {
		return nil, nil, nil, err
	}
	return meta, sbom, attestation, nil
}

// track pushes the tracking image of out and signs it. Pushing the same
// image again does nothing; an existing signature by the same key is kept.
func (s *Service) track(ctx context.Context, req Request, out artifact.Output) (*artifact.Tracking, error) {
	host, _, _ := strings.Cut(s.Tracking, "/")
	repo, err := TrackingRepository(s.Tracking, req.Repository, req.Project, req.Name)
	if err != nil {
		return nil, err
	}
	meta, sbom, att, err := trackingLayers(req, out)
	if err != nil {
		return nil, err
	}
	empty := ports.BytesBlob(oci.MediaTypeEmptyJSON, []byte("{}"))
	blobs := []ports.Blob{empty}
	var layers []oci.Descriptor
	for _, l := range []struct {
		mediaType, kind string
		b               []byte
	}{{MediaTypeTrackingMeta, "metadata", meta}, {MediaTypeSPDX, "sbom", sbom}, {MediaTypeInToto, "attestation", att}} {
		b := ports.BytesBlob(l.mediaType, l.b)
		b.Annotations = map[string]string{AnnotationLayerType: l.kind}
		blobs = append(blobs, b)
		layers = append(layers, b.Descriptor)
	}
	manifest, err := json.Marshal(oci.Manifest{SchemaVersion: 2, MediaType: oci.MediaTypeImageManifest, ArtifactType: ArtifactTypeTracking,
		Config: empty.Descriptor, Layers: layers, Annotations: map[string]string{
			"org.opencontainers.image.created":  req.CommitTime.UTC().Format(time.RFC3339),
			"org.opencontainers.image.revision": req.CommitSHA,
			"org.opencontainers.image.source":   req.Repository,
			"org.opencontainers.image.title":    req.Project + "/" + req.Name,
		}})
	if err != nil {
		return nil, err
	}
	reg, err := s.Registry(ctx, host, nil)
	if err != nil {
		return nil, err
	}
	digest := oci.DigestOf(manifest)
	ref := repo + ":sha-" + req.CommitSHA
	if d, err := reg.Resolve(ctx, ref); err != nil || d.Digest != digest {
		if err != nil && !fault.Is(err, fault.NotFound) {
			return nil, err
		}
		for _, b := range blobs {
			if err := reg.PushBlob(ctx, repo, b); err != nil {
				return nil, err
			}
		}
		if _, err := reg.PushManifest(ctx, ref, ports.RawManifest{MediaType: oci.MediaTypeImageManifest, Bytes: manifest}); err != nil {
			return nil, err
		}
	}
	if s.Signer != nil {
		if err := s.Signer.SignImage(ctx, reg, repo, digest); err != nil {
			return nil, fmt.Errorf("signing: %w", err)
		}
	}
	return &artifact.Tracking{URI: ref, Digest: string(digest)}, nil
}
