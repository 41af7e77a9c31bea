package transform

import (
	"time"

	"callstats/extract/ringcentral"
)

// sourceRingCentral is the calls.source value of rows from RingCentral.
const sourceRingCentral = "ringcentral"

// voiceModalities is calls.modalities of a RingCentral Voice record.
var voiceModalities = []string{"audio"}

// AddRingCentral appends the rows of one RingCentral call-log record
// (Detailed view) to calls and legs: one calls row keyed by the record id,
// and a legs row per leg in source order. It never fails: values the record
// lacks become NULL. ingestedAt is the calls row's ingested_at. The rows
// belong in the partition of PartitionDate(rec.StartTime). A nil record adds
// nothing.
func (b *Builder) AddRingCentral(rec *ringcentral.Record, ingestedAt time.Time) {
	if rec == nil {
		return
	}
	for i := range rec.Legs {
		b.addLeg(rec.ID, int32(i), &rec.Legs[i])
	}
	b.addRingCentralCall(rec, ingestedAt)
}

func (b *Builder) addRingCentralCall(rec *ringcentral.Record, ingestedAt time.Time) {
	t := &b.calls
	t.callID.addRequired(rec.ID)
	t.source.addRequired(sourceRingCentral)
	t.callType.add(rec.Type)
	if rec.Type == "Voice" {
		t.modalities.addStrings(voiceModalities)
	} else {
		t.modalities.addNull()
	}
	t.startTime.add(rec.StartTime)
	if rec.Result == ringcentral.ResultInProgress || rec.StartTime.IsZero() {
		// The call has not ended: no end, and no duration yet.
		t.endTime.addNull()
		t.durationS.addNull()
	} else {
		d := time.Duration(rec.Duration) * time.Second
		if rec.DurationMs != nil {
			d = time.Duration(*rec.DurationMs) * time.Millisecond
		}
		t.endTime.add(rec.StartTime.Add(d))
		t.durationS.add(rec.Seconds())
	}
	// RingCentral records have no organizer, participant list, sessions in
	// Graph's sense, streams, join link or version.
	t.organizerID.addNull()
	t.organizerName.addNull()
	t.organizerKind.addNull()
	t.organizerUPN.addNull()
	t.organizerTenantID.addNull()
	t.participantCount.addNull()
	t.sessionCount.addNull()
	t.streamCount.addNull()
	t.classifiedStreamCount.addNull()
	t.poorStreamCount.addNull()
	t.joinWebURL.addNull()
	t.version.addNull()
	t.lastModified.add(rec.LastModifiedTime)
	t.ingestedAt.addRequired(ingestedAt)

	t.telephonySessionID.add(rec.TelephonySessionID)
	t.rcSessionID.add(rec.SessionID)
	t.direction.add(rec.Direction)
	t.result.add(rec.Result)
	caller, callee := RingOutStatus(rec.Legs)
	t.callerStatus.add(caller)
	t.calleeStatus.add(callee)
}

// RingOutStatus returns a RingOut's caller and callee status: the result of
// its first leg of type RingOutClientToCaller, and of its first leg of type
// RingOutClientToSubscriber. Either is "" (NULL) when that leg is missing (a
// busy RingOut may have the caller's leg only), and both are for a call that
// is not a RingOut: the source reports no per-party status for those, and
// the record's result is in calls.result.
func RingOutStatus(legs []ringcentral.Leg) (caller, callee string) {
	var haveCaller, haveCallee bool
	for i := range legs {
		switch legs[i].LegType {
		case ringcentral.LegRingOutToCaller:
			if !haveCaller {
				caller, haveCaller = legs[i].Result, true
			}
		case ringcentral.LegRingOutToSubscriber:
			if !haveCallee {
				callee, haveCallee = legs[i].Result, true
			}
		}
	}
	return caller, callee
}

func (b *Builder) addLeg(callID string, seq int32, l *ringcentral.Leg) {
	t := &b.legs
	t.callID.addRequired(callID)
	t.legSeq.add(seq)
	t.legType.add(l.LegType)
	t.master.addPtr(l.Master)
	t.startTime.add(l.StartTime)
	t.durationS.add(l.Seconds())
	t.direction.add(l.Direction)
	t.action.add(l.Action)
	t.result.add(l.Result)
	t.reason.add(l.Reason)
	t.fromNumber.add(l.From.PhoneNumber)
	t.fromName.add(l.From.Name)
	t.fromExtension.add(l.From.ExtensionNumber)
	t.toNumber.add(l.To.PhoneNumber)
	t.toName.add(l.To.Name)
	t.toExtension.add(l.To.ExtensionNumber)
	if r := l.Recording; r != nil {
		t.recordingID.add(r.ID)
		t.recordingType.add(r.Type)
		t.recordingURI.add(r.ContentURI)
	} else {
		t.recordingID.addNull()
		t.recordingType.addNull()
		t.recordingURI.addNull()
	}
	t.telephonySessionID.add(l.TelephonySessionID)
	t.partyID.add(l.PartyID)
}
