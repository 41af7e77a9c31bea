//go:build unix

package jobs

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"callstats/config"
	"callstats/extract/graph"
	"callstats/extract/graph/graphtest"
	"callstats/extract/queue"
	"callstats/extract/ringcentral/rctest"
	"callstats/extract/webhook"
)

const (
	serveTenant      = "7c1e4f2a-93b5-4d08-a6e1-2f9d8b30c5e7"
	serveClientState = "kb-callrec-3Jf9qX2mLw7TzR4v"
	serveVerify      = "rc-verify-1"
)

var serveStart = time.Date(2026, 11, 13, 18, 0, 0, 0, time.UTC)

// serveConfig is a config for the receiver: Teams at graphURL (when not
// ""), RingCentral at rc (when not nil), the queue and state under dir.
func serveConfig(dir, graphURL string, rc *rctest.Server, publicURL string) *config.Config {
	cfg := config.Default()
	cfg.Queue.Path = filepath.Join(dir, "callids.jsonl")
	cfg.StateDir = filepath.Join(dir, "state")
	cfg.Output.Dir = filepath.Join(dir, "lake")
	if graphURL != "" {
		cfg.Teams = &config.Teams{TenantID: serveTenant, ClientID: "client-1",
			ClientSecret: config.NewSecret("secret-1"), GraphURL: graphURL, LoginURL: graphURL}
	}
	if rc != nil {
		cfg.RingCentral = &config.RingCentral{ServerURL: rc.URL, MediaURL: rc.MediaURL, ClientID: "rc-client-1",
			ClientSecret: config.NewSecret("rc-secret-1"), JWT: config.NewSecret("rc-jwt-1")}
	}
	cfg.Serve = &config.Serve{Listen: "127.0.0.1:0", PublicURL: publicURL,
		ClientState: config.NewSecret(serveClientState), VerificationToken: config.NewSecret(serveVerify)}
	cfg.ApplyDefaults()
	return cfg
}

// receiver is the receiver's handlers on a loopback server whose URL is
// the config's public URL.
type receiver struct {
	srv   *httptest.Server
	sink  *queue.Appender
	stats *webhook.Stats
	mu    sync.Mutex
	h     http.Handler
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{stats: &webhook.Stats{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		h := r.h
		r.mu.Unlock()
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// route serves cfg's endpoints, with the lifecycle events going to up.
func (r *receiver) route(t *testing.T, cfg *config.Config, up *upkeep) {
	sink, err := queue.OpenAppender(cfg.Queue.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	mux, err := receiverMux(cfg, sink, r.stats, up, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	r.h, r.sink = mux, sink
	r.mu.Unlock()
}

// TestUpkeep proves the subscription upkeep with a fake clock: both
// subscriptions are created through the receiver's handshakes, renewed
// once less than renew_before is left (with the expiry at Graph's
// maximum), renewed at once on reauthorizationRequired, recreated on
// subscriptionRemoved, after a 404, after expiry and when RingCentral has
// blacklisted the webhook; and that each is kept in the state directory.
func TestUpkeep(t *testing.T) {
	clk := newFakeClock(serveStart)
	gsrv := graphtest.NewServer(graphtest.Options{TenantID: serveTenant, Now: clk.Now})
	t.Cleanup(gsrv.Close)
	rsrv := rctest.NewServer(rctest.Options{Now: clk.Now})
	t.Cleanup(rsrv.Close)
	rcv := newReceiver(t)
	dir := t.TempDir()
	cfg := serveConfig(dir, gsrv.URL, rsrv, rcv.srv.URL)
	up, err := newUpkeep(cfg, Env{}, clk)
	if err != nil {
		t.Fatal(err)
	}
	rcv.route(t, cfg, up)
	ctx := context.Background()
	state := func() (SubscriptionRecord, SubscriptionRecord) {
		t.Helper()
		recs, err := LoadSubscriptions(cfg.StateDir)
		if err != nil {
			t.Fatal(err)
		}
		return recs[subTeams], recs[subRingCentral]
	}

	if err := up.pass(ctx); err != nil {
		t.Fatal(err)
	}
	teams, rc := state()
	gsubs, rsubs := gsrv.Subscriptions(), rsrv.Subscriptions()
	if len(gsubs) != 1 || gsubs[0].ID != teams.ID || gsubs[0].ClientState != serveClientState ||
		gsubs[0].NotificationURL != rcv.srv.URL+"/graph/callrecords" || gsubs[0].LifecycleNotificationURL != rcv.srv.URL+"/graph/lifecycle" {
		t.Fatalf("graph subscriptions %+v, state %+v", gsubs, teams)
	}
	if want := serveStart.Add(graph.MaxSubscriptionLifetime - graphExpiryMargin); !teams.Expires.Equal(want) {
		t.Errorf("teams expires %s, want %s", teams.Expires, want)
	}
	if len(rsubs) != 1 || rsubs[0].ID != rc.ID || rsubs[0].VerificationToken != serveVerify || rsubs[0].Address != rcv.srv.URL+"/ringcentral/telephony" {
		t.Fatalf("ringcentral subscriptions %+v, state %+v", rsubs, rc)
	}
	if c := rcv.stats.Snapshot(); c.Validations != 3 {
		t.Errorf("%d handshakes, want 3 (notifications, lifecycle, ringcentral)", c.Validations)
	}

	// Not due: nothing happens.
	clk.Set(teams.Expires.Add(-cfg.Serve.RenewBefore - time.Minute))
	if err := up.pass(ctx); err != nil {
		t.Fatal(err)
	}
	if st := gsrv.SubscriptionStats(); st.Renewed != 0 || st.Created != 1 {
		t.Errorf("graph before due: %+v", st)
	}
	// Due: renewed to the maximum from now.
	clk.Set(teams.Expires.Add(-cfg.Serve.RenewBefore + time.Minute))
	if err := up.pass(ctx); err != nil {
		t.Fatal(err)
	}
	renewed, _ := state()
	if st := gsrv.SubscriptionStats(); st.Renewed != 1 || st.Created != 1 || renewed.ID != teams.ID ||
		!renewed.Expires.Equal(clk.Now().Add(graph.MaxSubscriptionLifetime-graphExpiryMargin)) {
		t.Errorf("graph when due: %+v, state %+v", st, renewed)
	}

	// The loop: lifecycle events act at once.
	idle := make(chan struct{})
	up.idle = func() { idle <- struct{}{} }
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { up.run(runCtx); close(done) }()
	<-idle
	sub := gsrv.Subscriptions()[0]
	if code, err := gsrv.Lifecycle(ctx, sub, webhook.ReauthorizationRequired); err != nil || code != http.StatusAccepted {
		t.Fatalf("lifecycle: %d %v", code, err)
	}
	<-idle
	if st := gsrv.SubscriptionStats(); st.Renewed != 2 {
		t.Errorf("after reauthorizationRequired: %+v", st)
	}
	gsrv.RemoveSubscription(sub.ID)
	if code, err := gsrv.Lifecycle(ctx, sub, webhook.SubscriptionRemoved); err != nil || code != http.StatusAccepted {
		t.Fatalf("lifecycle: %d %v", code, err)
	}
	<-idle
	recreated, _ := state()
	if st := gsrv.SubscriptionStats(); st.Created != 2 || recreated.ID == teams.ID || len(gsrv.Subscriptions()) != 1 ||
		gsrv.Subscriptions()[0].ID != recreated.ID {
		t.Errorf("after subscriptionRemoved: %+v, state %+v", st, recreated)
	}

	// Removed without notice: the renewal's 404 recreates it. RingCentral's
	// blacklisted webhook is recreated at its renewal too.
	gsrv.RemoveSubscription(recreated.ID)
	rsrv.Blacklist(rc.ID)
	_, rcNow := state()
	clk.Set(rcNow.Expires.Add(-cfg.Serve.RenewBefore + time.Minute)) // both due (Graph's expires sooner)
	<-idle
	teams2, rc2 := state()
	if st := gsrv.SubscriptionStats(); st.Created != 3 || teams2.ID == recreated.ID {
		t.Errorf("after a 404: %+v, state %+v", st, teams2)
	}
	if st := rsrv.SubscriptionStats(); st.Created != 2 || rc2.ID == rc.ID {
		t.Errorf("after blacklisting: %+v, state %+v", st, rc2)
	}

	// Expired while serve was down: created anew without a renewal.
	stop()
	<-done
	clk.Set(rc2.Expires.Add(time.Hour))
	renewedBefore := gsrv.SubscriptionStats().Renewed
	if err := up.pass(ctx); err != nil {
		t.Fatal(err)
	}
	teams3, rc3 := state()
	if gsrv.SubscriptionStats().Renewed != renewedBefore || teams3.ID == teams2.ID || rc3.ID == rc2.ID ||
		len(gsrv.Subscriptions()) != 1 {
		t.Errorf("after expiry: graph %+v, state %+v %+v", gsrv.SubscriptionStats(), teams3, rc3)
	}
}

// TestUpkeepRetries proves that a failed creation is retried after a
// doubling wait, not at once and not never.
func TestUpkeepRetries(t *testing.T) {
	clk := newFakeClock(serveStart)
	gsrv := graphtest.NewServer(graphtest.Options{TenantID: serveTenant, Now: clk.Now})
	t.Cleanup(gsrv.Close)
	rcv := newReceiver(t)
	cfg := serveConfig(t.TempDir(), gsrv.URL, nil, rcv.srv.URL)
	up, err := newUpkeep(cfg, Env{}, clk)
	if err != nil {
		t.Fatal(err)
	}
	rcv.route(t, cfg, up)
	gsrv.FailNext(2, http.StatusServiceUnavailable) // the list before the first two creations
	idle := make(chan struct{})
	up.idle = func() { idle <- struct{}{} }
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { up.run(ctx); close(done) }()
	defer func() { stop(); <-done }()
	<-idle
	if got := up.nextDue(); !got.Equal(serveStart.Add(upkeepRetryFirst)) {
		t.Errorf("first retry at %s, want %s", got, serveStart.Add(upkeepRetryFirst))
	}
	clk.Set(serveStart.Add(upkeepRetryFirst))
	<-idle
	if got := up.nextDue(); !got.Equal(serveStart.Add(3 * upkeepRetryFirst)) {
		t.Errorf("second retry at %s, want %s", got, serveStart.Add(3*upkeepRetryFirst))
	}
	clk.Set(serveStart.Add(3 * upkeepRetryFirst))
	<-idle
	if st := gsrv.SubscriptionStats(); st.Created != 1 {
		t.Errorf("created %d after the failures passed", st.Created)
	}
}

// TestServe runs the whole receiver: it subscribes through its own
// handshakes, queues what the fakes notify, recreates a removed
// subscription, and on cancellation stops and returns nil with every
// answered notification in the queue.
func TestServe(t *testing.T) {
	clk := newFakeClock(serveStart)
	gsrv := graphtest.NewServer(graphtest.Options{TenantID: serveTenant, Now: clk.Now})
	t.Cleanup(gsrv.Close)
	rsrv := rctest.NewServer(rctest.Options{Now: clk.Now})
	t.Cleanup(rsrv.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := serveConfig(dir, gsrv.URL, rsrv, "http://"+ln.Addr().String())
	idle := make(chan struct{})
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- serve(ctx, cfg, Env{}, serveOptions{clock: clk, listener: ln, idle: func() { idle <- struct{}{} }})
	}()
	<-idle // subscribed
	gsubs, rsubs := gsrv.Subscriptions(), rsrv.Subscriptions()
	if len(gsubs) != 1 || len(rsubs) != 1 {
		t.Fatalf("subscriptions %+v %+v", gsubs, rsubs)
	}
	if code, err := gsrv.Notify(ctx, gsubs[0].ID, "updated", "call-1", "call-2"); err != nil || code != http.StatusAccepted {
		t.Fatalf("graph notify: %d %v", code, err)
	}
	if code, err := rsrv.Notify(ctx, rsubs[0].ID, "s-1", "Answered", "Disconnected"); err != nil || code != http.StatusOK {
		t.Fatalf("ringcentral notify: %d %v", code, err)
	}
	gsrv.RemoveSubscription(gsubs[0].ID)
	if code, err := gsrv.Lifecycle(ctx, gsubs[0], webhook.SubscriptionRemoved); err != nil || code != http.StatusAccepted {
		t.Fatalf("lifecycle: %d %v", code, err)
	}
	<-idle // recreated
	gsubs = gsrv.Subscriptions()
	if len(gsubs) != 1 {
		t.Fatalf("after removal: %+v", gsubs)
	}
	if code, err := gsrv.Notify(ctx, gsubs[0].ID, "updated", "call-3"); err != nil || code != http.StatusAccepted {
		t.Fatalf("graph notify: %d %v", code, err)
	}
	stop()
	if err := <-served; err != nil {
		t.Fatalf("serve returned %v", err)
	}
	res, err := queue.Read(context.Background(), cfg.Queue.Path, queue.Cursor{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range res.Calls {
		got = append(got, c.Source+":"+c.ID+fmt.Sprintf("x%d", c.Notifications))
	}
	want := "ringcentral:s-1x2,teams:call-1x1,teams:call-2x1,teams:call-3x1"
	if strings.Join(got, ",") != want || res.Skipped != 0 {
		t.Errorf("queue %s, want %s (skipped %d)", strings.Join(got, ","), want, res.Skipped)
	}
	var out bytes.Buffer
	if err := SubscriptionStatus(&out, cfg.StateDir, clk.Now(), cfg.Serve.RenewBefore); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), gsubs[0].ID) || !strings.Contains(out.String(), rsubs[0].ID) || strings.Contains(out.String(), "WARNING") {
		t.Errorf("status:\n%s", out.String())
	}
}

// TestSubscriptionStatus proves the status lines and the warnings for a
// subscription within the renewal margin and one expired.
func TestSubscriptionStatus(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := SubscriptionStatus(&out, dir, serveStart, 12*time.Hour); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "none (callstats serve creates them)") {
		t.Errorf("empty:\n%s", out.String())
	}
	err := saveSubscriptions(dir, map[string]SubscriptionRecord{
		subTeams:       {Source: subTeams, ID: "g-1", URL: "https://x/graph/callrecords", Expires: serveStart.Add(3 * time.Hour), Renewed: serveStart.Add(-2 * 24 * time.Hour)},
		subRingCentral: {Source: subRingCentral, ID: "r-1", URL: "https://x/ringcentral/telephony", Expires: serveStart.Add(-time.Hour), Renewed: serveStart.Add(-7 * 24 * time.Hour)},
	})
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := SubscriptionStatus(&out, dir, serveStart, 12*time.Hour); err != nil {
		t.Fatal(err)
	}
	want := `Subscriptions
  SOURCE       ID   EXPIRES                           LAST RENEWED          URL
  ringcentral  r-1  2026-11-13 17:00 UTC (1h 0m ago)  2026-11-06 18:00 UTC  https://x/ringcentral/telephony
  teams        g-1  2026-11-13 21:00 UTC (in 3h 0m)   2026-11-11 18:00 UTC  https://x/graph/callrecords
  WARNING: the ringcentral subscription has expired: notifications are not delivered; run callstats serve (it creates a new one)
  WARNING: the teams subscription expires in 3h 0m, within the renewal margin (12h0m0s): is callstats serve running?
`
	if out.String() != want {
		t.Errorf("status:\n%s\nwant:\n%s", out.String(), want)
	}
}

// TestServeRefusesBadConfig proves the checks made before serving.
func TestServeRefusesBadConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := serveConfig(dir, "http://127.0.0.1:1", nil, "")
	cfg.Teams.TenantID = "contoso.onmicrosoft.com"
	if err := Serve(context.Background(), cfg, Env{}); err == nil || !strings.Contains(err.Error(), "not a tenant GUID") {
		t.Errorf("domain tenant: %v", err)
	}
	cfg = serveConfig(dir, "http://127.0.0.1:1", nil, "")
	cfg.Queue.Path = filepath.Join(dir, "export.csv")
	if err := Serve(context.Background(), cfg, Env{}); err == nil || !strings.Contains(err.Error(), "CSV") {
		t.Errorf("csv queue: %v", err)
	}
	cfg = serveConfig(dir, "http://127.0.0.1:1", nil, "")
	cfg.Serve = nil
	if err := Subscribe(context.Background(), cfg, Env{}); err == nil {
		t.Error("subscribe without a serve section")
	}
}

// TestServeChild is the serving process TestServeKill kills: it runs only
// when CALLSTATS_TEST_SERVE_DIR is set, serves Teams notifications into
// the queue in that directory and prints its address.
func TestServeChild(t *testing.T) {
	dir := os.Getenv("CALLSTATS_TEST_SERVE_DIR")
	if dir == "" {
		t.Skip("the child of TestServeKill")
	}
	cfg := serveConfig(dir, "http://127.0.0.1:1", nil, "")
	cfg.Serve.PerIPConcurrency = 1000
	err := serve(context.Background(), cfg, Env{}, serveOptions{clock: SystemClock{},
		ready: func(addr string) { fmt.Printf("ADDR %s\n", addr) }})
	t.Fatal(err) // serve returns only when killed or failed
}

// TestServeKill kills -9 a serving process while notifications stream in:
// every notification answered 202 before the kill is in the queue
// afterwards, none twice, and the queue reads without a torn line.
func TestServeKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeChild$")
	cmd.Env = append(os.Environ(), "CALLSTATS_TEST_SERVE_DIR="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(stdout)
	addr := ""
	for lines.Scan() {
		if a, ok := strings.CutPrefix(lines.Text(), "ADDR "); ok {
			addr = a
			break
		}
	}
	if addr == "" {
		t.Fatal("the child printed no address")
	}
	go io.Copy(io.Discard, stdout)

	const senders, killAfter = 16, 400
	var (
		mu       sync.Mutex
		accepted = map[string]bool{}
		answered atomic.Int64
		killed   = make(chan struct{})
		once     sync.Once
		wg       sync.WaitGroup
	)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	for s := range senders {
		wg.Go(func() {
			for i := 0; ; i++ {
				n := 1 + i%5 // 1 to 5 items a request
				ids := make([]string, n)
				var items []string
				for j := range ids {
					ids[j] = fmt.Sprintf("c%d-%d-%d", s, i, j)
					items = append(items, `{"subscriptionId":"s","changeType":"created","resource":"communications/callRecords/`+ids[j]+
						`","resourceData":{"id":"`+ids[j]+`"},"clientState":"`+serveClientState+`","tenantId":"`+serveTenant+`"}`)
				}
				resp, err := client.Post("http://"+addr+"/graph/callrecords", "application/json",
					strings.NewReader(`{"value":[`+strings.Join(items, ",")+`]}`))
				if err != nil {
					return // killed
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					t.Errorf("answered %d", resp.StatusCode)
					return
				}
				mu.Lock()
				for _, id := range ids {
					accepted[id] = true
				}
				mu.Unlock()
				if answered.Add(1) == killAfter {
					once.Do(func() {
						cmd.Process.Kill() // SIGKILL
						close(killed)
					})
				}
			}
		})
	}
	wg.Wait()
	<-killed
	cmd.Wait()

	path := filepath.Join(dir, "callids.jsonl")
	check := func(stage string) {
		res, err := queue.Read(context.Background(), path, queue.Cursor{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Skipped != 0 {
			t.Errorf("%s: %d torn or bad lines: %v", stage, res.Skipped, res.Errors)
		}
		seen := map[string]bool{}
		for _, c := range res.Calls {
			if c.Notifications != 1 {
				t.Errorf("%s: %s queued %d times", stage, c.ID, c.Notifications)
			}
			seen[c.ID] = true
		}
		missing := 0
		for id := range accepted {
			if !seen[id] {
				missing++
			}
		}
		if missing > 0 {
			t.Errorf("%s: %d of %d notifications answered 202 are not in the queue", stage, missing, len(accepted))
		}
		t.Logf("%s: %d answered 202, %d in the queue", stage, len(accepted), len(seen))
	}
	check("after the kill")
	// The next serve cuts a torn tail and appends after it.
	a, err := queue.OpenAppender(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Append(context.Background(), []queue.Entity{queue.NewEntity(queue.SourceTeams, "after", "created", time.Now())}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	accepted["after"] = true
	check("after a restart")
}

// TestServeFinishesInFlight proves the graceful stop: a request in flight
// when ctx is cancelled is still answered 202 after the listener has
// closed, its notification is in the queue, and serve returns nil.
func TestServeFinishesInFlight(t *testing.T) {
	dir := t.TempDir()
	cfg := serveConfig(dir, "http://127.0.0.1:1", nil, "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	active := make(chan struct{}, 1)
	stopping := make(chan struct{})
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- serve(ctx, cfg, Env{}, serveOptions{clock: SystemClock{}, listener: ln,
			connState: func(_ net.Conn, st http.ConnState) {
				if st == http.StateActive {
					select {
					case active <- struct{}{}:
					default:
					}
				}
			},
			stopping: func() { close(stopping) },
		})
	}()
	body, w := io.Pipe()
	answered := make(chan int, 1)
	go func() {
		resp, err := http.Post("http://"+addr+"/graph/callrecords", "application/json", body)
		if err != nil {
			t.Error(err)
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	item := `{"changeType":"updated","resourceData":{"id":"in-flight"},"clientState":"` + serveClientState + `","tenantId":"` + serveTenant + `"}`
	io.WriteString(w, `{"value":[`)
	<-active // the request is being read
	stop()
	<-stopping // the listener is closed
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Error("still accepting after the stop began")
	}
	io.WriteString(w, item+`]}`)
	w.Close()
	if code := <-answered; code != http.StatusAccepted {
		t.Errorf("in-flight request answered %d", code)
	}
	if err := <-served; err != nil {
		t.Fatalf("serve returned %v", err)
	}
	res, err := queue.Read(context.Background(), cfg.Queue.Path, queue.Cursor{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Calls) != 1 || res.Calls[0].ID != "in-flight" {
		t.Errorf("queue %+v", res.Calls)
	}
}
