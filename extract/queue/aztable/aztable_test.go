package aztable_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"callstats/extract/queue"
	"callstats/extract/queue/aztable"
	"callstats/internal/azurite"
)

// base is the first hour of the generated tables.
var base = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

const lookback = 2 * time.Hour

// clock is a settable fake clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// open returns the table name on s, created, with the clock c and a
// shared key credential.
func open(t testing.TB, s *azurite.Server, name string, c *clock) *aztable.Table {
	t.Helper()
	return openPaged(t, s, name, c, 0)
}

// openPaged is open with query pages of pageSize entities (0: the default).
func openPaged(t testing.TB, s *azurite.Server, name string, c *clock, pageSize int32) *aztable.Table {
	t.Helper()
	tbl, err := aztable.New(aztable.Config{
		Endpoint:   s.TableURL,
		Table:      name,
		Credential: aztable.Credential{AccountName: azurite.Account, AccountKey: azurite.Key},
		Lookback:   lookback,
		Now:        c.Now,
		PageSize:   pageSize,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tbl.Create(context.Background()); err != nil {
		t.Fatal(err)
	}
	return tbl
}

// rawClient is an aztables client on the same table, for loading and
// listing without the package under test.
func rawClient(t testing.TB, s *azurite.Server, name string) *aztables.Client {
	t.Helper()
	key, err := aztables.NewSharedKeyCredential(azurite.Account, azurite.Key)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := aztables.NewServiceClientWithSharedKey(s.TableURL, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	return svc.NewClient(name)
}

// stored is one generated entity.
type stored struct {
	pk, rk    string
	props     map[string]string // extra properties; nil for the seed's shape
	writtenAt time.Time         // when the receiver writes it (fake clock)
	source    string            // "" for a malformed entity
	id        string
}

func (e stored) key() string { return e.pk + "/" + e.rk }

// guid makes a deterministic GUID-shaped call id (dashes inside).
func guid(i int) string {
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", i*2654435761%(1<<32), i%0xffff, i%0xfff, (i*7)%0xfff, i)
}

// generate makes the seed-shaped table: n entities over 72 hours, Teams
// calls with a created row and updated rows (some in later partitions, the
// same RowKey recurring), RingCentral calls with explicit properties, late
// writes into earlier hours, and three malformed entities.
func generate(n int) []stored {
	var out []stored
	hours := 72
	at := func(h, minute int) time.Time {
		return base.Add(time.Duration(h)*time.Hour + time.Duration(minute)*time.Minute)
	}
	for i := 0; len(out) < n; i++ {
		h := i % hours
		if i%20 == 19 { // a RingCentral call: explicit properties
			id := fmt.Sprintf("s-%x", i)
			out = append(out, stored{pk: aztable.PartitionKey(at(h, 0)), rk: id + "-Disconnected",
				props:     map[string]string{"CallId": id, "ChangeType": "Disconnected", "Source": "ringcentral"},
				writtenAt: at(h, i%60), source: queue.SourceRingCentral, id: id})
			continue
		}
		id := guid(i)
		out = append(out, stored{pk: aztable.PartitionKey(at(h, 0)), rk: id + "-created", writtenAt: at(h, i%60), source: queue.SourceTeams, id: id})
		if len(out) == n {
			break
		}
		uh := min(h+i%3, hours-1) // same or a later partition
		out = append(out, stored{pk: aztable.PartitionKey(at(uh, 0)), rk: id + "-updated", writtenAt: at(uh, (i+30)%60), source: queue.SourceTeams, id: id})
		if i%7 == 0 && uh+1 < hours && len(out) < n { // the same RowKey again, an hour later
			out = append(out, stored{pk: aztable.PartitionKey(at(uh+1, 0)), rk: id + "-updated", writtenAt: at(uh+1, 5), source: queue.SourceTeams, id: id})
		}
		if i%97 == 0 && len(out) < n { // a late write: into hour h, well after it ended
			out[len(out)-1].writtenAt = at(uh+1, 0).Add(lookback - 5*time.Minute)
		}
	}
	out = append(out,
		stored{pk: "not-an-hour", rk: guid(1) + "-created", writtenAt: at(1, 1)},
		stored{pk: aztable.PartitionKey(at(2, 0)), rk: "nodash", writtenAt: at(2, 2)},
		stored{pk: aztable.PartitionKey(at(3, 0)), rk: "x-y-created", props: map[string]string{"Source": "skype"}, writtenAt: at(3, 3)},
	)
	return out
}

// load writes entities as entity group transactions of up to 100 per
// partition, four at a time.
func load(t testing.TB, c *aztables.Client, entities []stored) {
	t.Helper()
	byPK := map[string][]aztables.TransactionAction{}
	var order []string
	for _, e := range entities {
		m := map[string]string{"PartitionKey": e.pk, "RowKey": e.rk}
		for k, v := range e.props {
			m[k] = v
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := byPK[e.pk]; !ok {
			order = append(order, e.pk)
		}
		byPK[e.pk] = append(byPK[e.pk], aztables.TransactionAction{ActionType: aztables.TransactionTypeInsertReplace, Entity: b})
	}
	var batches [][]aztables.TransactionAction
	for _, pk := range order {
		a := byPK[pk]
		for len(a) > 0 {
			k := min(len(a), 100)
			batches = append(batches, a[:k])
			a = a[k:]
		}
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		next = make(chan []aztables.TransactionAction)
	)
	for range 4 {
		wg.Go(func() {
			for b := range next {
				if _, err := c.SubmitTransaction(context.Background(), b, nil); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, b := range batches {
		next <- b
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// listKeys lists every entity's PartitionKey/RowKey with the raw client.
func listKeys(t testing.TB, c *aztables.Client) map[string]bool {
	t.Helper()
	keys := map[string]bool{}
	pager := c.NewListEntitiesPager(&aztables.ListEntitiesOptions{Select: ptr("PartitionKey,RowKey")})
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range page.Entities {
			var k struct{ PartitionKey, RowKey string }
			if err := json.Unmarshal(b, &k); err != nil {
				t.Fatal(err)
			}
			keys[k.PartitionKey+"/"+k.RowKey] = true
		}
	}
	return keys
}

func ptr[T any](v T) *T { return &v }

type callKey struct{ source, id string }

// TestSeedTable runs the table's whole life against Azurite: seedEntities
// seed-shaped entities over 72 hours written as time passes, read
// incrementally with the cursor, then read whole, then pruned.
//
// What it proves depends on how many query pages a read walks, not on how
// many entities there are: a table of 5,000 entities read in pages of 100
// walks as many pages (50 for a whole read, several per incremental read,
// breaking inside partitions) as one of 50,000 in the service's pages of
// 1000, at a tenth of the loading and deleting on Azurite. Reading large
// tables at the real page size is measured by BenchmarkAzureTableRead.
func TestSeedTable(t *testing.T) {
	t.Parallel() // each test has its own Azurite
	const (
		seedEntities = 5_000
		seedPageSize = 100
	)
	s := azurite.Start(t)
	ctx := context.Background()
	clk := &clock{}
	tbl := openPaged(t, s, "seed", clk, seedPageSize)
	raw := rawClient(t, s, "seed")

	all := generate(seedEntities)
	slices.SortStableFunc(all, func(a, b stored) int { return a.writtenAt.Compare(b.writtenAt) })
	wantCalls := map[callKey]int{} // notifications per call
	valid := 0
	for _, e := range all {
		if e.source != "" {
			wantCalls[callKey{e.source, e.id}]++
			valid++
		}
	}
	if valid != seedEntities {
		t.Fatalf("generated %d valid entities, want %d", valid, seedEntities)
	}

	t.Run("incremental", func(t *testing.T) {
		var (
			cursor   aztable.Cursor
			written  int
			present  = map[string]stored{}
			seen     = map[string]int{} // entity key -> reads
			gotCalls = map[callKey]bool{}
			lastRun  = base.Add(72*time.Hour + lookback + 2*time.Hour)
			multi    = 0 // incremental reads that walked more than one page
		)
		for run := base.Add(90 * time.Minute); ; run = run.Add(5 * time.Hour) {
			if run.After(lastRun) {
				run = lastRun
			}
			// The receiver writes what arrived until now.
			n := written
			for n < len(all) && !all[n].writtenAt.After(run) {
				present[all[n].key()] = all[n]
				n++
			}
			load(t, raw, all[written:n])
			written = n
			clk.Set(run)

			res, err := tbl.ReadCalls(ctx, cursor)
			if err != nil {
				t.Fatal(err)
			}
			// Exactly the present valid entities at or after the cursor hour
			// minus the lookback were read.
			from := ""
			if !cursor.Hour.IsZero() {
				from = aztable.PartitionKey(cursor.Hour.Add(-lookback))
			}
			want := 0
			for _, e := range present {
				if e.source != "" && e.pk >= from {
					want++
					seen[e.key()]++
				}
			}
			if res.Entities != want {
				t.Fatalf("run at %s from %q: read %d entities, want %d", run, from, res.Entities, want)
			}
			if res.Entities > seedPageSize {
				multi++
			}
			// Calls are collapsed: no call twice in one read.
			for i, c := range res.Calls {
				if i > 0 && res.Calls[i-1].Source == c.Source && res.Calls[i-1].ID == c.ID {
					t.Fatalf("call %s/%s twice in one read", c.Source, c.ID)
				}
				gotCalls[callKey{c.Source, c.ID}] = true
			}
			// The cursor passes only closed hours.
			wantNext := run.Add(-lookback).Truncate(time.Hour)
			if res.Next.Hour != wantNext {
				t.Fatalf("run at %s: next cursor %s, want %s", run, res.Next, aztable.PartitionKey(wantNext))
			}
			cursor = res.Next
			if run.Equal(lastRun) {
				break
			}
		}
		if written != len(all) {
			t.Fatalf("wrote %d of %d entities", written, len(all))
		}
		if multi < 5 {
			t.Fatalf("only %d incremental reads walked more than one page; the test proves little about the cursor across pages", multi)
		}
		// Nothing missed, late writes included.
		for _, e := range all {
			if e.source != "" && seen[e.key()] == 0 {
				t.Errorf("entity %s (written at %s) never read", e.key(), e.writtenAt)
			}
		}
		if len(gotCalls) != len(wantCalls) {
			t.Errorf("read %d calls, want %d", len(gotCalls), len(wantCalls))
		}
		// Nothing read more often than its hour stays in the lookback and
		// open window: 5-hour runs, a window of at most lookback+1h+5h.
		for k, n := range seen {
			if n > 3 {
				t.Errorf("entity %s read %d times", k, n)
			}
		}
	})

	t.Run("read all", func(t *testing.T) {
		res, err := tbl.ReadCalls(ctx, aztable.Cursor{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Entities != seedEntities || res.Skipped != 3 || len(res.Errors) != 3 {
			t.Fatalf("read %d entities, skipped %d (%d errors); want %d, 3, 3", res.Entities, res.Skipped, len(res.Errors), seedEntities)
		}
		if len(res.Calls) != len(wantCalls) {
			t.Fatalf("%d calls, want %d", len(res.Calls), len(wantCalls))
		}
		for _, c := range res.Calls {
			if n := wantCalls[callKey{c.Source, c.ID}]; c.Notifications != n {
				t.Fatalf("call %s/%s: %d notifications, want %d", c.Source, c.ID, c.Notifications, n)
			}
			if c.FirstNotified.IsZero() || c.LastNotified.Before(c.FirstNotified) {
				t.Fatalf("call %s/%s: notified %s..%s", c.Source, c.ID, c.FirstNotified, c.LastNotified)
			}
		}
		var got []string
		for _, e := range res.Errors {
			got = append(got, e.PartitionKey+"/"+e.RowKey)
		}
		slices.Sort(got)
		want := []string{"2026110102/nodash", "2026110103/x-y-created", "not-an-hour/" + guid(1) + "-created"}
		if !slices.Equal(got, want) {
			t.Fatalf("reported malformed entities %q, want %q", got, want)
		}
	})

	t.Run("prune", func(t *testing.T) {
		// Partitions before hour 12 are old: a sixth of the table, half of
		// it eligible (Azurite deletes about 1,000 entities a second).
		clk.Set(base.Add(60 * time.Hour))
		olderThan := 48 * time.Hour
		cutoff := aztable.PartitionKey(base.Add(12 * time.Hour))
		eligible := func(source, id string) bool {
			return source == queue.SourceRingCentral || id[len(id)-1]%2 == 0
		}
		want := map[string]bool{}
		gone := 0
		for _, e := range all {
			if e.source != "" && e.pk < cutoff && eligible(e.source, e.id) {
				gone++
				continue
			}
			want[e.key()] = true
		}
		asked := 0
		res, err := tbl.Prune(ctx, olderThan, func(source, id string) bool {
			asked++
			return eligible(source, id)
		})
		if err != nil {
			t.Fatal(err)
		}
		// Of the malformed entities, "not-an-hour" sorts after every hour:
		// two are old.
		if res.Deleted != gone || res.Skipped != 2 || res.Deleted+res.Kept != asked || gone == 0 || res.Kept == 0 {
			t.Fatalf("prune: %+v after asking about %d entities, want %d deleted, 2 skipped", res, asked, gone)
		}
		after := listKeys(t, raw)
		for k := range want {
			if !after[k] {
				t.Errorf("entity %s deleted, but it was not eligible or not old", k)
			}
		}
		for k := range after {
			if !want[k] {
				t.Errorf("eligible old entity %s not deleted", k)
			}
		}
	})
}

// TestUpsert checks that upserting the same notifications again does not
// add rows, and that the rows read back as the entities written.
func TestUpsert(t *testing.T) {
	t.Parallel() // each test has its own Azurite
	s := azurite.Start(t)
	ctx := context.Background()
	clk := &clock{now: base.Add(3 * time.Hour)}
	tbl := open(t, s, "sink", clk)
	raw := rawClient(t, s, "sink")

	var in []queue.Entity
	for i := range 250 { // three transactions in hour 0, one in hour 1
		ts := base.Add(time.Duration(i) * 15 * time.Second)
		if i >= 200 {
			ts = base.Add(time.Hour + time.Duration(i)*time.Second)
		}
		in = append(in, queue.Entity{Timestamp: ts, CallID: guid(i), ChangeType: "created"})
	}
	in = append(in,
		queue.Entity{Timestamp: base, CallID: guid(3), ChangeType: "created"}, // a retried notification
		queue.Entity{PartitionKey: "2026110101", CallID: "s-1", ChangeType: "Disconnected", Source: queue.SourceRingCentral},
	)
	for range 2 {
		if err := tbl.Upsert(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(listKeys(t, raw)); n != 251 {
		t.Fatalf("%d rows after upserting twice, want 251", n)
	}
	res, err := tbl.ReadCalls(ctx, aztable.Cursor{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Entities != 251 || res.Skipped != 0 || len(res.Calls) != 251 {
		t.Fatalf("read back %d entities, %d skipped, %d calls; want 251, 0, 251", res.Entities, res.Skipped, len(res.Calls))
	}
	got, err := raw.GetEntity(ctx, "2026110101", "s-1-Disconnected", nil)
	if err != nil {
		t.Fatal(err)
	}
	var props map[string]any
	if err := json.Unmarshal(got.Value, &props); err != nil {
		t.Fatal(err)
	}
	if props["CallId"] != "s-1" || props["ChangeType"] != "Disconnected" || props["Source"] != "ringcentral" {
		t.Fatalf("stored entity %v", props)
	}

	bad := []queue.Entity{
		{CallID: guid(1), ChangeType: "created"},                                   // no hour
		{Timestamp: base, ChangeType: "created"},                                   // no id
		{Timestamp: base, CallID: guid(1), ChangeType: "created", Source: "skype"}, // bad source
		{Timestamp: base, CallID: "a/b", ChangeType: "created"},                    // forbidden key character
		{Timestamp: base, CallID: guid(1), RowKey: guid(2) + "-created"},           // id mismatch
		{PartitionKey: "2026-11-01", CallID: guid(1), ChangeType: "created"},       // bad partition
	}
	for _, e := range bad {
		var ee *aztable.EntityError
		if err := tbl.Upsert(ctx, []queue.Entity{e}); !errors.As(err, &ee) {
			t.Errorf("Upsert(%+v): %v, want an EntityError", e, err)
		}
	}
}

// TestCredentials reads through each kind of credential.
func TestCredentials(t *testing.T) {
	t.Parallel() // each test has its own Azurite
	s := azurite.Start(t)
	ctx := context.Background()
	clk := &clock{now: base.Add(3 * time.Hour)}
	tbl := open(t, s, "creds", clk)
	if err := tbl.Upsert(ctx, []queue.Entity{{Timestamp: base, CallID: guid(1), ChangeType: "created"}}); err != nil {
		t.Fatal(err)
	}
	key, err := aztables.NewSharedKeyCredential(azurite.Account, azurite.Key)
	if err != nil {
		t.Fatal(err)
	}
	sas, err := aztables.AccountSASSignatureValues{
		Protocol:      aztables.SASProtocolHTTPSandHTTP,
		StartTime:     time.Now().Add(-time.Hour).UTC(),
		ExpiryTime:    time.Now().Add(time.Hour).UTC(),
		Permissions:   (&aztables.AccountSASPermissions{Read: true, List: true}).String(),
		ResourceTypes: (&aztables.AccountSASResourceTypes{Container: true, Object: true}).String(),
		Services:      "t",
	}.Sign(key)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]aztable.Config{
		"connection string": {Credential: aztable.Credential{ConnectionString: s.ConnectionString()}},
		"shared key":        {Endpoint: s.TableURL, Credential: aztable.Credential{AccountName: azurite.Account, AccountKey: azurite.Key}},
		"sas":               {Endpoint: s.TableURL, Credential: aztable.Credential{SAS: "?" + sas.Encode()}},
	} {
		t.Run(name, func(t *testing.T) {
			c.Table, c.Now = "creds", clk.Now
			tbl, err := aztable.New(c)
			if err != nil {
				t.Fatal(err)
			}
			res, err := tbl.ReadCalls(ctx, aztable.Cursor{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Calls) != 1 || res.Calls[0].ID != guid(1) {
				t.Fatalf("read %+v", res.Calls)
			}
		})
	}
}

// TestReadEdges checks the oldest hour, that an error from the callback
// stops a read, and that a Timestamp sent with an entity is the service's
// to set.
func TestReadEdges(t *testing.T) {
	t.Parallel() // each test has its own Azurite
	s := azurite.Start(t)
	ctx := context.Background()
	clk := &clock{now: base.Add(10 * time.Hour)}
	tbl := open(t, s, "edges", clk)
	if _, ok, err := tbl.OldestHour(ctx); ok || err != nil {
		t.Fatalf("OldestHour of an empty table: %v, %v", ok, err)
	}
	raw := rawClient(t, s, "edges")
	load(t, raw, []stored{
		{pk: "0000", rk: "a-b"}, // malformed, sorts first
		{pk: aztable.PartitionKey(base.Add(3 * time.Hour)), rk: guid(1) + "-created", props: map[string]string{"Timestamp": "2020-01-01T00:00:00Z"}},
		{pk: aztable.PartitionKey(base.Add(5 * time.Hour)), rk: guid(2) + "-created"},
	})
	hour, ok, err := tbl.OldestHour(ctx)
	if err != nil || !ok || !hour.Equal(base.Add(3*time.Hour)) {
		t.Fatalf("OldestHour: %s, %v, %v; want %s", hour, ok, err, base.Add(3*time.Hour))
	}

	stop := errors.New("enough")
	n := 0
	_, err = tbl.Read(ctx, aztable.Cursor{}, func(e queue.Entity) error {
		n++
		if e.Timestamp.Year() == 2020 {
			t.Errorf("entity %s kept the Timestamp it was sent with", e.RowKey)
		}
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("Read with a failing callback: %v after %d entities", err, n)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := tbl.Read(cctx, aztable.Cursor{}, func(queue.Entity) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read with a cancelled context: %v", err)
	}
}
