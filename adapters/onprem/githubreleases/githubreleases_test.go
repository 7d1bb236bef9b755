package githubreleases_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/catalyst-forge/forge/adapters/onprem/githubreleases"
	"github.com/catalyst-forge/forge/domain/fault"
)

// gitHub is a stand-in speaking GitHub's REST API for releases and their
// assets (GitHub cannot be reached from these machines): the protocol
// boundary the adapter is tested at.
type gitHub struct {
	srv      *httptest.Server
	token    string
	mu       sync.Mutex
	releases map[string]map[string]any // by tag
	assets   map[int64][]map[string]any
	nextID   int64
}

func newGitHub(t *testing.T) *gitHub {
	g := &gitHub{token: "ghs_test", releases: map[string]map[string]any{}, assets: map[int64][]map[string]any{}}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gitHub) reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (g *gitHub) release(tag string) map[string]any {
	r := g.releases[tag]
	out := map[string]any{}
	for k, v := range r {
		out[k] = v
	}
	out["assets"] = g.assets[r["id"].(int64)]
	if out["assets"] == nil {
		out["assets"] = []any{}
	}
	return out
}

func (g *gitHub) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+g.token || r.Header.Get("X-GitHub-Api-Version") == "" {
		g.reply(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	const base = "/repos/acme/mono/releases"
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, base+"/tags/"):
		tag := strings.TrimPrefix(r.URL.Path, base+"/tags/")
		if _, ok := g.releases[tag]; !ok {
			g.reply(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
			return
		}
		g.reply(w, http.StatusOK, g.release(tag))
	case r.Method == http.MethodPost && r.URL.Path == base:
		var in struct {
			TagName         string `json:"tag_name"`
			TargetCommitish string `json:"target_commitish"`
		}
		_ = json.NewDecoder(r.Body).Decode(&in)
		if _, ok := g.releases[in.TagName]; ok {
			g.reply(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed", "errors": []map[string]string{{"resource": "Release", "code": "already_exists", "field": "tag_name"}}})
			return
		}
		g.nextID++
		g.releases[in.TagName] = map[string]any{"id": g.nextID, "tag_name": in.TagName, "target_commitish": in.TargetCommitish,
			"html_url":   "https://github.example/acme/mono/releases/tag/" + in.TagName,
			"upload_url": fmt.Sprintf("%s/uploads/%d/assets{?name,label}", g.srv.URL, g.nextID)}
		g.reply(w, http.StatusCreated, g.release(in.TagName))
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/uploads/"):
		var id int64
		fmt.Sscanf(r.URL.Path, "/uploads/%d/assets", &id)
		name := r.URL.Query().Get("name")
		for _, a := range g.assets[id] {
			if a["name"] == name {
				g.reply(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed", "errors": []map[string]string{{"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}}})
				return
			}
		}
		if r.Header.Get("Content-Type") != "application/octet-stream" || r.ContentLength < 0 {
			g.reply(w, http.StatusBadRequest, map[string]string{"message": "bad upload"})
			return
		}
		b, _ := io.ReadAll(r.Body)
		sum := sha256.Sum256(b)
		a := map[string]any{"name": name, "size": len(b), "digest": "sha256:" + hex.EncodeToString(sum[:]),
			"browser_download_url": fmt.Sprintf("https://github.example/acme/mono/releases/download/%d/%s", id, name)}
		g.assets[id] = append(g.assets[id], a)
		g.reply(w, http.StatusCreated, a)
	default:
		g.reply(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	}
}

func TestReleasesAndAssets(t *testing.T) {
	g := newGitHub(t)
	c := &githubreleases.Client{API: g.srv.URL, Token: g.token}
	ctx := context.Background()
	rel, err := c.Release(ctx, "acme", "mono", "api/sha-abc", "abc")
	if err != nil || rel.Tag != "api/sha-abc" || rel.ID == 0 || len(rel.Assets) != 0 {
		t.Fatalf("Release = %+v, %v", rel, err)
	}
	again, err := c.Release(ctx, "acme", "mono", "api/sha-abc", "abc")
	if err != nil || again.ID != rel.ID {
		t.Fatalf("Release again = %+v, %v; want the same release", again, err)
	}
	a, err := c.Upload(ctx, rel, "cli-linux-amd64", 5, strings.NewReader("hello"))
	if err != nil || a.Name != "cli-linux-amd64" || a.Size != 5 || a.Digest != "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" || a.DownloadURL == "" {
		t.Fatalf("Upload = %+v, %v", a, err)
	}
	if _, err := c.Upload(ctx, rel, "cli-linux-amd64", 5, strings.NewReader("hello")); !fault.Is(err, fault.Conflict) {
		t.Errorf("a second upload of one name: %v", err)
	}
	withAsset, _ := c.Release(ctx, "acme", "mono", "api/sha-abc", "abc")
	if len(withAsset.Assets) != 1 || withAsset.Assets[0].Digest != a.Digest {
		t.Errorf("assets = %+v", withAsset.Assets)
	}
	bad := &githubreleases.Client{API: g.srv.URL, Token: "wrong"}
	if _, err := bad.Release(ctx, "acme", "mono", "x", "abc"); !fault.Is(err, fault.PermissionDenied) || strings.Contains(err.Error(), "wrong") {
		t.Errorf("a bad token: %v", err)
	}
	if _, err := c.Release(ctx, "acme", "other", "x", "abc"); !fault.Is(err, fault.NotFound) {
		t.Errorf("another repository: %v", err)
	}
}
