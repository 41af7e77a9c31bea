package aztable

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"callstats/extract/queue"
)

// hourLayout is how a PartitionKey names its hour (UTC).
const hourLayout = "2006010215"

// What can be wrong with an entity.
var (
	errNotJSON         = errors.New("not a JSON object")
	errBadPartitionKey = errors.New("PartitionKey is not an hour yyyyMMddHH")
	errBadRowKey       = errors.New("RowKey is not <callId>-<changeType>")
	errEmptyID         = errors.New("empty call id")
	errIDMismatch      = errors.New("CallId does not match RowKey")
	errBadSource       = errors.New("Source is not teams or ringcentral")
	errBadTimestamp    = errors.New("Timestamp is not RFC 3339")
	errNotString       = errors.New("not a string")
)

// EntityError reports an entity that was skipped, named by its keys.
type EntityError struct {
	PartitionKey, RowKey string
	Err                  error
}

// Error returns "entity (PK, RK): WHAT".
func (e *EntityError) Error() string {
	return fmt.Sprintf("entity (PartitionKey %s, RowKey %s): %v", quote(e.PartitionKey), quote(e.RowKey), e.Err)
}

// Unwrap returns what is wrong with the entity.
func (e *EntityError) Unwrap() error { return e.Err }

// wireEntity is an entity as the table service returns it (JSON, minimal
// metadata). Properties other than these are ignored.
type wireEntity struct {
	PartitionKey json.RawMessage `json:"PartitionKey"`
	RowKey       json.RawMessage `json:"RowKey"`
	Timestamp    json.RawMessage `json:"Timestamp"`
	CallID       json.RawMessage `json:"CallId"`
	ChangeType   json.RawMessage `json:"ChangeType"`
	Source       json.RawMessage `json:"Source"`
}

// selectProperties are the only properties a read asks for.
const selectProperties = "PartitionKey,RowKey,Timestamp,CallId,ChangeType,Source"

// str decodes an optional string property: ok is false when it is absent or
// null.
func str(name string, raw json.RawMessage) (s string, ok bool, err error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", false, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, fmt.Errorf("%s: %w", name, errNotString)
	}
	return s, true, nil
}

// parseEntity applies the queue's rules (DESIGN.md, "The ID queue") to one
// entity as the service returned it. The seed's shape has only PartitionKey
// and RowKey: the call id is the RowKey up to its last '-', the change type
// after it, the source Teams. CallId, ChangeType and Source properties, when
// present, say the same explicitly; a CallId must agree with the RowKey.
// The notification time is the entity's Timestamp, else the partition hour.
//
// On error the returned Entity still carries the keys that could be read,
// for the EntityError.
func parseEntity(b []byte) (queue.Entity, error) {
	var w wireEntity
	if err := json.Unmarshal(b, &w); err != nil {
		return queue.Entity{}, errNotJSON
	}
	var out queue.Entity
	pk, _, pkErr := str("PartitionKey", w.PartitionKey)
	rk, _, rkErr := str("RowKey", w.RowKey)
	out.PartitionKey, out.RowKey = pk, rk
	if err := errors.Join(pkErr, rkErr); err != nil {
		return out, err
	}
	hour, err := partitionHour(pk)
	if err != nil {
		return out, err
	}

	i := strings.LastIndexByte(rk, '-')
	if i < 0 {
		return out, fmt.Errorf("%w: %s", errBadRowKey, quote(rk))
	}
	out.CallID, out.ChangeType = rk[:i], rk[i+1:]
	callID, ok, err := str("CallId", w.CallID)
	if err != nil {
		return out, err
	}
	if ok && callID != out.CallID {
		return out, fmt.Errorf("%w: CallId %s, RowKey %s", errIDMismatch, quote(callID), quote(rk))
	}
	if out.CallID == "" {
		return out, errEmptyID
	}
	change, ok, err := str("ChangeType", w.ChangeType)
	if err != nil {
		return out, err
	}
	if ok {
		out.ChangeType = change
	}

	source, ok, err := str("Source", w.Source)
	switch {
	case err != nil:
		return out, err
	case !ok, strings.EqualFold(source, queue.SourceTeams):
		out.Source = queue.SourceTeams
	case strings.EqualFold(source, queue.SourceRingCentral):
		out.Source = queue.SourceRingCentral
	default:
		return out, fmt.Errorf("%w: %s", errBadSource, quote(source))
	}

	ts, ok, err := str("Timestamp", w.Timestamp)
	switch {
	case err != nil:
		return out, err
	case !ok:
		out.Timestamp = hour
	default:
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return out, fmt.Errorf("%w: %s", errBadTimestamp, quote(ts))
		}
		out.Timestamp = t.UTC()
	}
	return out, nil
}

// partitionHour reads a PartitionKey as the UTC hour it names.
func partitionHour(pk string) (time.Time, error) {
	if len(pk) != len(hourLayout) {
		return time.Time{}, fmt.Errorf("%w: %s", errBadPartitionKey, quote(pk))
	}
	t, err := time.Parse(hourLayout, pk)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s", errBadPartitionKey, quote(pk))
	}
	return t, nil
}

// PartitionKey is the key of the partition holding notifications that
// arrived during t's hour (UTC).
func PartitionKey(t time.Time) string { return t.UTC().Format(hourLayout) }

// quote quotes s for an error message, cut short so that a huge value does
// not make a huge error.
func quote(s string) string {
	const limit = 80
	if len(s) > limit {
		return fmt.Sprintf("%q...", s[:limit])
	}
	return fmt.Sprintf("%q", s)
}
