//go:build unix

package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"text/tabwriter"
	"time"

	"callstats/config"
	"callstats/extract/graph"
	"callstats/extract/ringcentral"
	"callstats/extract/webhook"
	"callstats/internal/atomicfile"
)

// Subscription sources, as kept in the state directory.
const (
	subTeams       = "teams"
	subRingCentral = "ringcentral"
)

// subscriptionsFile keeps the subscriptions' ids and expiries in the state
// directory.
const subscriptionsFile = "subscriptions.json"

// Retry waits of the upkeep after a failure: doubling from the first to
// the last.
const (
	upkeepRetryFirst = time.Minute
	upkeepRetryMax   = 30 * time.Minute
)

// graphExpiryMargin keeps a requested Graph expiry this far inside the
// 4,230-minute maximum, against clock skew between callstats and Graph.
const graphExpiryMargin = time.Minute

// SubscriptionRecord is one subscription as kept in the state directory.
type SubscriptionRecord struct {
	Source  string    `json:"source"`  // teams or ringcentral
	ID      string    `json:"id"`      // the subscription id at the source
	URL     string    `json:"url"`     // where it delivers
	Expires time.Time `json:"expires"` // when it runs out unless renewed
	Renewed time.Time `json:"renewed"` // when it was created or last renewed
}

// Subscribe creates the subscriptions that are missing and renews those
// due for renewal, once. Graph and RingCentral check the receiver (the
// validation handshake) on creation, so `callstats serve` must be
// reachable at serve.public_url.
func Subscribe(ctx context.Context, cfg *config.Config, env Env) error {
	u, err := newUpkeep(cfg, env, SystemClock{})
	if err != nil {
		return cannot(err)
	}
	return u.pass(ctx)
}

// subscriber creates and renews one source's subscription.
type subscriber interface {
	source() string
	url() string
	// create makes a new subscription.
	create(ctx context.Context, now time.Time) (SubscriptionRecord, error)
	// renew extends rec; errGone means it is no longer there (or no longer
	// delivers) and must be created again.
	renew(ctx context.Context, rec SubscriptionRecord, now time.Time) (SubscriptionRecord, error)
}

// errGone says a subscription must be created again.
var errGone = errors.New("subscription is gone")

// graphSubscriber is the Graph call-records subscription.
type graphSubscriber struct {
	c                       *graph.Client
	notifyURL, lifecycleURL string
	clientState             string
	log                     *slog.Logger
}

func (g *graphSubscriber) source() string { return subTeams }
func (g *graphSubscriber) url() string    { return g.notifyURL }

// create deletes the app's other subscriptions to this notification URL
// (left by a lost state directory; their clientState is unknown), then
// creates one expiring as late as Graph allows.
func (g *graphSubscriber) create(ctx context.Context, now time.Time) (SubscriptionRecord, error) {
	subs, err := g.c.Subscriptions(ctx)
	if err != nil {
		return SubscriptionRecord{}, err
	}
	for _, s := range subs {
		if s.NotificationURL == g.notifyURL {
			g.log.Info("deleting an earlier graph subscription to this URL", "subscription", s.ID)
			if err := g.c.DeleteSubscription(ctx, s.ID); err != nil && !errors.Is(err, graph.ErrNoSubscription) {
				return SubscriptionRecord{}, err
			}
		}
	}
	sub, err := g.c.CreateSubscription(ctx, graph.SubscriptionRequest{
		NotificationURL: g.notifyURL, LifecycleNotificationURL: g.lifecycleURL,
		ClientState: g.clientState, Expiration: now.Add(graph.MaxSubscriptionLifetime - graphExpiryMargin),
	})
	if err != nil {
		return SubscriptionRecord{}, err
	}
	return SubscriptionRecord{Source: subTeams, ID: sub.ID, URL: g.notifyURL, Expires: sub.ExpirationDateTime, Renewed: now}, nil
}

func (g *graphSubscriber) renew(ctx context.Context, rec SubscriptionRecord, now time.Time) (SubscriptionRecord, error) {
	sub, err := g.c.RenewSubscription(ctx, rec.ID, now.Add(graph.MaxSubscriptionLifetime-graphExpiryMargin))
	if errors.Is(err, graph.ErrNoSubscription) {
		return rec, fmt.Errorf("%w: %w", errGone, err)
	}
	if err != nil {
		return rec, err
	}
	rec.Expires, rec.Renewed = sub.ExpirationDateTime, now
	return rec, nil
}

// rcSubscriber is the RingCentral telephony-session webhook.
type rcSubscriber struct {
	c       *ringcentral.Client
	address string
	token   string
}

func (r *rcSubscriber) source() string { return subRingCentral }
func (r *rcSubscriber) url() string    { return r.address }

func (r *rcSubscriber) create(ctx context.Context, now time.Time) (SubscriptionRecord, error) {
	sub, err := r.c.CreateSubscription(ctx, ringcentral.SubscriptionRequest{Address: r.address, VerificationToken: r.token})
	if err != nil {
		return SubscriptionRecord{}, err
	}
	return SubscriptionRecord{Source: subRingCentral, ID: sub.ID, URL: r.address, Expires: sub.ExpirationTime, Renewed: now}, nil
}

func (r *rcSubscriber) renew(ctx context.Context, rec SubscriptionRecord, now time.Time) (SubscriptionRecord, error) {
	sub, err := r.c.RenewSubscription(ctx, rec.ID)
	switch {
	case errors.Is(err, ringcentral.ErrNoSubscription):
		return rec, fmt.Errorf("%w: %w", errGone, err)
	case err != nil:
		return rec, err
	case sub.Status != ringcentral.StatusActive:
		return rec, fmt.Errorf("%w: status %s", errGone, sub.Status)
	}
	rec.Expires, rec.Renewed = sub.ExpirationTime, now
	return rec, nil
}

// upkeep keeps the subscriptions alive: it creates those missing, renews
// those with less than renewBefore left (and at once on Graph's
// reauthorizationRequired), and recreates those removed or expired.
type upkeep struct {
	stateDir    string
	subs        []subscriber
	renewBefore time.Duration
	clock       Clock
	log         *slog.Logger
	// lifecycle receives Graph's lifecycle events from the receiver.
	lifecycle chan webhook.LifecycleEvent

	// retryAt and retryWait are, per source, when a failed source is tried
	// again and how long the next failure waits.
	retryAt   map[string]time.Time
	retryWait map[string]time.Duration

	// idle, when set, is called each time run has done what was due and
	// is about to wait (tests wait for it).
	idle func()
}

// newUpkeep builds the subscribers of the configured sources.
func newUpkeep(cfg *config.Config, env Env, clock Clock) (*upkeep, error) {
	s := cfg.Serve
	switch {
	case s == nil:
		return nil, errors.New("no serve section in the config")
	case s.PublicURL == "":
		return nil, errors.New("serve.public_url is not set: there is no URL to subscribe")
	}
	u := &upkeep{
		stateDir: cfg.StateDir, renewBefore: s.RenewBefore, clock: clock, log: env.logger(),
		lifecycle: make(chan webhook.LifecycleEvent, 16),
		retryAt:   map[string]time.Time{}, retryWait: map[string]time.Duration{},
	}
	if t := cfg.Teams; t != nil {
		c, err := newGraphClient(t, env)
		if err != nil {
			return nil, err
		}
		u.subs = append(u.subs, &graphSubscriber{c: c, notifyURL: s.URL(s.PathGraph), lifecycleURL: s.URL(s.PathGraphLifecycle),
			clientState: s.ClientState.Reveal(), log: u.log})
	}
	if r := cfg.RingCentral; r != nil {
		c, err := newRingCentralClient(r, env)
		if err != nil {
			return nil, err
		}
		u.subs = append(u.subs, &rcSubscriber{c: c, address: s.URL(s.PathRingCentral), token: s.VerificationToken.Reveal()})
	}
	return u, nil
}

// action is what a pass does to one subscription.
type action int

const (
	actDue      action = iota // create or renew when due
	actRenew                  // renew now (reauthorizationRequired)
	actRecreate               // create anew (subscriptionRemoved)
)

// pass does what is due for every source, and returns the errors of those
// that failed (each is retried after a backoff by run).
func (u *upkeep) pass(ctx context.Context) error {
	var errs []error
	for _, s := range u.subs {
		if err := u.ensure(ctx, s, actDue, ""); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ensure brings one source's subscription up to date, under the state
// directory's subscription lock (so `callstats subscribe` and `serve` do
// not both create one). id, when not "", is the subscription a lifecycle
// event names: a forced action applies only to it.
func (u *upkeep) ensure(ctx context.Context, s subscriber, act action, id string) error {
	unlock, err := lockSubscriptions(u.stateDir)
	if err != nil {
		return err
	}
	defer unlock()
	recs, err := LoadSubscriptions(u.stateDir)
	if err != nil {
		return err
	}
	now := u.clock.Now()
	rec, ok := recs[s.source()]
	if id != "" && (!ok || rec.ID != id) {
		u.log.Info("lifecycle notification for a subscription that is not ours; ignored", "subscription", webhook.Escaped(id))
		return nil
	}
	switch {
	case !ok || rec.URL != s.url() || !now.Before(rec.Expires):
		act = actRecreate
	case act == actDue && rec.Expires.Sub(now) >= u.renewBefore:
		return nil // not due
	case act == actDue:
		act = actRenew
	}
	if act == actRenew {
		next, err := s.renew(ctx, rec, now)
		if err == nil {
			u.log.Info("subscription renewed", "source", s.source(), "subscription", next.ID, "expires", next.Expires)
			return u.save(recs, next)
		}
		if !errors.Is(err, errGone) {
			return fmt.Errorf("%s subscription: %w", s.source(), err)
		}
		u.log.Warn("subscription is gone; creating a new one", "source", s.source(), "subscription", rec.ID, "error", err)
	}
	next, err := s.create(ctx, now)
	if err != nil {
		return fmt.Errorf("%s subscription: %w", s.source(), err)
	}
	u.log.Info("subscription created", "source", s.source(), "subscription", next.ID, "url", next.URL, "expires", next.Expires)
	return u.save(recs, next)
}

func (u *upkeep) save(recs map[string]SubscriptionRecord, rec SubscriptionRecord) error {
	recs[rec.Source] = rec
	return saveSubscriptions(u.stateDir, recs)
}

// run keeps the subscriptions alive until ctx ends: a pass whenever one
// is due (or a failed one's retry), and at once on a lifecycle event.
func (u *upkeep) run(ctx context.Context) {
	for {
		for _, s := range u.subs {
			if at, ok := u.retryAt[s.source()]; ok && u.clock.Now().Before(at) {
				continue
			}
			u.outcome(s, u.ensure(ctx, s, actDue, ""))
		}
		if ctx.Err() != nil {
			return
		}
		wake := u.clock.WakeAt(u.nextDue())
		if u.idle != nil {
			u.idle()
		}
		select {
		case <-ctx.Done():
			return
		case ev := <-u.lifecycle:
			u.onLifecycle(ctx, ev)
		case <-wake:
		}
	}
}

// onLifecycle renews or recreates the Graph subscription an event names.
func (u *upkeep) onLifecycle(ctx context.Context, ev webhook.LifecycleEvent) {
	i := slices.IndexFunc(u.subs, func(s subscriber) bool { return s.source() == subTeams })
	if i < 0 {
		return
	}
	switch ev.Event {
	case webhook.ReauthorizationRequired:
		u.outcome(u.subs[i], u.ensure(ctx, u.subs[i], actRenew, ev.SubscriptionID))
	case webhook.SubscriptionRemoved:
		u.outcome(u.subs[i], u.ensure(ctx, u.subs[i], actRecreate, ev.SubscriptionID))
	default:
		u.log.Warn("graph lifecycle notification not acted on", "event", webhook.Escaped(ev.Event),
			"subscription", webhook.Escaped(ev.SubscriptionID))
	}
}

// outcome records a source's result: a failure is retried after a
// doubling wait, a success clears it.
func (u *upkeep) outcome(s subscriber, err error) {
	src := s.source()
	if err == nil {
		delete(u.retryAt, src)
		delete(u.retryWait, src)
		return
	}
	wait := u.retryWait[src]
	if wait == 0 {
		wait = upkeepRetryFirst
	}
	u.retryAt[src] = u.clock.Now().Add(wait)
	u.retryWait[src] = min(2*wait, upkeepRetryMax)
	u.log.Error("cannot keep the subscription alive; trying again later", "source", src, "retry_in", wait, "error", err)
}

// nextDue is when the next pass is due: the earliest renewal or retry.
func (u *upkeep) nextDue() time.Time {
	now := u.clock.Now()
	next := now.Add(upkeepRetryMax)
	recs, err := LoadSubscriptions(u.stateDir)
	if err != nil {
		return now.Add(upkeepRetryFirst)
	}
	for _, s := range u.subs {
		at, failing := u.retryAt[s.source()]
		if !failing {
			rec, ok := recs[s.source()]
			if !ok {
				at = now
			} else {
				// Not again within a minute of the last renewal, even if
				// the source granted less than renewBefore.
				at = later(rec.Expires.Add(-u.renewBefore), rec.Renewed.Add(upkeepRetryFirst))
			}
		}
		if at.Before(next) {
			next = at
		}
	}
	return next
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// LoadSubscriptions reads the subscriptions kept in the state directory,
// by source; none when the file does not exist.
func LoadSubscriptions(stateDir string) (map[string]SubscriptionRecord, error) {
	path := filepath.Join(stateDir, subscriptionsFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]SubscriptionRecord{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading subscriptions: %w", err)
	}
	var f struct {
		Subscriptions []SubscriptionRecord `json:"subscriptions"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("reading subscriptions %s: %w", path, err)
	}
	recs := make(map[string]SubscriptionRecord, len(f.Subscriptions))
	for _, r := range f.Subscriptions {
		recs[r.Source] = r
	}
	return recs, nil
}

func saveSubscriptions(stateDir string, recs map[string]SubscriptionRecord) error {
	var f struct {
		Subscriptions []SubscriptionRecord `json:"subscriptions"`
	}
	for _, src := range slices.Sorted(maps.Keys(recs)) {
		f.Subscriptions = append(f.Subscriptions, recs[src])
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(stateDir, subscriptionsFile), append(b, '\n'))
}

// lockSubscriptions takes the state directory's subscription lock,
// waiting for another process holding it.
func lockSubscriptions(stateDir string) (unlock func(), err error) {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, fmt.Errorf("locking subscriptions: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(stateDir, "subscriptions.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking subscriptions: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking subscriptions: %w", err)
	}
	return func() { f.Close() }, nil
}

// SubscriptionStatus writes for `callstats status` the subscriptions kept
// in the state directory, one line each, and a warning for each that runs
// out within renewBefore of now (or has run out): serve is then not
// renewing it.
func SubscriptionStatus(w io.Writer, stateDir string, now time.Time, renewBefore time.Duration) error {
	recs, err := LoadSubscriptions(stateDir)
	fmt.Fprintln(w, "Subscriptions")
	if err != nil {
		fmt.Fprintf(w, "  cannot read: %v\n", err)
		return err
	}
	if len(recs) == 0 {
		fmt.Fprintln(w, "  none (callstats serve creates them)")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  SOURCE\tID\tEXPIRES\tLAST RENEWED\tURL")
	var warnings []string
	for _, src := range slices.Sorted(maps.Keys(recs)) {
		r := recs[src]
		left := r.Expires.Sub(now)
		exp := fmt.Sprintf("%s (in %s)", r.Expires.UTC().Format("2006-01-02 15:04 MST"), human(left))
		if left <= 0 {
			exp = fmt.Sprintf("%s (%s ago)", r.Expires.UTC().Format("2006-01-02 15:04 MST"), human(left))
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", r.Source, r.ID, exp, r.Renewed.UTC().Format("2006-01-02 15:04 MST"), r.URL)
		switch {
		case left <= 0:
			warnings = append(warnings, fmt.Sprintf("  WARNING: the %s subscription has expired: notifications are not delivered; run callstats serve (it creates a new one)", r.Source))
		case left < renewBefore:
			warnings = append(warnings, fmt.Sprintf("  WARNING: the %s subscription expires in %s, within the renewal margin (%s): is callstats serve running?", r.Source, human(left), renewBefore))
		}
	}
	tw.Flush()
	for _, wl := range warnings {
		fmt.Fprintln(w, wl)
	}
	return nil
}
