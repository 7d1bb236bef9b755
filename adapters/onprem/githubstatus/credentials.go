package githubstatus

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/catalyst-forge/forge/domain/fault"
)

// Credentials give the token each request to GitHub carries.
type Credentials interface {
	Token(ctx context.Context) (string, error)
}

// Token is a fixed token: a personal access token, a fine-grained token
// or the Actions GITHUB_TOKEN. It needs the "commit statuses: write" and
// "pull requests: write" permissions.
type Token string

// Token returns the token.
func (t Token) Token(context.Context) (string, error) {
	if strings.TrimSpace(string(t)) == "" {
		return "", fault.New(fault.Unauthenticated, "no GitHub token")
	}
	return strings.TrimSpace(string(t)), nil
}

// App mints installation tokens of a GitHub App: a JWT signed with the
// App's private key buys a token of the installation, kept until a
// minute before it expires. Safe for concurrent use.
type App struct {
	// AppID and InstallationID name the App and its installation on the
	// organisation or repositories the platform reports to.
	AppID, InstallationID int64
	// Key is the App's private key.
	Key *rsa.PrivateKey
	// API is GitHub's API (DefaultAPI when empty); HTTP its client.
	API  string
	HTTP *http.Client
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

// ParseAppKey reads a GitHub App's private key (PEM, PKCS#1 as GitHub
// issues it, or PKCS#8).
func ParseAppKey(pemData []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemData)
	if block == nil {
		return nil, fault.New(fault.Validation, "the GitHub App key is not PEM")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fault.Wrap(fault.Validation, err, "the GitHub App key is neither a PKCS#1 nor a PKCS#8 RSA key")
	}
	rsaKey, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fault.New(fault.Validation, "the GitHub App key is not an RSA key")
	}
	return rsaKey, nil
}

// Token returns an installation token, minting one when none is kept or
// the kept one expires within a minute.
func (a *App) Token(ctx context.Context) (string, error) {
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token != "" && now().Add(time.Minute).Before(a.expires) {
		return a.token, nil
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: a.Key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fault.Wrap(fault.Validation, err, "signing with the GitHub App key")
	}
	// GitHub allows ten minutes and clocks drift: issued a minute ago,
	// valid for nine.
	t := now()
	assertion, err := jwt.Signed(signer).Claims(jwt.Claims{
		Issuer:   strconv.FormatInt(a.AppID, 10),
		IssuedAt: jwt.NewNumericDate(t.Add(-time.Minute)),
		Expiry:   jwt.NewNumericDate(t.Add(9 * time.Minute)),
	}).Serialize()
	if err != nil {
		return "", fault.Wrap(fault.Internal, err, "signing the GitHub App's JWT")
	}
	api := a.API
	if api == "" {
		api = DefaultAPI
	}
	httpClient := a.HTTP
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	c := &client{api: strings.TrimSuffix(api, "/"), http: httpClient,
		token: func(context.Context) (string, error) { return assertion, nil }}
	var out struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	// One attempt: a retryable failure is retried by the request that
	// needed the token.
	if _, err := c.once(ctx, http.MethodPost, "/app/installations/"+strconv.FormatInt(a.InstallationID, 10)+"/access_tokens", struct{}{}, &out); err != nil {
		return "", err
	}
	if out.Token == "" {
		return "", fault.New(fault.Internal, "GitHub gave the App installation no token")
	}
	a.token, a.expires = out.Token, out.ExpiresAt
	return a.token, nil
}
