package aztable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"callstats/extract/queue"
)

// Create creates the table; a table that exists already is left alone.
func (t *Table) Create(ctx context.Context) error {
	_, err := t.client.CreateTable(ctx, nil)
	var re *azcore.ResponseError
	if errors.As(err, &re) && re.ErrorCode == string(aztables.TableAlreadyExists) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating azure table %s: %w", t.name, err)
	}
	return nil
}

// row is an entity as Upsert writes it: the seed's keys plus the explicit
// properties.
type row struct {
	PartitionKey string `json:"PartitionKey"`
	RowKey       string `json:"RowKey"`
	CallID       string `json:"CallId"`
	ChangeType   string `json:"ChangeType"`
	Source       string `json:"Source"`
}

// Upsert writes one entity per notification in the seed's shape,
// PartitionKey the hour of e.Timestamp (unless e.PartitionKey is set) and
// RowKey <CallID>-<ChangeType> (unless e.RowKey is set), with CallId,
// ChangeType and Source properties. An entity with the same keys is
// replaced, so a retried notification does not become a second row.
// Entities go out as entity group transactions of at most 100 entities of
// one partition; within a partition the last of duplicate RowKeys wins.
// The service sets each entity's Timestamp.
func (t *Table) Upsert(ctx context.Context, entities []queue.Entity) error {
	partitions := map[string][]row{}
	var order []string // partitions in first-seen order
	index := map[[2]string]int{}
	for _, e := range entities {
		r, err := toRow(e)
		if err != nil {
			return fmt.Errorf("upserting into azure table %s: %w", t.name, err)
		}
		if _, ok := partitions[r.PartitionKey]; !ok {
			order = append(order, r.PartitionKey)
		}
		k := [2]string{r.PartitionKey, r.RowKey}
		if i, ok := index[k]; ok {
			partitions[r.PartitionKey][i] = r
			continue
		}
		index[k] = len(partitions[r.PartitionKey])
		partitions[r.PartitionKey] = append(partitions[r.PartitionKey], r)
	}
	for _, pk := range order {
		rows := partitions[pk]
		for start := 0; start < len(rows); start += maxBatch {
			chunk := rows[start:min(start+maxBatch, len(rows))]
			actions := make([]aztables.TransactionAction, len(chunk))
			for i, r := range chunk {
				b, err := json.Marshal(r)
				if err != nil {
					return err
				}
				actions[i] = aztables.TransactionAction{ActionType: aztables.TransactionTypeInsertReplace, Entity: b}
			}
			if _, err := t.client.SubmitTransaction(ctx, actions, nil); err != nil {
				return fmt.Errorf("upserting %d entities into azure table %s, partition %s: %w", len(chunk), t.name, pk, err)
			}
		}
	}
	return nil
}

// toRow checks e and fills in its keys.
func toRow(e queue.Entity) (row, error) {
	r := row{PartitionKey: e.PartitionKey, RowKey: e.RowKey, CallID: e.CallID, ChangeType: e.ChangeType, Source: e.Source}
	fail := func(err error) (row, error) {
		return row{}, &EntityError{PartitionKey: r.PartitionKey, RowKey: r.RowKey, Err: err}
	}
	switch {
	case r.Source == "":
		r.Source = queue.SourceTeams
	case r.Source != queue.SourceTeams && r.Source != queue.SourceRingCentral:
		return fail(fmt.Errorf("%w: %s", errBadSource, quote(r.Source)))
	}
	if r.CallID == "" {
		return fail(errEmptyID)
	}
	if r.PartitionKey == "" {
		if e.Timestamp.IsZero() {
			return fail(errors.New("no PartitionKey and no Timestamp to take its hour from"))
		}
		r.PartitionKey = PartitionKey(e.Timestamp)
	} else if _, err := partitionHour(r.PartitionKey); err != nil {
		return fail(err)
	}
	if r.RowKey == "" {
		if r.ChangeType == "" {
			return fail(errors.New("no RowKey and no ChangeType to make it"))
		}
		r.RowKey = r.CallID + "-" + r.ChangeType
	}
	i := strings.LastIndexByte(r.RowKey, '-')
	if i < 0 || r.RowKey[:i] != r.CallID {
		return fail(fmt.Errorf("%w: CallId %s, RowKey %s", errIDMismatch, quote(r.CallID), quote(r.RowKey)))
	}
	if r.ChangeType == "" {
		r.ChangeType = r.RowKey[i+1:]
	}
	if strings.ContainsAny(r.RowKey, "/\\#?") || strings.ContainsFunc(r.RowKey, func(c rune) bool { return c < 0x20 || (c >= 0x7f && c <= 0x9f) }) {
		return fail(fmt.Errorf("RowKey %s: contains a character Azure Table keys forbid (/ \\ # ? or a control character)", quote(r.RowKey)))
	}
	return r, nil
}
