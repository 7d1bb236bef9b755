// Command forge-loadtest measures the API under load on this machine: it
// starts forge-api in-process on a loopback port over the database given,
// seeds a repository and releases, then drives release lookups
// (GET /v1/releases/{repo}/{project}/{alias}) and run creation
// (POST /v1/runs) from concurrent clients for a fixed time, and prints
// throughput and latency percentiles, each scenario beside its ceiling (a
// minimal server answering the same body from memory, driven the same
// way right after it) and the share of the ceiling it reaches: on a
// shared machine that ratio, not the absolute figure, is what compares.
// Traffic never leaves 127.0.0.1, and every loop ends with its time
// budget.
package main

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/catalyst-forge/forge/adapters/onprem/oidcauth"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/reference/forgeapi"
	"github.com/catalyst-forge/forge/transport/endpoints"
	httptransport "github.com/catalyst-forge/forge/transport/http"
)

func main() {
	database := flag.String("database", "", "database DSN (sqlite:///path or postgres://...); default: a new SQLite file")
	duration := flag.Duration("duration", 10*time.Second, "how long each scenario runs")
	workers := flag.Int("workers", 16, "concurrent clients")
	releases := flag.Int("releases", 200, "releases to seed")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*database, *duration, *workers, *releases); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(database string, duration time.Duration, workers, releases int) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "forge-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if database == "" {
		database = "sqlite://" + filepath.Join(dir, "forge.db")
	}
	if err := forgeapi.Migrate(ctx, database, io.Discard); err != nil {
		return err
	}
	keyFile := filepath.Join(dir, "dev-key.pem")
	// The spec's global limit of 1,000 lookups a minute would cap the test
	// itself: it is turned off to measure what the server can do.
	app, err := forgeapi.New(ctx, forgeapi.Options{Addr: "127.0.0.1:0", Database: database, Auth: "dev", DevKey: keyFile, Log: io.Discard, LookupsPerMinute: -1})
	if err != nil {
		return err
	}
	defer app.Close()
	srvCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = app.Run(srvCtx) }()

	issuer, err := oidcauth.LoadOrCreateDevKey(keyFile)
	if err != nil {
		return err
	}
	token := func(role identity.Role) string {
		t, err := issuer.Token("load-"+string(role), []identity.Role{role}, time.Hour)
		if err != nil {
			panic(err)
		}
		return t
	}
	base := "http://" + app.Addr()
	transport := &http.Transport{MaxIdleConns: workers * 2, MaxIdleConnsPerHost: workers * 2}
	hc := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	ops := &httptransport.Client{BaseURL: base, Token: token(identity.RoleOperator), HTTP: hc}
	ci := &httptransport.Client{BaseURL: base, Token: token(identity.RoleServiceAccount), HTTP: hc}
	// Per-repository run limits are lifted the same way, at registration.
	unlimited := &repository.Limits{MaxConcurrentRuns: 1 << 30, RunsPerMinute: 1 << 30}
	if _, _, err := ops.RegisterRepository(ctx, endpoints.RegisterRepositoryRequest{Repository: "load/monorepo", Limits: unlimited}); err != nil {
		return err
	}
	fmt.Printf("database: %s\nseeding %d releases...\n", redact(database), releases)
	for i := range releases {
		_, _, err := ci.CreateRelease(ctx, endpoints.CreateReleaseRequest{Repository: "load/monorepo", Project: "api", CommitSHA: commit("seed", i),
			Trigger: &endpoints.ReleaseTriggerRequest{Type: "tag", Tag: fmt.Sprintf("api/v1.0.%d", i)}})
		if err != nil {
			return err
		}
	}

	devToken := token(identity.RoleDeveloper)
	lookup := func(base string, i int) (*http.Request, error) {
		alias := fmt.Sprintf("v1.0.%d", i%releases)
		req, err := http.NewRequest(http.MethodGet, base+"/v1/releases/load/monorepo/api/"+alias, nil)
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+devToken)
		}
		return req, err
	}
	ciToken := token(identity.RoleServiceAccount)
	var seq atomic.Int64
	create := func(base string, _ int) (*http.Request, error) {
		body, _ := json.Marshal(endpoints.CreateRunRequest{Repository: "load/monorepo", Branch: "main", CommitSHA: commit("run", int(seq.Add(1)))})
		req, err := http.NewRequest(http.MethodPost, base+"/v1/runs", bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+ciToken)
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	}
	for _, sc := range []struct {
		name string
		make func(string, int) (*http.Request, error)
		want int
	}{
		{"GET /v1/releases/{repo}/{project}/{alias}", lookup, http.StatusOK},
		{"POST /v1/runs", create, http.StatusCreated},
	} {
		ceiling, err := newCeiling(hc, func() (*http.Request, error) { return sc.make(base, 0) }, sc.want)
		if err != nil {
			return err
		}
		res := drive(hc, func(i int) (*http.Request, error) { return sc.make(base, i) }, sc.want, workers, duration)
		top := drive(hc, func(i int) (*http.Request, error) { return sc.make(ceiling.url, i) }, sc.want, workers, duration)
		ceiling.close()
		fmt.Printf("%-44s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d  (%d requests, %d workers, %s)\n",
			sc.name, res.rate, ms(res.p50), ms(res.p99), res.errors, res.n, workers, duration)
		fmt.Printf("%-44s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d; the scenario reaches %.0f%% of it\n",
			"  ceiling (same body from memory)", top.rate, ms(top.p50), ms(top.p99), top.errors, 100*res.rate/top.rate)
	}
	return nil
}

// ceiling is a minimal net/http server on the same machine that answers
// every request with the body, status and content type one real answer
// had, from memory and with no work: what the machine and the client can
// do at best, the peer every scenario is measured beside.
type ceiling struct {
	url   string
	close func()
}

func newCeiling(hc *http.Client, make func() (*http.Request, error), want int) (*ceiling, error) {
	req, err := make()
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s answered %d, not %d: %s", req.Method, req.URL.Path, resp.StatusCode, want, body)
	}
	contentType := resp.Header.Get("Content-Type")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(want)
		_, _ = w.Write(body)
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return &ceiling{url: "http://" + l.Addr().String(), close: func() { _ = srv.Close() }}, nil
}

type result struct {
	n, errors int
	rate      float64
	p50, p99  time.Duration
}

// drive sends requests from workers goroutines until duration has passed.
func drive(hc *http.Client, make func(int) (*http.Request, error), want, workers int, duration time.Duration) result {
	var mu sync.Mutex
	var lat []time.Duration
	var errs atomic.Int64
	deadline := time.Now().Add(duration)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []time.Duration
			for i := w; time.Now().Before(deadline); i += workers {
				req, err := make(i)
				if err != nil {
					errs.Add(1)
					continue
				}
				t := time.Now()
				resp, err := hc.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != want {
					errs.Add(1)
					continue
				}
				local = append(local, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r := result{n: len(lat), errors: int(errs.Load()), rate: float64(len(lat)) / elapsed.Seconds()}
	if len(lat) > 0 {
		r.p50 = lat[len(lat)*50/100]
		r.p99 = lat[len(lat)*99/100]
	}
	return r
}

func commit(kind string, i int) string {
	sum := sha1.Sum([]byte(fmt.Sprintf("%s-%d-%d", kind, i, time.Now().UnixNano())))
	return hex.EncodeToString(sum[:])
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func redact(dsn string) string {
	if i := bytes.IndexByte([]byte(dsn), '@'); i > 0 {
		return "postgres://…" + dsn[i:]
	}
	return dsn
}
