//go:build unix

package jobs

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"callstats/config"
	"callstats/extract/webhook"
)

// Timeouts of the receiver's connections, and how long a stop waits for
// the requests in flight.
const (
	serveReadHeaderTimeout = 5 * time.Second
	serveReadTimeout       = 15 * time.Second
	serveWriteTimeout      = 20 * time.Second
	serveIdleTimeout       = 60 * time.Second
	serveMaxHeaderBytes    = 32 << 10
	serveShutdownTimeout   = 30 * time.Second
	// serveStatsEvery is how often the receiver's counts are logged, when
	// they changed.
	serveStatsEvery = 15 * time.Minute
)

// Serve runs the webhook receiver until ctx ends (SIGTERM): it appends
// Graph and RingCentral notifications to the queue, and, when
// serve.public_url is set, keeps their subscriptions alive. On ctx's end
// it stops accepting connections, finishes the requests in flight (each is
// answered once its entities are durable), closes the queue and returns
// nil.
func Serve(ctx context.Context, cfg *config.Config, env Env) error {
	return serve(ctx, cfg, env, serveOptions{clock: SystemClock{}})
}

// serveOptions are the parts tests replace.
type serveOptions struct {
	clock    Clock
	listener net.Listener      // nil: listen on serve.listen
	ready    func(addr string) // called once the receiver accepts connections
	idle     func()            // the upkeep's idle hook (see upkeep.idle)
	// connState and stopping let tests see a request in flight and the
	// stop begin.
	connState func(net.Conn, http.ConnState)
	stopping  func()
}

func serve(ctx context.Context, cfg *config.Config, env Env, opts serveOptions) error {
	s := cfg.Serve
	if s == nil {
		return cannot(errors.New("no serve section in the config"))
	}
	log := env.logger()
	if strings.EqualFold(filepath.Ext(cfg.Queue.Path), ".csv") {
		return cannot(fmt.Errorf("queue.path %s is a CSV export; serve appends to a JSON Lines file", cfg.Queue.Path))
	}
	var tlsConfig *tls.Config
	if s.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(s.TLSCertFile, s.TLSKeyFile)
		if err != nil {
			return cannot(fmt.Errorf("serve.tls_cert_file: %w", err))
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}

	sink, closeSink, err := openServeSink(ctx, cfg, log)
	if err != nil {
		return cannot(err)
	}
	defer closeSink()

	var up *upkeep
	if s.PublicURL != "" {
		if up, err = newUpkeep(cfg, env, opts.clock); err != nil {
			return cannot(err)
		}
		up.idle = opts.idle
	} else {
		log.Info("serve.public_url is not set: receiving only, no subscription is created or renewed")
	}
	stats := &webhook.Stats{}
	mux, err := receiverMux(cfg, sink, stats, up, log)
	if err != nil {
		return cannot(err)
	}

	ln := opts.listener
	if ln == nil {
		if ln, err = net.Listen("tcp", s.Listen); err != nil {
			return cannot(fmt.Errorf("serve.listen: %w", err))
		}
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: serveReadHeaderTimeout,
		ReadTimeout:       serveReadTimeout,
		WriteTimeout:      serveWriteTimeout,
		IdleTimeout:       serveIdleTimeout,
		MaxHeaderBytes:    serveMaxHeaderBytes,
		// Connection errors (scanners, TLS handshakes) are not news.
		ErrorLog:  slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		ConnState: opts.connState,
	}
	if opts.stopping != nil {
		srv.RegisterOnShutdown(opts.stopping) // called once the listener is closed
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String(), "tls", tlsConfig != nil)
	if opts.ready != nil {
		opts.ready(ln.Addr().String())
	}

	// The upkeep and the counts log run until the stop; requests in flight
	// then still finish (Shutdown), on their own contexts.
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	if up != nil {
		wg.Go(func() { up.run(bg) })
	}
	wg.Go(func() { logStats(bg, stats, opts.clock, log) })

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	stopBG()
	wg.Wait()
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), serveShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		log.Warn("requests still in flight at the stop were cut", "error", err)
	}
	if err := closeSink(); err != nil {
		return cannot(fmt.Errorf("closing the queue: %w", err))
	}
	logCounts(log, stats.Snapshot(), "receiver stopped")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return cannot(fmt.Errorf("serving: %w", serveErr))
	}
	return nil
}

// receiverMux routes the configured sources' endpoints; every other path
// is 404.
func receiverMux(cfg *config.Config, sink webhook.Sink, stats *webhook.Stats, up *upkeep, log *slog.Logger) (*http.ServeMux, error) {
	s := cfg.Serve
	guard := webhook.NewGuard(int64(s.MaxBodyBytes), s.PerIPConcurrency, s.RealIPHeader, stats)
	mux := http.NewServeMux()
	if t := cfg.Teams; t != nil {
		var lifecycle func(webhook.LifecycleEvent)
		if up != nil {
			lifecycle = func(ev webhook.LifecycleEvent) {
				select {
				case up.lifecycle <- ev:
				default:
					log.Warn("graph lifecycle notification not queued: too many pending", "event", webhook.Escaped(ev.Event))
				}
			}
		}
		g, err := webhook.NewGraph(webhook.GraphConfig{
			ClientState: s.ClientState.Reveal(), TenantID: t.TenantID, Sink: sink, Guard: guard,
			Lifecycle: lifecycle, Logger: log, Now: cfg.Now,
		})
		if err != nil {
			return nil, fmt.Errorf("teams.tenant_id / serve.client_state: %w", err)
		}
		mux.Handle(s.PathGraph, g.Notifications())
		mux.Handle(s.PathGraphLifecycle, g.Lifecycle())
	}
	if cfg.RingCentral != nil {
		rc, err := webhook.NewRingCentral(webhook.RingCentralConfig{
			VerificationToken: s.VerificationToken.Reveal(), Sink: sink, Guard: guard, Logger: log, Now: cfg.Now,
		})
		if err != nil {
			return nil, fmt.Errorf("serve.verification_token: %w", err)
		}
		mux.Handle(s.PathRingCentral, rc.Handler())
	}
	return mux, nil
}

// logStats logs the receiver's counts every serveStatsEvery: as a warning
// when more requests or items were refused since the last time, else at
// debug level (a healthy receiver is quiet).
func logStats(ctx context.Context, stats *webhook.Stats, clock Clock, log *slog.Logger) {
	var last webhook.Counts
	next := clock.Now().Add(serveStatsEvery)
	for {
		select {
		case <-ctx.Done():
			return
		case <-clock.WakeAt(next):
		}
		if clock.Now().Before(next) {
			continue
		}
		next = clock.Now().Add(serveStatsEvery)
		c := stats.Snapshot()
		if refused(c) > refused(last) {
			log.Warn("receiver refused requests or items", countAttrs(c)...)
		} else if c != last {
			log.Debug("receiver counts", countAttrs(c)...)
		}
		last = c
	}
}

// refused is how many requests and items were refused.
func refused(c webhook.Counts) int64 {
	return c.Dropped + c.BadRequests + c.TooLarge + c.BadMethod + c.Busy + c.SinkErrors
}

func logCounts(log *slog.Logger, c webhook.Counts, msg string) {
	if refused(c) > 0 {
		log.Warn(msg, countAttrs(c)...)
		return
	}
	log.Info(msg, countAttrs(c)...)
}

func countAttrs(c webhook.Counts) []any {
	return []any{
		"requests", c.Requests, "validations", c.Validations, "queued", c.Queued, "lifecycle", c.Lifecycle,
		"dropped", c.Dropped, "invalid", c.Invalid, "ignored", c.Ignored, "bad_requests", c.BadRequests,
		"too_large", c.TooLarge, "bad_method", c.BadMethod, "busy", c.Busy, "sink_errors", c.SinkErrors,
	}
}
