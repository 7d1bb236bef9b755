package natstransport_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/catalyst-forge/forge/transport/endpoints"
	httptransport "github.com/catalyst-forge/forge/transport/http"
	natstransport "github.com/catalyst-forge/forge/transport/nats"
)

// BenchmarkReleaseLookup looks one release up by number through the same
// services over HTTP and over NATS (an embedded server on loopback), with
// as many callers as GOMAXPROCS times 8, in the same run: the ratio of the
// two is what docs/benchmarks.md records. The rate limit is off.
func BenchmarkReleaseLookup(b *testing.B) {
	s, _, _, issuer := services(b)
	s.Releases.LookupsPerMinute = -1
	token := tokens(b, issuer)
	setup := &httptransport.Client{}
	srv := httptest.NewServer(httptransport.NewServer(httptransport.Services{Services: s}, issuer.Verifier(), quietLog()))
	b.Cleanup(srv.Close)
	setup.BaseURL = srv.URL
	setup.Token = token(carol)
	if _, _, err := setup.RegisterRepository(ctx, endpoints.RegisterRepositoryRequest{Repository: "acme/mono"}); err != nil {
		b.Fatal(err)
	}
	setup.Token = token(ci)
	if _, _, err := setup.CreateRelease(ctx, endpoints.CreateReleaseRequest{Repository: "acme/mono", Project: "api", CommitSHA: sha("c1"),
		Trigger: &endpoints.ReleaseTriggerRequest{Type: "branch_push", Branch: "main"}}); err != nil {
		b.Fatal(err)
	}
	url := embedded(b)
	ns, err := natstransport.Serve(connect(b, url), endpoints.New(s), issuer.Verifier(), quietLog(), natstransport.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ns.Close(context.Background()) })
	clientConn := connect(b, url)
	transport := &http.Transport{MaxIdleConnsPerHost: 64}
	b.Cleanup(transport.CloseIdleConnections)

	for _, c := range []struct {
		name string
		api  endpoints.API
	}{
		{"http", &httptransport.Client{BaseURL: srv.URL, Token: token(alice), HTTP: &http.Client{Transport: transport}}},
		{"nats", &natstransport.Client{Conn: clientConn, Token: token(alice)}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.api.GetRelease(ctx, "acme/mono", "api", "1"); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
