// Package githubreleases implements ports.GitHubReleases over GitHub's
// REST API (api.github.com, or a GitHub Enterprise server's /api/v3):
// getting or creating the release of a tag, and uploading an asset to its
// upload URL. It is in the adapters layer (adapters/onprem).
package githubreleases

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// DefaultAPI is github.com's API.
const DefaultAPI = "https://api.github.com"

// Client speaks GitHub's REST API with a token.
type Client struct {
	// API is the API's base URL (DefaultAPI when empty).
	API string
	// Token is a personal access token, a GitHub App installation token or
	// the Actions GITHUB_TOKEN; it is sent only to API's host and to the
	// upload URLs GitHub gives.
	Token string
	// HTTP is the client (a default with a 5 minute timeout when nil).
	HTTP *http.Client
}

var _ ports.GitHubReleases = (*Client)(nil)

type release struct {
	ID        int64   `json:"id"`
	TagName   string  `json:"tag_name"`
	HTMLURL   string  `json:"html_url"`
	UploadURL string  `json:"upload_url"`
	Assets    []asset `json:"assets"`
}

type asset struct {
	Name               string `json:"name"`
	Size               int64  `json:"size"`
	Digest             string `json:"digest"`
	BrowserDownloadURL string `json:"browser_download_url"`
}

func (r release) port() ports.GitHubRelease {
	out := ports.GitHubRelease{ID: r.ID, Tag: r.TagName, HTMLURL: r.HTMLURL, UploadURL: r.UploadURL}
	for _, a := range r.Assets {
		out.Assets = append(out.Assets, a.port())
	}
	return out
}

func (a asset) port() ports.GitHubAsset {
	return ports.GitHubAsset{Name: a.Name, Size: a.Size, Digest: a.Digest, DownloadURL: a.BrowserDownloadURL}
}

func (c *Client) api() string {
	if c.API == "" {
		return DefaultAPI
	}
	return strings.TrimSuffix(c.API, "/")
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 5 * time.Minute}
}

// do sends a request and decodes a JSON answer into out; what names the
// action for errors.
func (c *Client) do(ctx context.Context, method, u string, body io.Reader, size int64, contentType string, out any, what string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, fault.New(fault.Validation, "github: %s: bad URL", what)
	}
	if size >= 0 && body != nil {
		req.ContentLength = size
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", "catalyst-forge")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.http().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, fault.New(fault.Unavailable, "github: %s: GitHub cannot be reached", what)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return resp.StatusCode, fault.New(fault.NotFound, "github: %s: not found (or the token may not see it)", what)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return resp.StatusCode, fault.New(fault.PermissionDenied, "github: %s: GitHub refused the token (%d)", what, resp.StatusCode)
	case resp.StatusCode == http.StatusUnprocessableEntity:
		var e struct {
			Errors []struct {
				Code string `json:"code"`
			} `json:"errors"`
		}
		_ = json.Unmarshal(b, &e)
		for _, x := range e.Errors {
			if x.Code == "already_exists" {
				return resp.StatusCode, fault.New(fault.Conflict, "github: %s: it exists already", what)
			}
		}
		return resp.StatusCode, fault.New(fault.Validation, "github: %s: GitHub refused the request (422)", what)
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return resp.StatusCode, fault.New(fault.Unavailable, "github: %s: GitHub answered %d", what, resp.StatusCode)
	case resp.StatusCode >= 300:
		return resp.StatusCode, fault.New(fault.Validation, "github: %s: GitHub answered %d", what, resp.StatusCode)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fault.New(fault.Unavailable, "github: %s: GitHub's answer is not JSON", what)
		}
	}
	return resp.StatusCode, nil
}

// Release returns the release of tag, creating it when missing.
func (c *Client) Release(ctx context.Context, owner, repo, tag, commit string) (ports.GitHubRelease, error) {
	base := fmt.Sprintf("%s/repos/%s/%s/releases", c.api(), url.PathEscape(owner), url.PathEscape(repo))
	var r release
	_, err := c.do(ctx, http.MethodGet, base+"/tags/"+url.PathEscape(tag), nil, -1, "", &r, "reading release "+tag+" of "+owner+"/"+repo)
	if err == nil {
		return r.port(), nil
	}
	if !fault.Is(err, fault.NotFound) {
		return ports.GitHubRelease{}, err
	}
	body, _ := json.Marshal(map[string]any{"tag_name": tag, "target_commitish": commit, "name": tag, "draft": false, "prerelease": false})
	_, err = c.do(ctx, http.MethodPost, base, bytes.NewReader(body), int64(len(body)), "application/json", &r, "creating release "+tag+" of "+owner+"/"+repo)
	if fault.Is(err, fault.Conflict) {
		// Created meanwhile by another worker: read it.
		_, err = c.do(ctx, http.MethodGet, base+"/tags/"+url.PathEscape(tag), nil, -1, "", &r, "reading release "+tag+" of "+owner+"/"+repo)
	}
	if err != nil {
		return ports.GitHubRelease{}, err
	}
	return r.port(), nil
}

// Upload adds content as the asset name of rel.
func (c *Client) Upload(ctx context.Context, rel ports.GitHubRelease, name string, size int64, content io.Reader) (ports.GitHubAsset, error) {
	upload, _, _ := strings.Cut(rel.UploadURL, "{")
	u, err := url.Parse(upload)
	if err != nil || u.Scheme == "" || upload == "" {
		return ports.GitHubAsset{}, fault.New(fault.Validation, "github: release %s has no upload URL", rel.Tag)
	}
	q := u.Query()
	q.Set("name", name)
	u.RawQuery = q.Encode()
	var a asset
	if _, err := c.do(ctx, http.MethodPost, u.String(), content, size, "application/octet-stream", &a, "uploading "+name+" to release "+rel.Tag); err != nil {
		return ports.GitHubAsset{}, err
	}
	return a.port(), nil
}
