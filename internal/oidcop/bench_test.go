package oidcop_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"roster.dev/roster/internal/storetest"
)

// BenchmarkSignInTokens measures Sign in with Roster's token endpoint (the code
// exchange and the refresh, each with a client secret and PKCE as a confidential
// client sends them) and userinfo over loopback HTTP from 8 concurrent connections,
// and, in the same run, a bare net/http handler that reads the same form or bearer
// token and answers a constant JSON body. ROSTER_BENCH_OIDC_REQUESTS requests of
// each kind (default 2,000; the codes and refresh tokens are minted first, through
// the authorization endpoint and the console's sign-in, for one signed-in person).
// It reports each throughput, its ratio to the bare handler's (measured before and
// after it), and p50 and p99. Run it with -benchtime 1x.
func BenchmarkSignInTokens(b *testing.B) {
	n := 2000
	if v := os.Getenv("ROSTER_BENCH_OIDC_REQUESTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("ROSTER_BENCH_OIDC_REQUESTS=%q: want a positive number", v)
		}
	}
	const conns = 8
	for _, engine := range storetest.Engines(b) {
		b.Run(string(engine), func(b *testing.B) {
			e := newEnv(b, storetest.Open(b, engine))
			ctx := context.Background()
			ada := e.accountID("ada@acme.test")
			if _, _, err := e.svc.AssignSeat(ctx, e.op, "acme", e.acmeSub.ID, ada); err != nil {
				b.Fatal(err)
			}
			r := e.rp(e.clientID, e.secret)
			br := e.browser()
			f := r.start()
			codes := []flowCode{{f, e.code(br.login(br.get(f.url), "ada@acme.test"), f)}}
			t0 := time.Now()
			for len(codes) < n {
				f := r.start()
				codes = append(codes, flowCode{f, e.code(br.get(f.url), f)})
			}
			b.Logf("%s: minted %d codes in %s", engine, n, time.Since(t0).Round(time.Millisecond))
			tokenURL, userinfoURL := e.issuer+"/oauth/token", e.issuer+"/oauth/userinfo"
			form := func(v url.Values) func(int) *http.Request {
				return func(int) *http.Request {
					req, _ := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader(v.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.SetBasicAuth(url.QueryEscape(e.clientID), url.QueryEscape(e.secret))
					return req
				}
			}
			bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				_ = r.Header.Get("Authorization")
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Cache-Control", "no-store")
				_, _ = io.WriteString(w, `{"access_token":"x","token_type":"Bearer","expires_in":300}`)
			}))
			defer bare.Close()
			bareReq := func(int) *http.Request {
				req, _ := http.NewRequest(http.MethodPost, bare.URL+"/oauth/token",
					strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(e.clientID, e.secret)
				return req
			}

			var refresh, access []string
			var mu sync.Mutex
			keep := func(body []byte) {
				var tok struct {
					AccessToken  string `json:"access_token"`
					RefreshToken string `json:"refresh_token"`
				}
				if json.Unmarshal(body, &tok) == nil && tok.RefreshToken != "" {
					mu.Lock()
					refresh, access = append(refresh, tok.RefreshToken), append(access, tok.AccessToken)
					mu.Unlock()
				}
			}
			report := func(name string, run func() benchRun) {
				before := drive(b, conns, n, bareReq, nil)
				got := run()
				after := drive(b, conns, n, bareReq, nil)
				if got.errors > 0 || before.errors > 0 || after.errors > 0 {
					b.Fatalf("%s: %d requests failed (bare: %d, %d)", name, got.errors, before.errors, after.errors)
				}
				res, base := got.result(), (before.result().rps+after.result().rps)/2
				b.ReportMetric(res.rps, name+"/s")
				b.ReportMetric(res.rps/base, name+"-of-bare")
				b.ReportMetric(float64(res.p50.Microseconds())/1000, name+"-p50-ms")
				b.ReportMetric(float64(res.p99.Microseconds())/1000, name+"-p99-ms")
				b.Logf("%s %s: %.0f/s (bare %.0f/s, %.0f%%), p50 %s, p99 %s", engine, name, res.rps, base, 100*res.rps/base, res.p50, res.p99)
			}
			report("exchange", func() benchRun {
				return drive(b, conns, n, func(i int) *http.Request {
					c := codes[i]
					return form(url.Values{"grant_type": {"authorization_code"}, "code": {c.code},
						"redirect_uri": {callback}, "code_verifier": {c.f.verifier}})(i)
				}, keep)
			})
			if len(refresh) != n {
				b.Fatalf("%d refresh tokens from %d exchanges", len(refresh), n)
			}
			report("refresh", func() benchRun {
				return drive(b, conns, n, func(i int) *http.Request {
					return form(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh[i]}})(i)
				}, nil)
			})
			report("userinfo", func() benchRun {
				return drive(b, conns, n, func(i int) *http.Request {
					req, _ := http.NewRequest(http.MethodGet, userinfoURL, nil)
					req.Header.Set("Authorization", "Bearer "+access[len(access)-1])
					return req
				}, nil)
			})
		})
	}
}

type flowCode struct {
	f    flow
	code string
}

// benchRun is the latencies of one run of requests, how long it took, and how many
// failed.
type benchRun struct {
	lat     []time.Duration
	elapsed time.Duration
	errors  int64
}

type benchResult struct {
	rps      float64
	p50, p99 time.Duration
}

func (l benchRun) result() benchResult {
	slices.Sort(l.lat)
	return benchResult{rps: float64(len(l.lat)) / l.elapsed.Seconds(), p50: l.lat[len(l.lat)/2], p99: l.lat[len(l.lat)*99/100]}
}

// drive sends requests 0…n-1, req(i) each, from conns goroutines with a keep-alive
// connection each; a 200's body goes to keep when it is set.
func drive(b *testing.B, conns, n int, req func(i int) *http.Request, keep func([]byte)) benchRun {
	b.Helper()
	var next, errs atomic.Int64
	lat := make([][]time.Duration, conns)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range conns {
		wg.Go(func() {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer client.CloseIdleConnections()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				r := req(i)
				t0 := time.Now()
				res, err := client.Do(r)
				var body []byte
				if err == nil {
					body, _ = io.ReadAll(res.Body)
					res.Body.Close()
				}
				lat[w] = append(lat[w], time.Since(t0))
				if err != nil || res.StatusCode != http.StatusOK {
					errs.Add(1)
					continue
				}
				if keep != nil {
					keep(body)
				}
			}
		})
	}
	wg.Wait()
	return benchRun{lat: slices.Concat(lat...), elapsed: time.Since(start), errors: errs.Load()}
}
