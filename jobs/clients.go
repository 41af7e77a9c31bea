package jobs

import (
	"fmt"

	"callstats/config"
	"callstats/extract/graph"
	"callstats/extract/ringcentral"
	"callstats/internal/entra"
)

// teamsCredential is the Teams app's sign-in as teams.auth names it
// (secret, certificate, managed or workload identity). Its token sources
// renew and share their tokens, and a login that does not answer fails
// within teams.login_timeout.
func teamsCredential(t *config.Teams, env Env) (*entra.Credential, error) {
	cred, err := entra.FromTeams(t, env.HTTPClient, nil)
	if err != nil {
		return nil, fmt.Errorf("teams sign-in: %w", err)
	}
	return cred, nil
}

// newGraphClient builds the Graph client of the teams section, signed in
// through teamsCredential. The client paces by the wall clock, never by the
// job clock: that one stands still when CALLSTATS_NOW fixes it.
func newGraphClient(t *config.Teams, env Env) (*graph.Client, error) {
	cred, err := teamsCredential(t, env)
	if err != nil {
		return nil, err
	}
	return graph.NewClient(graph.ClientConfig{
		TenantID: t.TenantID, ClientID: t.ClientID,
		TokenSource: cred.TokenSource(t.GraphURL + "/.default"),
		GraphURL:    t.GraphURL, LoginURL: t.LoginURL,
		Concurrency: t.Concurrency, MaxAttempts: t.MaxAttempts,
		HTTPClient: env.HTTPClient, Logger: env.logger(), Wait: env.Wait,
	})
}

// newRingCentralClient builds the RingCentral client of its section.
func newRingCentralClient(rc *config.RingCentral, env Env) (*ringcentral.Client, error) {
	return ringcentral.NewClient(ringcentral.ClientConfig{
		ServerURL: rc.ServerURL, MediaURL: rc.MediaURL, ClientID: rc.ClientID,
		ClientSecret: rc.ClientSecret.Reveal(), JWT: rc.JWT.Reveal(),
		LoginTimeout:      rc.LoginTimeout,
		MaxRecordingBytes: int64(rc.MaxRecordingBytes),
		HTTPClient:        env.HTTPClient, Logger: env.logger(), Wait: env.Wait,
	})
}
