package aztable

import (
	"errors"
	"testing"
	"time"

	"callstats/extract/queue"
)

func TestParseEntity(t *testing.T) {
	const id = "1e2f3a4b-5c6d-4e7f-8a9b-0c1d2e3f4a5b"
	hour := time.Date(2026, 11, 13, 18, 0, 0, 0, time.UTC)
	ts := time.Date(2026, 11, 13, 18, 23, 26, 795_123_400, time.UTC)
	tests := []struct {
		name string
		in   string
		want queue.Entity
		err  error
	}{
		{"seed shape", `{"PartitionKey":"2026111318","RowKey":"` + id + `-created","Timestamp":"2026-11-13T18:23:26.7951234Z"}`,
			queue.Entity{PartitionKey: "2026111318", RowKey: id + "-created", Timestamp: ts, CallID: id, ChangeType: "created", Source: queue.SourceTeams}, nil},
		{"no Timestamp: the partition hour", `{"PartitionKey":"2026111318","RowKey":"` + id + `-updated"}`,
			queue.Entity{PartitionKey: "2026111318", RowKey: id + "-updated", Timestamp: hour, CallID: id, ChangeType: "updated", Source: queue.SourceTeams}, nil},
		{"explicit properties", `{"PartitionKey":"2026111318","RowKey":"s-77-Disconnected","CallId":"s-77","ChangeType":"Disconnected","Source":"RingCentral","odata.etag":"x"}`,
			queue.Entity{PartitionKey: "2026111318", RowKey: "s-77-Disconnected", Timestamp: hour, CallID: "s-77", ChangeType: "Disconnected", Source: queue.SourceRingCentral}, nil},
		{"ChangeType overrides the RowKey's", `{"PartitionKey":"2026111318","RowKey":"` + id + `-x","ChangeType":"updated","Source":"teams"}`,
			queue.Entity{PartitionKey: "2026111318", RowKey: id + "-x", Timestamp: hour, CallID: id, ChangeType: "updated", Source: queue.SourceTeams}, nil},
		{"null properties are absent", `{"PartitionKey":"2026111318","RowKey":"` + id + `-created","CallId":null,"Source":null}`,
			queue.Entity{PartitionKey: "2026111318", RowKey: id + "-created", Timestamp: hour, CallID: id, ChangeType: "created", Source: queue.SourceTeams}, nil},
		{"offset Timestamp in UTC", `{"PartitionKey":"2026111318","RowKey":"a-b","Timestamp":"2026-11-13T19:23:26.7951234+01:00"}`,
			queue.Entity{PartitionKey: "2026111318", RowKey: "a-b", Timestamp: ts, CallID: "a", ChangeType: "b", Source: queue.SourceTeams}, nil},

		{"not JSON", `{"PartitionKey":`, queue.Entity{}, errNotJSON},
		{"bad PartitionKey", `{"PartitionKey":"2026-11-13","RowKey":"a-b"}`, queue.Entity{PartitionKey: "2026-11-13", RowKey: "a-b"}, errBadPartitionKey},
		{"hour 24", `{"PartitionKey":"2026111324","RowKey":"a-b"}`, queue.Entity{PartitionKey: "2026111324", RowKey: "a-b"}, errBadPartitionKey},
		{"no PartitionKey", `{"RowKey":"a-b"}`, queue.Entity{RowKey: "a-b"}, errBadPartitionKey},
		{"PartitionKey not a string", `{"PartitionKey":2026111318,"RowKey":"a-b"}`, queue.Entity{RowKey: "a-b"}, errNotString},
		{"RowKey without a dash", `{"PartitionKey":"2026111318","RowKey":"abc"}`, queue.Entity{PartitionKey: "2026111318", RowKey: "abc"}, errBadRowKey},
		{"empty id", `{"PartitionKey":"2026111318","RowKey":"-created"}`, queue.Entity{PartitionKey: "2026111318", RowKey: "-created", ChangeType: "created"}, errEmptyID},
		{"CallId disagrees", `{"PartitionKey":"2026111318","RowKey":"a-b","CallId":"c"}`, queue.Entity{PartitionKey: "2026111318", RowKey: "a-b", CallID: "a", ChangeType: "b"}, errIDMismatch},
		{"bad Source", `{"PartitionKey":"2026111318","RowKey":"a-b","Source":"skype"}`, queue.Entity{PartitionKey: "2026111318", RowKey: "a-b", CallID: "a", ChangeType: "b"}, errBadSource},
		{"Source not a string", `{"PartitionKey":"2026111318","RowKey":"a-b","Source":1}`, queue.Entity{PartitionKey: "2026111318", RowKey: "a-b", CallID: "a", ChangeType: "b"}, errNotString},
		{"bad Timestamp", `{"PartitionKey":"2026111318","RowKey":"a-b","Timestamp":"yesterday"}`, queue.Entity{PartitionKey: "2026111318", RowKey: "a-b", CallID: "a", ChangeType: "b", Source: queue.SourceTeams}, errBadTimestamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseEntity([]byte(tt.in))
			if !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if got != tt.want {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestEntityError(t *testing.T) {
	err := error(&EntityError{PartitionKey: "2026111318", RowKey: "abc", Err: errBadRowKey})
	if got, want := err.Error(), `entity (PartitionKey "2026111318", RowKey "abc"): RowKey is not <callId>-<changeType>`; got != want {
		t.Fatalf("Error() = %s, want %s", got, want)
	}
	if !errors.Is(err, errBadRowKey) {
		t.Fatal("does not unwrap to its cause")
	}
}

func TestCursor(t *testing.T) {
	c, err := ParseCursor("2026111318")
	if err != nil || c.Hour != time.Date(2026, 11, 13, 18, 0, 0, 0, time.UTC) || c.String() != "2026111318" {
		t.Fatalf("ParseCursor: %v, %v", c, err)
	}
	if c, err := ParseCursor(""); err != nil || !c.Hour.IsZero() || c.String() != "" {
		t.Fatalf("ParseCursor(\"\"): %v, %v", c, err)
	}
	if _, err := ParseCursor("20261113"); !errors.Is(err, errBadPartitionKey) {
		t.Fatalf("ParseCursor(short): %v", err)
	}
}

func TestNextCursor(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 11, 13, h, m, 0, 0, time.UTC) }
	tests := []struct {
		from     Cursor
		now      time.Time
		lookback time.Duration
		want     time.Time
	}{
		{Cursor{}, at(10, 30), 2 * time.Hour, at(8, 0)},               // hour 07 closed at 10:00; 08 open until 11:00
		{Cursor{}, at(11, 0), 2 * time.Hour, at(9, 0)},                // hour 08 closes exactly now
		{Cursor{Hour: at(9, 0)}, at(10, 30), 2 * time.Hour, at(9, 0)}, // never back
		{Cursor{Hour: at(3, 0)}, at(10, 30), 0, at(10, 0)},
	}
	for _, tt := range tests {
		if got := nextCursor(tt.from, tt.now, tt.lookback); !got.Hour.Equal(tt.want) {
			t.Errorf("nextCursor(%v, %s, %s) = %s, want %s", tt.from, tt.now, tt.lookback, got.Hour, tt.want)
		}
	}
}
