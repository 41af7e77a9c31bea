package aztable

import (
	"strings"
	"testing"

	"callstats/extract/queue"
)

// FuzzParseEntity checks that no entity makes the parser panic, and that an
// accepted entity obeys the queue's rules.
func FuzzParseEntity(f *testing.F) {
	for _, s := range []string{
		`{"PartitionKey":"2026111318","RowKey":"1e2f3a4b-5c6d-4e7f-8a9b-0c1d2e3f4a5b-created","Timestamp":"2026-11-13T18:23:26.7951234Z"}`,
		`{"PartitionKey":"2026111318","RowKey":"s-77-Disconnected","CallId":"s-77","ChangeType":"Disconnected","Source":"ringcentral"}`,
		`{"PartitionKey":"2026111318","RowKey":"a-b","Source":null}`,
		`{"PartitionKey":"bad","RowKey":"nodash"}`,
		`{"PartitionKey":1}`, `[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := parseEntity(b)
		if err != nil {
			return
		}
		if _, err := partitionHour(e.PartitionKey); err != nil {
			t.Fatalf("accepted a bad PartitionKey %q", e.PartitionKey)
		}
		if e.CallID == "" || !strings.HasPrefix(e.RowKey, e.CallID+"-") {
			t.Fatalf("call id %q does not start RowKey %q", e.CallID, e.RowKey)
		}
		if e.Source != queue.SourceTeams && e.Source != queue.SourceRingCentral {
			t.Fatalf("source %q", e.Source)
		}
		if e.Timestamp.IsZero() || e.Timestamp.Location().String() != "UTC" {
			t.Fatalf("timestamp %v", e.Timestamp)
		}
	})
}
