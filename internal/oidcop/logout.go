package oidcop

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/crypto"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/webhooks"
)

// OpenID Connect Back-Channel Logout 1.0: the worker that POSTs the logout tokens
// the account service queued (account.OIDCLogoutNotice) to the clients'
// backchannel_logout_uri, as the webhooks' worker delivers events: woken after the
// commit that queued them, polling for retries and other processes' notices, with
// the webhooks' HTTP client (a timeout, no redirect followed, no private address
// unless allowed).

// LogoutTokenTTL is how long a logout token is valid: each attempt signs a new one.
const LogoutTokenTTL = 2 * time.Minute

// LogoutSchedule is the pause after each failed attempt; after the last the notice
// is given up (about four hours in all) and the audit trail says so.
var LogoutSchedule = []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute,
	30 * time.Minute, time.Hour, 2 * time.Hour}

// backchannelEvent is the logout token's one event.
const backchannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// LogoutWorker sends the logout notices. Its zero value but Service and Provider
// is usable.
type LogoutWorker struct {
	Service  *account.Service
	Provider *Provider
	Log      *slog.Logger
	Now      func() time.Time
	// AllowPrivate lets URIs be http, and private or loopback addresses (tests, a
	// developer's machine), as --webhooks-allow-private does for webhooks.
	AllowPrivate bool
	Poll         time.Duration
	Timeout      time.Duration
	Lease        time.Duration
	Concurrency  int

	once   sync.Once
	owner  string
	client *http.Client
	wake   chan struct{}
}

func (w *LogoutWorker) init() {
	w.once.Do(func() {
		var b [6]byte
		_, _ = io.ReadFull(cryptorand.Reader, b[:])
		host, _ := os.Hostname()
		w.owner = host + "/logout/" + hex.EncodeToString(b[:])
		if w.Timeout <= 0 {
			w.Timeout = 10 * time.Second
		}
		if w.Lease <= 0 {
			w.Lease = time.Minute
		}
		if w.Poll <= 0 {
			w.Poll = 2 * time.Second
		}
		if w.Concurrency <= 0 {
			w.Concurrency = 8
		}
		if w.Now == nil {
			w.Now = time.Now
		}
		if w.Log == nil {
			w.Log = slog.New(slog.DiscardHandler)
		}
		w.client = webhooks.NewClient(w.Timeout, w.AllowPrivate)
		w.wake = make(chan struct{}, 1)
	})
}

// Wake asks the worker to look for due notices now. It never blocks.
func (w *LogoutWorker) Wake() {
	w.init()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run sends until ctx ends; the attempts in flight finish first.
func (w *LogoutWorker) Run(ctx context.Context) {
	w.init()
	t := time.NewTicker(w.Poll)
	defer t.Stop()
	for {
		n, err := w.Dispatch(ctx)
		if err != nil && ctx.Err() == nil {
			w.Log.Error("claim logout notices", "err", err)
		}
		if n > 0 && ctx.Err() == nil {
			continue // there may be more
		}
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-t.C:
		}
	}
}

// Dispatch claims what is due, sends it and records each attempt; it reports how
// many it attempted.
func (w *LogoutWorker) Dispatch(ctx context.Context) (int, error) {
	w.init()
	jobs, err := w.Service.ClaimOIDCLogouts(ctx, w.owner, w.Concurrency, w.Lease)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.attempt(context.WithoutCancel(ctx), j)
		}()
	}
	wg.Wait()
	return len(jobs), nil
}

func (w *LogoutWorker) attempt(ctx context.Context, j account.OIDCLogoutJob) {
	o, final := w.send(ctx, j)
	switch {
	case o.Sent:
	case final || j.Notice.Attempts > len(LogoutSchedule):
		w.Log.Warn("gave up a back-channel logout", "notice", j.Notice.ID, "application", j.Notice.ApplicationID,
			"attempts", j.Notice.Attempts, "err", o.Error)
	default:
		o.NextAt = w.Now().Add(jitter(LogoutSchedule[j.Notice.Attempts-1]))
	}
	if err := w.Service.CompleteOIDCLogout(ctx, w.owner, j.Notice.ID, o); err != nil {
		w.Log.Error("record a back-channel logout", "notice", j.Notice.ID, "err", err)
	}
}

// jitter spreads a pause by ±10%.
func jitter(d time.Duration) time.Duration {
	span := int64(d / 5)
	if span <= 0 {
		return d
	}
	return d - d/10 + time.Duration(rand.Int64N(span+1))
}

// send makes one attempt; final says that trying again cannot help (the client has
// no URI any more, or one this server may not send to).
func (w *LogoutWorker) send(ctx context.Context, j account.OIDCLogoutJob) (o account.OIDCLogoutOutcome, final bool) {
	if j.URI == "" {
		return account.OIDCLogoutOutcome{Error: "the client has no backchannel_logout_uri any more"}, true
	}
	u, err := url.Parse(j.URI)
	if err != nil || u.Scheme != "https" && !(u.Scheme == "http" && w.AllowPrivate) {
		return account.OIDCLogoutOutcome{Error: "the backchannel_logout_uri is not https (http needs --webhooks-allow-private)"}, true
	}
	return w.post(ctx, j), false
}

func (w *LogoutWorker) post(ctx context.Context, j account.OIDCLogoutJob) account.OIDCLogoutOutcome {
	token, err := w.Provider.LogoutToken(ctx, j.Notice.ApplicationID, j.Notice.AccountID, j.Notice.SID, w.Now())
	if err != nil {
		return account.OIDCLogoutOutcome{Error: clip("sign the logout token: " + err.Error())}
	}
	ctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	body := url.Values{"logout_token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.URI, strings.NewReader(body))
	if err != nil {
		return account.OIDCLogoutOutcome{Error: clip(err.Error())}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Roster-Logout/1")
	resp, err := w.client.Do(req)
	if err != nil {
		return account.OIDCLogoutOutcome{Error: clip(err.Error())}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	o := account.OIDCLogoutOutcome{StatusCode: resp.StatusCode}
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNoContent {
		o.Sent = true
	} else {
		o.Error = "the endpoint answered " + strconv.Itoa(resp.StatusCode)
	}
	return o
}

func clip(s string) string {
	if len(s) > 500 {
		return s[:500] + "…"
	}
	return s
}

// LogoutToken signs a logout token (OpenID Connect Back-Channel Logout 1.0, section
// 2.4) for the client, of the person's sign-in sid, with the current signing key
// (the one the JWKS serves first): typ logout+jwt, iss, aud, iat, exp, a fresh
// jti, sub, sid and the back-channel logout event; never a nonce.
func (p *Provider) LogoutToken(ctx context.Context, clientID, subject, sid string, now time.Time) (string, error) {
	k, err := p.keys.current(ctx)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: k.key, KeyID: k.id}},
		(&jose.SignerOptions{}).WithType("logout+jwt"))
	if err != nil {
		return "", err
	}
	var jti [16]byte
	if _, err := io.ReadFull(cryptorand.Reader, jti[:]); err != nil {
		return "", err
	}
	claims := oidc.NewLogoutTokenClaims(p.issuer, subject, oidc.Audience{clientID}, now.Add(LogoutTokenTTL),
		hex.EncodeToString(jti[:]), sid, 0)
	claims.IssuedAt = oidc.FromTime(now)
	claims.Events = map[string]any{backchannelEvent: struct{}{}}
	return crypto.Sign(claims, signer)
}
