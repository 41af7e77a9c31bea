package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// GraphNotification is one item of a Graph change or lifecycle notification
// collection. Exactly one of ChangeType and LifecycleEvent is set.
type GraphNotification struct {
	SubscriptionID                 string `json:"subscriptionId"`
	SubscriptionExpirationDateTime string `json:"subscriptionExpirationDateTime"`
	ChangeType                     string `json:"changeType"`
	LifecycleEvent                 string `json:"lifecycleEvent"`
	Resource                       string `json:"resource"`
	ResourceData                   struct {
		ID string `json:"id"`
	} `json:"resourceData"`
	ClientState string `json:"clientState"`
	TenantID    string `json:"tenantId"`
}

// CallID is the call record's id: resourceData.id, else the last segment
// of resource ("communications/callRecords/{id}").
func (n *GraphNotification) CallID() string {
	if n.ResourceData.ID != "" {
		return n.ResourceData.ID
	}
	r := n.Resource
	if i := strings.LastIndex(strings.ToLower(r), "callrecords/"); i >= 0 {
		r = r[i+len("callrecords/"):]
		r = strings.TrimPrefix(r, "'")
		r = strings.TrimSuffix(r, "'")
		if !strings.ContainsAny(r, "/()") {
			return r
		}
	}
	if i := strings.Index(strings.ToLower(r), "callrecords('"); i >= 0 {
		r = r[i+len("callrecords('"):]
		if j := strings.IndexByte(r, '\''); j > 0 {
			return r[:j]
		}
	}
	return ""
}

// errNotJSON and friends say what is wrong with a body.
var (
	errNotObject = errors.New("not a JSON object")
	errNoValue   = errors.New(`no "value" array`)
	errTrailing  = errors.New("data after the JSON value")
)

// DecodeGraph decodes a Graph notification collection, {"value":[...]}.
// Unknown properties are ignored; a body that is not such an object is an
// error.
func DecodeGraph(body []byte) ([]GraphNotification, error) {
	var c struct {
		Value *[]GraphNotification `json:"value"`
	}
	if err := decodeObject(body, &c); err != nil {
		return nil, err
	}
	if c.Value == nil {
		return nil, errNoValue
	}
	return *c.Value, nil
}

// RingCentralEvent is a RingCentral webhook notification. Only the parts
// callstats reads are decoded.
type RingCentralEvent struct {
	UUID           string `json:"uuid"`
	Event          string `json:"event"`
	SubscriptionID string `json:"subscriptionId"`
	Body           struct {
		TelephonySessionID string `json:"telephonySessionId"`
		Parties            []struct {
			Status struct {
				Code string `json:"code"`
			} `json:"status"`
		} `json:"parties"`
	} `json:"body"`
}

// IsTelephonySession reports whether the event is of the telephony-session
// filter (/restapi/v1.0/account/{id}/telephony/sessions).
func (e *RingCentralEvent) IsTelephonySession() bool {
	rest, ok := strings.CutPrefix(e.Event, "/restapi/v1.0/account/")
	if !ok {
		return false
	}
	account, path, ok := strings.Cut(rest, "/")
	if !ok || account == "" {
		return false
	}
	path, _, _ = strings.Cut(path, "?")
	return path == "telephony/sessions"
}

// StatusCodes returns the parties' status codes, each once, in order.
func (e *RingCentralEvent) StatusCodes() []string {
	var codes []string
	for _, p := range e.Body.Parties {
		c := p.Status.Code
		if c != "" && !slices.Contains(codes, c) {
			codes = append(codes, c)
		}
	}
	return codes
}

// DecodeRingCentral decodes a RingCentral webhook body.
func DecodeRingCentral(body []byte) (*RingCentralEvent, error) {
	var e RingCentralEvent
	if err := decodeObject(body, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// decodeObject decodes body, which must be exactly one JSON object, into v.
func decodeObject(body []byte, v any) error {
	t := bytes.TrimLeft(body, " \t\r\n")
	if len(t) == 0 || t[0] != '{' {
		return errNotObject
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", errNotObject, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errTrailing
	}
	return nil
}
