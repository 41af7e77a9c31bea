package rctest

import (
	"encoding/json"
	"strconv"
	"time"
)

// Call describes a call-log record for Record to write. Zero fields take the
// defaults named.
type Call struct {
	ID                 string        // the record id
	SessionID          string        // default: a number derived from ID
	TelephonySessionID string        // default "s-" + ID
	Start              time.Time     // startTime
	Duration           time.Duration // default 0; written as duration (s) and durationMs
	Direction          string        // default "Inbound"
	Result             string        // default "Accepted"; "In Progress" for a call not yet ended
	LastModified       time.Time     // default Start + Duration + 30 s
	FromNumber         string        // default "+15085550187"
	ToNumber           string        // default "+17815550163"
	ToName             string        // default "Priya Raghunathan"
	// RecordingID, when set, gives the record and its leg an Automatic
	// recording whose content URI is on the media host (see SetRecording).
	RecordingID string
}

// Record writes c as a Detailed-view call-log record of s's account, shaped
// like RingCentral's (and the sample's): one leg, an integer extension.id.
func (s *Server) Record(c Call) []byte {
	if c.SessionID == "" {
		var h uint32 = 2166136261
		for i := 0; i < len(c.ID); i++ {
			h = (h ^ uint32(c.ID[i])) * 16777619
		}
		c.SessionID = strconv.FormatUint(48200000000+uint64(h%100000000), 10)
	}
	if c.TelephonySessionID == "" {
		c.TelephonySessionID = "s-" + c.ID
	}
	if c.Direction == "" {
		c.Direction = "Inbound"
	}
	if c.Result == "" {
		c.Result = "Accepted"
	}
	if c.LastModified.IsZero() {
		c.LastModified = c.Start.Add(c.Duration + 30*time.Second)
	}
	if c.FromNumber == "" {
		c.FromNumber = "+15085550187"
	}
	if c.ToNumber == "" {
		c.ToNumber = "+17815550163"
	}
	if c.ToName == "" {
		c.ToName = "Priya Raghunathan"
	}
	const extID = 2718035011
	base := "https://platform.ringcentral.com/restapi/v1.0/account/" + s.opts.AccountID
	ext := map[string]any{"uri": base + "/extension/" + strconv.Itoa(extID), "id": extID}
	to := map[string]any{"phoneNumber": c.ToNumber, "extensionNumber": "104", "extensionId": strconv.Itoa(extID), "name": c.ToName}
	from := map[string]any{"phoneNumber": c.FromNumber, "name": "WORCESTER MA", "location": "Worcester, MA"}
	if c.Direction == "Outbound" {
		to, from = from, to
	}
	legType := "Accept"
	if c.Direction == "Outbound" {
		legType = "SipToPstnMetered"
	}
	secs, ms := int64(c.Duration/time.Second), c.Duration.Milliseconds()
	leg := map[string]any{
		"startTime": c.Start.UTC().Format(DateFormat), "duration": secs, "durationMs": ms,
		"type": "Voice", "internalType": "LocalNumber", "direction": c.Direction, "action": "Phone Call",
		"result": c.Result, "reason": c.Result, "to": to, "from": from, "extension": ext,
		"telephonySessionId": c.TelephonySessionID, "partyId": "p-" + c.ID + "-1", "transport": "PSTN",
		"legType": legType, "master": true,
	}
	rec := map[string]any{
		"uri": base + "/call-log/" + c.ID + "?view=Detailed", "id": c.ID, "sessionId": c.SessionID,
		"startTime": c.Start.UTC().Format(DateFormat), "duration": secs, "durationMs": ms,
		"type": "Voice", "internalType": "LocalNumber", "direction": c.Direction, "action": "Phone Call",
		"result": c.Result, "reason": c.Result, "to": to, "from": from, "extension": ext,
		"telephonySessionId": c.TelephonySessionID, "partyId": "p-" + c.ID + "-1", "transport": "PSTN",
		"lastModifiedTime": c.LastModified.UTC().Format(DateFormat),
		"billing":          map[string]any{"costIncluded": 0.0, "costPurchased": 0.0},
		"legs":             []any{leg},
	}
	if c.RecordingID != "" {
		r := map[string]any{
			"uri": base + "/recording/" + c.RecordingID, "id": c.RecordingID, "type": "Automatic",
			"contentUri": s.ContentURI(c.RecordingID),
		}
		rec["recording"], leg["recording"] = r, r
	}
	b, _ := json.Marshal(rec) // maps of strings, numbers and maps always marshal
	return b
}
