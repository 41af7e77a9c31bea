package graph

import (
	"errors"
	"testing"

	"callstats/internal/httpretry"
)

func TestDecodeBatchAnswer(t *testing.T) {
	items, err := decodeBatchAnswer([]byte(`{"responses":[
		{"id":"2","status":429,"headers":{"retry-after":"7"},"body":{"error":{"code":"TooManyRequests"}}},
		{"id":"1","status":200,"headers":{"Content-Type":"application/json"},"body":{"id":"x"}}]}`), 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if items[0].status != 200 || string(items[0].body) != `{"id":"x"}` ||
		items[1].status != 429 || items[1].header.Get("Retry-After") != "7" || items[2].status != 0 {
		t.Errorf("answers %+v", items)
	}
	for _, bad := range []string{
		`<html>`, `{"responses":[{"id":"4","status":200}]}`, `{"responses":[{"id":"1","status":200},{"id":"1","status":200}]}`,
		`{"responses":[{"id":"x","status":200}]}`, `{"responses":[{"id":"1","status":42}]}`,
	} {
		if _, err := decodeBatchAnswer([]byte(bad), 3, nil); err == nil {
			t.Errorf("%s: no error", bad)
		} else if _, ok := errors.AsType[*httpretry.TransientError](err); !ok {
			t.Errorf("%s: %v is not transient", bad, err)
		}
	}
}

func TestRelativeURL(t *testing.T) {
	c, err := NewClient(ClientConfig{TenantID: "t", ClientID: "c", ClientSecret: "s",
		GraphURL: "https://graph.example", LoginURL: "https://login.example"})
	if err != nil {
		t.Fatal(err)
	}
	for link, want := range map[string]string{
		"https://graph.example/v1.0/communications/callRecords/a/sessions?$skiptoken=x%2By": "/communications/callRecords/a/sessions?$skiptoken=x%2By",
		"https://GRAPH.example:443/v1.0/communications/callRecords/a/participants_v2":       "/communications/callRecords/a/participants_v2",
		"https://graph.example/beta/communications/callRecords/a/sessions":                  "",
		"https://other.example/v1.0/communications/callRecords/a/sessions":                  "",
		"http://graph.example/v1.0/communications/callRecords/a/sessions":                   "",
		"/v1.0/communications/callRecords/a/sessions":                                       "",
	} {
		got, err := c.relativeURL(link)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("relativeURL(%s) = %q, %v; want %q", link, got, err, want)
		}
	}
}

func FuzzDecodeBatchAnswer(f *testing.F) {
	f.Add([]byte(`{"responses":[{"id":"1","status":200,"body":{"id":"x"}},{"id":"2","status":404,"headers":{"a":"b"}}]}`), 2)
	f.Add([]byte(`{"responses":[]}`), 1)
	f.Fuzz(func(t *testing.T, body []byte, n int) {
		n = 1 + int(uint(n)%maxBatchItems)
		items, err := decodeBatchAnswer(body, n, nil)
		if err != nil {
			return
		}
		if len(items) != n {
			t.Fatalf("%d answers for %d requests", len(items), n)
		}
		for _, a := range items {
			if a.status != 0 && (a.status < 100 || a.status > 599) {
				t.Fatalf("status %d", a.status)
			}
		}
	})
}
