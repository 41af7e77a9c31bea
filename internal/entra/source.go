package entra

import (
	"context"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// maxEarlyRenewal is how long before expiry a long-lived token is renewed;
// a token living less than twice that is renewed at half its lifetime.
const maxEarlyRenewal = 2 * time.Minute

// Source is the oauth2.TokenSource of one scope. It keeps the token until
// it is due for renewal (the earlier of 2 minutes and half its lifetime
// before expiry), and callers that need a token while one is being fetched
// wait for that fetch instead of starting their own.
type Source struct {
	cred  *Credential
	scope string

	mu       sync.Mutex
	tok      *oauth2.Token
	renewAt  time.Time
	inflight *fetchCall
}

// fetchCall is one fetch that every caller waiting for it shares.
type fetchCall struct {
	done chan struct{}
	tok  *oauth2.Token
	err  error
}

var _ oauth2.TokenSource = (*Source)(nil)

// Token returns a token, fetching one when none is held or it is due for
// renewal. It implements oauth2.TokenSource; a fetch is bounded by the
// login timeout.
func (s *Source) Token() (*oauth2.Token, error) { return s.TokenContext(context.Background()) }

// TokenContext is Token for a caller with a context: it stops waiting when
// ctx ends (the shared fetch goes on for the others, bounded by the login
// timeout).
func (s *Source) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	if s.tok != nil && s.cred.cfg.Now().Before(s.renewAt) {
		tok := s.tok
		s.mu.Unlock()
		return tok, nil
	}
	c := s.inflight
	if c == nil {
		c = &fetchCall{done: make(chan struct{})}
		s.inflight = c
		go s.fetch(c)
	}
	s.mu.Unlock()
	select {
	case <-c.done:
		return c.tok, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fetch gets a new token within the login timeout and publishes it to the
// callers waiting on c.
func (s *Source) fetch(c *fetchCall) {
	cfg := s.cred.cfg
	ctx, cancel := context.WithTimeout(context.Background(), cfg.LoginTimeout)
	defer cancel()
	start := cfg.Now()
	tok, err := s.cred.fetcher.fetch(ctx, s.scope)
	if err != nil && ctx.Err() != nil {
		err = s.cred.timeoutError()
	}
	s.mu.Lock()
	if err == nil {
		s.tok, s.renewAt = tok, renewal(start, tok.Expiry)
	}
	s.inflight = nil
	c.tok, c.err = tok, err
	s.mu.Unlock()
	close(c.done)
}

// renewal is when a token fetched at start and expiring at expiry is due
// for renewal: the earlier of 2 minutes and half its lifetime before expiry.
func renewal(start, expiry time.Time) time.Time {
	if expiry.IsZero() {
		return start.Add(time.Hour) // no expiry given: keep it an hour, as Entra issues them
	}
	early := min(maxEarlyRenewal, expiry.Sub(start)/2)
	return expiry.Add(-max(early, 0))
}

// Invalidate drops tok if it is still the token held, so the next caller
// fetches a new one: the API refused it (revoked, or expired early).
func (s *Source) Invalidate(tok *oauth2.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == tok {
		s.tok = nil
	}
}
