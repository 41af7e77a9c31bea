package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"callstats/config"
	"callstats/extract/graph/graphtest"
	"callstats/extract/queue"
	"callstats/extract/ringcentral/rctest"
	"callstats/jobs"
)

// The receiver's secrets in the demo: Graph's clientState and RingCentral's
// verification token.
const (
	demoClientState       = "demo-client-state-1"
	demoVerificationToken = "demo-rc-verify-1"
)

// demoSubscribeTimeout bounds the wait for the receiver's two
// subscriptions (each is a token request and a validation handshake).
const demoSubscribeTimeout = 20 * time.Second

// demoNote is a notification a fake sends: the call's source and id, the
// change, and when it is sent.
type demoNote struct {
	source, id, change string
	at                 time.Time
}

// demoIntake is where the demo's notifications go: the receiver (serve),
// or straight into the Azure table (--queue azure-table).
type demoIntake interface {
	deliver(ctx context.Context, notes []demoNote) error
}

// demoClock is the receiver's clock: the demo sets it to each
// notification's time before a fake sends it, so that the receiver stamps
// the notification when it was sent on the demo's calendar, not with the
// wall clock the nights know nothing of.
type demoClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *demoClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *demoClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t.UTC()
	c.mu.Unlock()
}

// demoReceiver is `callstats serve` on a loopback port, subscribed at the
// fake Graph and the fake RingCentral.
type demoReceiver struct {
	addr              string
	graph             *graphtest.Server
	rc                *rctest.Server
	graphSub, rcSub   string
	clock             *demoClock
	queuePath         string
	stopServe         context.CancelFunc
	served            chan error
	teamsSent, rcSent int
	stopOnce          sync.Once
	stopErr           error
}

// demoServeConfig adds the receiver's section to cfg, listening on a free
// loopback port that is also its public URL.
func demoServeConfig(cfg *config.Config) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("finding a free loopback port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return err
	}
	cfg.Serve = &config.Serve{Listen: addr, PublicURL: "http://" + addr,
		ClientState: config.NewSecret(demoClientState), VerificationToken: config.NewSecret(demoVerificationToken)}
	return nil
}

// startDemoReceiver runs jobs.Serve with cfg (its serve section from
// demoServeConfig) on a clock of its own, and waits until it has
// subscribed at both fakes. stop ends it.
func startDemoReceiver(ctx context.Context, cfg *config.Config, env jobs.Env, g *graphtest.Server, rc *rctest.Server) (*demoReceiver, error) {
	r := &demoReceiver{addr: cfg.Serve.Listen, graph: g, rc: rc, clock: &demoClock{}, queuePath: cfg.Queue.Path,
		served: make(chan error, 1)}
	scfg := *cfg // the nights keep their clock; the receiver has its own
	scfg.Now = r.clock.Now
	sctx, cancel := context.WithCancel(ctx)
	r.stopServe = cancel
	go func() { r.served <- jobs.Serve(sctx, &scfg, env) }()

	deadline := time.NewTimer(demoSubscribeTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		gs, rs := g.Subscriptions(), rc.Subscriptions()
		if len(gs) > 0 && len(rs) > 0 {
			r.graphSub, r.rcSub = gs[0].ID, rs[0].ID
			return r, nil
		}
		select {
		case err := <-r.served:
			cancel()
			if err == nil {
				err = errors.New("stopped before subscribing")
			}
			return nil, fmt.Errorf("callstats serve: %w", err)
		case <-deadline.C:
			r.stop()
			return nil, fmt.Errorf("callstats serve on %s did not subscribe at the fake Graph and RingCentral within %s", r.addr, demoSubscribeTimeout)
		case <-tick.C:
		}
	}
}

// deliver has the fakes send the notes to the receiver one by one, in
// time order, each stamped with its time; every one must be accepted.
func (r *demoReceiver) deliver(ctx context.Context, notes []demoNote) error {
	notes = slices.Clone(notes)
	slices.SortStableFunc(notes, func(a, b demoNote) int { return a.at.Compare(b.at) })
	for _, n := range notes {
		r.clock.set(n.at)
		var (
			code int
			err  error
			want int
		)
		switch n.source {
		case queue.SourceTeams:
			code, err = r.graph.Notify(ctx, r.graphSub, n.change, n.id)
			want = http.StatusAccepted
			r.teamsSent++
		case queue.SourceRingCentral:
			code, err = r.rc.Notify(ctx, r.rcSub, n.id, n.change)
			want = http.StatusOK
			r.rcSent++
		default:
			return fmt.Errorf("notification of %s from unknown source %q", n.id, n.source)
		}
		if err != nil {
			return fmt.Errorf("notifying the receiver of %s %s: %w", n.source, n.id, err)
		}
		if code != want {
			return fmt.Errorf("the receiver answered %d to the %s notification of %s, want %d", code, n.source, n.id, want)
		}
	}
	return nil
}

// queued reads back how many notifications the receiver wrote to the
// queue, and checks that none sent was lost.
func (r *demoReceiver) queued(ctx context.Context) (int, error) {
	res, err := queue.Read(ctx, r.queuePath, queue.Cursor{})
	if err != nil {
		return 0, err
	}
	if sent := r.teamsSent + r.rcSent; res.Entities != sent || res.Skipped != 0 {
		return res.Entities, fmt.Errorf("the receiver queued %d notifications (%d unreadable), but %d were sent and accepted",
			res.Entities, res.Skipped, sent)
	}
	return res.Entities, nil
}

// stop ends the receiver and waits until it has closed the queue.
func (r *demoReceiver) stop() error {
	r.stopOnce.Do(func() {
		r.stopServe()
		r.stopErr = <-r.served
	})
	return r.stopErr
}
