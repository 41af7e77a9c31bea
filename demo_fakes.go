package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"callstats/config"
	"callstats/extract/graph/graphgen"
	"callstats/extract/graph/graphtest"
	"callstats/extract/queue"
	"callstats/extract/ringcentral/rctest"
	"callstats/jobs"
	"callstats/report"
)

// demoRingCentral puts a week of RingCentral calls on the fake: inbound and
// outbound, answered, missed and voicemail, some recorded.
func demoRingCentral(rc *rctest.Server, monday time.Time) []rctest.Call {
	results := []string{"Accepted", "Accepted", "Accepted", "Call connected", "Missed", "Voicemail", "Busy"}
	var calls []rctest.Call
	for i := range 84 {
		day := monday.AddDate(0, 0, i%7)
		c := rctest.Call{
			ID:        fmt.Sprintf("RC%05dX%d", 31000+i*37, i%10),
			Start:     day.Add(time.Duration(7*60+(i*53)%600) * time.Minute),
			Duration:  time.Duration(30+(i*97)%900) * time.Second,
			Direction: []string{"Inbound", "Outbound"}[i%2],
			Result:    results[(i+i/7)%len(results)],
		}
		if c.Result == "Missed" || c.Result == "Busy" {
			c.Duration = 0
		}
		if i%9 == 4 && c.Duration > 0 {
			c.RecordingID = fmt.Sprintf("rec-%d", i)
			rc.SetRecording(c.RecordingID, []string{"audio/mpeg", "audio/wav"}[i%2], []byte("demo audio"))
		}
		rc.Add(rc.Record(c))
		calls = append(calls, c)
	}
	return calls
}

// demoGraphMail sends the week's workbooks to the demo's managers through
// the fake Graph's sendMail, signed in as the Teams app (delivery.via:
// graph), and lists what the fake received.
func demoGraphMail(ctx context.Context, cfg *config.Config, env jobs.Env, srv *graphtest.Server, w report.Week, stdout, stderr io.Writer) int {
	cfg.Delivery.Via = config.ViaGraph
	cfg.Delivery.Sender = "callstats@kestrel-bay.example"
	cfg.Delivery.Attach = true
	if _, _, err := jobs.Deliver(ctx, cfg, env, w, false); err != nil {
		fmt.Fprintf(stderr, "callstats: demo: mail through Graph: %s\n", oneLine(err))
		return exitCannot
	}
	fmt.Fprintf(stdout, "\nMailed through Graph (POST /users/%s/sendMail on the fake):\n", cfg.Delivery.Sender)
	for _, m := range srv.Mails() {
		for _, a := range m.Attachments {
			fmt.Fprintf(stdout, "  to %s: %q with %s (%d bytes)\n", strings.Join(m.To, ", "), m.Subject, a.Name, len(a.Content))
		}
	}
	return exitOK
}

// demoWithheld counts the calls whose notifications never reach the queue.
type demoWithheld struct{ teams, rc int }

// demoNotes are the notifications of the week's calls as their services
// send them: per Teams call a created one and, for one in three, an
// updated one, a few minutes after it ended; per RingCentral session a
// Disconnected event 20 s after it ended. One Teams call in 16 is never
// notified, as when a receiver is down, and one RingCentral session in 12
// (RingCentral does not retry a failed webhook): reconciliation finds
// those.
func demoNotes(calls []graphgen.Call, rcCalls []rctest.Call) ([]demoNote, demoWithheld) {
	var (
		notes    []demoNote
		withheld demoWithheld
	)
	for i, c := range calls {
		if i%16 == 11 {
			withheld.teams++
			continue
		}
		at := c.End.Add(time.Duration(2+i%7) * time.Minute)
		notes = append(notes, demoNote{source: queue.SourceTeams, id: c.ID, change: "created", at: at})
		if i%3 == 0 {
			notes = append(notes, demoNote{source: queue.SourceTeams, id: c.ID, change: "updated", at: at.Add(40 * time.Second)})
		}
	}
	for i, c := range rcCalls {
		if i%12 == 7 {
			withheld.rc++
			continue
		}
		notes = append(notes, demoNote{source: queue.SourceRingCentral, id: "s-" + c.ID, change: "Disconnected",
			at: c.Start.Add(c.Duration + 20*time.Second)})
	}
	return notes, withheld
}
