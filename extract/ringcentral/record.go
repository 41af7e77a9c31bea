// Package ringcentral reads RingCentral call-log records (REST v1.0, company
// call log, Detailed view) by time window, and call recordings, with the JWT
// bearer grant, a cached token and pacing for the Heavy rate-limit group.
package ringcentral

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Leg types whose results are a RingOut's caller and callee status.
const (
	LegRingOutToCaller     = "RingOutClientToCaller"
	LegRingOutToSubscriber = "RingOutClientToSubscriber"
)

// ResultInProgress is the result of a call that has not ended yet; the record
// changes to a final result later (and its lastModifiedTime moves).
const ResultInProgress = "In Progress"

// Page is one page of the company call log
// (GET /restapi/v1.0/account/~/call-log).
type Page struct {
	URI        string     `json:"uri"`
	Records    []Record   `json:"records"`
	Paging     Paging     `json:"paging"`
	Navigation Navigation `json:"navigation"`

	// Invalid lists the page's records that could not be used (not an object,
	// a value of the wrong type, no id or no startTime). They are not in
	// Records, so that one bad record does not stop a whole window.
	Invalid []InvalidRecord `json:"-"`
}

// InvalidRecord is a record of a page that DecodePage left out.
type InvalidRecord struct {
	Index int    // position in the page's records
	ID    string // its id, when it could be read
	Err   error
}

// Paging is a page's position. pageStart and pageEnd are 0-based indexes
// into the whole result and absent on an empty page.
type Paging struct {
	Page          int  `json:"page"`
	TotalPages    int  `json:"totalPages"`
	PerPage       int  `json:"perPage"`
	TotalElements int  `json:"totalElements"`
	PageStart     *int `json:"pageStart"`
	PageEnd       *int `json:"pageEnd"`
}

// Navigation links a page to its neighbours; absent links are nil.
type Navigation struct {
	FirstPage    *Link `json:"firstPage"`
	NextPage     *Link `json:"nextPage"`
	PreviousPage *Link `json:"previousPage"`
	LastPage     *Link `json:"lastPage"`
}

// Link is one navigation link.
type Link struct {
	URI string `json:"uri"`
}

// NextPageURI is navigation.nextPage.uri, or "" on the last page.
func (p *Page) NextPageURI() string {
	if p.Navigation.NextPage == nil {
		return ""
	}
	return p.Navigation.NextPage.URI
}

// Record is one call-log record in the Detailed view. Several records can
// share a sessionId / telephonySessionId (queues, transfers); the record id
// is unique. Absent strings are "".
type Record struct {
	URI                string     `json:"uri"`
	ID                 string     `json:"id"`
	SessionID          string     `json:"sessionId"`
	TelephonySessionID string     `json:"telephonySessionId"`
	PartyID            string     `json:"partyId"`
	SIPUUIDInfo        string     `json:"sipUuidInfo"`
	StartTime          time.Time  `json:"startTime"`
	Duration           int64      `json:"duration"`   // whole seconds
	DurationMs         *int64     `json:"durationMs"` // milliseconds, when the source sends it
	Type               string     `json:"type"`       // Voice, Fax
	InternalType       string     `json:"internalType"`
	Direction          string     `json:"direction"` // Inbound, Outbound
	Action             string     `json:"action"`    // Phone Call, RingOut PC, ...
	Result             string     `json:"result"`    // Accepted, Missed, Busy, Call connected, In Progress, ...
	Reason             string     `json:"reason"`
	ReasonDescription  string     `json:"reasonDescription"`
	From               Party      `json:"from"`
	To                 Party      `json:"to"`
	Extension          *Extension `json:"extension"`
	Transport          string     `json:"transport"` // PSTN, VoIP
	Recording          *Recording `json:"recording"`
	LastModifiedTime   time.Time  `json:"lastModifiedTime"`
	Billing            *Billing   `json:"billing"`
	Deleted            bool       `json:"deleted"`
	Legs               []Leg      `json:"legs"`
}

// Leg is one leg of a record (Detailed view). Legs have no id: a leg is its
// record's id and its position.
type Leg struct {
	StartTime          time.Time  `json:"startTime"`
	Duration           int64      `json:"duration"`
	DurationMs         *int64     `json:"durationMs"`
	Type               string     `json:"type"`
	InternalType       string     `json:"internalType"`
	Direction          string     `json:"direction"`
	Action             string     `json:"action"`
	Result             string     `json:"result"`
	Reason             string     `json:"reason"`
	ReasonDescription  string     `json:"reasonDescription"`
	From               Party      `json:"from"`
	To                 Party      `json:"to"`
	Extension          *Extension `json:"extension"`
	TelephonySessionID string     `json:"telephonySessionId"`
	PartyID            string     `json:"partyId"`
	SIPUUIDInfo        string     `json:"sipUuidInfo"`
	Transport          string     `json:"transport"`
	Recording          *Recording `json:"recording"`
	Billing            *Billing   `json:"billing"`
	LegType            string     `json:"legType"` // Accept, RingOutClientToCaller, RingOutClientToSubscriber, ...
	Master             *bool      `json:"master"`  // nil when absent
}

// Party is the caller (from) or callee (to) of a record or leg.
type Party struct {
	PhoneNumber     string `json:"phoneNumber"`
	ExtensionNumber string `json:"extensionNumber"`
	ExtensionID     string `json:"extensionId"`
	Name            string `json:"name"`
	Location        string `json:"location"`
}

// Extension is the extension a record belongs to. Its id is a JSON integer,
// unlike the other ids, which are strings.
type Extension struct {
	URI string `json:"uri"`
	ID  int64  `json:"id"`
}

// Recording is a call recording's metadata; its audio is at ContentURI (see
// Client.Recording).
type Recording struct {
	URI        string `json:"uri"`
	ID         string `json:"id"`
	Type       string `json:"type"` // Automatic, OnDemand
	ContentURI string `json:"contentUri"`
}

// Billing is what a record or leg cost.
type Billing struct {
	CostIncluded  float64 `json:"costIncluded"`
	CostPurchased float64 `json:"costPurchased"`
}

// Seconds is the record's duration in seconds: durationMs / 1000 when the
// source sends it, else duration.
func (r *Record) Seconds() float64 { return seconds(r.Duration, r.DurationMs) }

// Seconds is the leg's duration in seconds, as Record.Seconds.
func (l *Leg) Seconds() float64 { return seconds(l.Duration, l.DurationMs) }

func seconds(s int64, ms *int64) float64 {
	if ms != nil {
		return float64(*ms) / 1000
	}
	return float64(s)
}

// Recordings returns the record's recordings and its legs', each id once, in
// the order they appear (the record's own first). Recordings without a
// content URI are left out.
func (r *Record) Recordings() []Recording {
	var out []Recording
	add := func(rec *Recording) {
		if rec == nil || rec.ContentURI == "" {
			return
		}
		for _, o := range out {
			if o.ID == rec.ID && o.ContentURI == rec.ContentURI {
				return
			}
		}
		out = append(out, *rec)
	}
	add(r.Recording)
	for i := range r.Legs {
		add(r.Legs[i].Recording)
	}
	return out
}

// DecodePage decodes one call-log page. The page must be a JSON object whose
// records is an array (or absent); a record that cannot be used is reported
// in Page.Invalid instead of failing the page.
func DecodePage(b []byte) (*Page, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil, errors.New("decoding call-log page: not a JSON object")
	}
	var raw struct {
		URI        string            `json:"uri"`
		Records    []json.RawMessage `json:"records"`
		Paging     Paging            `json:"paging"`
		Navigation Navigation        `json:"navigation"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("decoding call-log page: %w", err)
	}
	p := &Page{URI: raw.URI, Paging: raw.Paging, Navigation: raw.Navigation}
	p.Records = make([]Record, 0, len(raw.Records))
	for i, rb := range raw.Records {
		var r Record
		if err := decodeRecord(rb, &r); err != nil {
			p.Invalid = append(p.Invalid, InvalidRecord{Index: i, ID: r.ID, Err: err})
			continue
		}
		p.Records = append(p.Records, r)
	}
	return p, nil
}

// decodeRecord decodes one record and checks that it has what every later
// step relies on: an id and a start time. On a type error r.ID is still set
// when the id itself could be read.
func decodeRecord(b []byte, r *Record) error {
	if len(b) == 0 || b[0] != '{' {
		return errors.New("record is not a JSON object")
	}
	if err := json.Unmarshal(b, r); err != nil {
		if r.ID == "" {
			var id struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(b, &id) // best effort, for the message only
			r.ID = id.ID
		}
		return fmt.Errorf("record %q: %w", r.ID, err)
	}
	if r.ID == "" {
		return errors.New("record without id")
	}
	if r.StartTime.IsZero() {
		return fmt.Errorf("record %s without startTime", r.ID)
	}
	return nil
}
