//go:build unix

package jobs

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"callstats/config"
	"callstats/internal/maildev"
	"callstats/report"
)

// reportConfig is a config whose lake is empty, with a delivery section
// sending to 127.0.0.1:port: a tenant-wide recipient and a scoped one.
func reportConfig(t *testing.T, port int) *config.Config {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Queue.Path = filepath.Join(dir, "queue.jsonl")
	cfg.StateDir = filepath.Join(dir, "state")
	cfg.Output.Dir = filepath.Join(dir, "lake")
	cfg.Reports.Dir = filepath.Join(dir, "reports")
	cfg.Teams = &config.Teams{TenantID: "tenant-1", ClientID: "client-1", ClientSecret: config.NewSecret("secret-1")}
	cfg.Delivery = &config.Delivery{Host: "127.0.0.1", Port: port, TLS: "none", From: "stats@example.com",
		Recipients: []config.Recipient{
			{Address: "boss@example.com"},
			{Address: "lead@example.com", Scope: config.Scope{Name: "Sales", AdminUnits: []string{"au-sales"}}},
		}}
	cfg.ApplyDefaults()
	now := time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)
	cfg.Now = func() time.Time { return now }
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(cfg.Output.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestScheduledReportRendersOnce: the scheduled report job renders the
// tenant workbook and each scoped one once, and mails them.
func TestScheduledReportRendersOnce(t *testing.T) {
	t.Parallel()
	srv := maildev.Start(t)
	cfg := reportConfig(t, srv.SMTPPort)
	var logs bytes.Buffer
	env := Env{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	if err := ScheduledJobs(cfg, env)["report"](context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"callstats-2026-W47.xlsx", "callstats-2026-W47-sales.xlsx"} {
		path := filepath.Join(cfg.Reports.Dir, name)
		if _, err := os.Stat(path); err != nil {
			t.Error(err)
		}
		if n := strings.Count(logs.String(), "path="+path+" "); n != 1 {
			t.Errorf("%s rendered %d times, want once\n%s", name, n, logs.String())
		}
	}
	emails, err := srv.Emails(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(emails) != 2 {
		t.Errorf("%d mails sent, want 2", len(emails))
	}
	runs, err := LastRuns(cfg.StateDir, 0)
	if err != nil || len(runs) != 1 || runs[0].Job != "report" || !runs[0].OK {
		t.Errorf("run records %+v, %v; want one completed report", runs, err)
	}
}

// TestReportAndDeliverRefuseALockedStateDir: while another job holds the state
// directory, report and deliver (--resend too) fail at once with ErrLocked,
// and no mail server is contacted.
func TestReportAndDeliverRefuseALockedStateDir(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var dialled atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			dialled.Add(1)
			c.Close()
		}
	}()
	cfg := reportConfig(t, ln.Addr().(*net.TCPAddr).Port)
	lock, err := AcquireLock(cfg.StateDir, "ingest", cfg.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	ctx := context.Background()
	if _, _, err := Deliver(ctx, cfg, Env{}, report.Week{}, true); !errors.Is(err, ErrLocked) {
		t.Errorf("deliver --resend: %v, want ErrLocked", err)
	}
	if _, err := Report(ctx, cfg, Env{}, report.Week{}); !errors.Is(err, ErrLocked) {
		t.Errorf("report: %v, want ErrLocked", err)
	}
	if _, err := ReportAndDeliver(ctx, cfg, Env{}, report.Week{}); !errors.Is(err, ErrLocked) {
		t.Errorf("scheduled report: %v, want ErrLocked", err)
	}
	if n := dialled.Load(); n != 0 {
		t.Errorf("the mail server was contacted %d times", n)
	}
	if es, _ := os.ReadDir(cfg.Reports.Dir); len(es) != 0 {
		t.Errorf("%d workbooks written under a held lock", len(es))
	}
}
