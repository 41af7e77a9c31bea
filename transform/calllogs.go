package transform

import (
	"time"

	"callstats/extract/graph"
)

// AddPstnCall appends one row of Graph's PSTN call log to pstn_calls, keyed by
// the row's id. It never fails: values the row lacks become NULL, as do empty
// strings. ingestedAt is the row's ingested_at. The row belongs in the
// partition of PartitionDate(r.StartDateTime). A nil row, or one without an id
// (which graph.DecodePstnCall refuses), adds nothing: the lake keys and
// deduplicates the table's rows by id.
func (b *Builder) AddPstnCall(r *graph.PstnCall, ingestedAt time.Time) {
	if r == nil || r.ID == "" {
		return
	}
	t := &b.pstnCalls
	t.id.addRequired(r.ID)
	t.callID.addPtr(r.CallID)
	t.userID.addPtr(r.UserID)
	t.upn.addPtr(r.UserPrincipalName)
	t.userDisplayName.addPtr(r.UserDisplayName)
	t.startTime.add(r.StartDateTime)
	t.endTime.addPtr(r.EndDateTime)
	addWholeSeconds(t.durationS, r.Duration)
	t.charge.addPtr(r.Charge)
	t.currency.addPtr(r.Currency)
	t.callType.addPtr(r.CallType)
	t.callerNumber.addPtr(r.CallerNumber)
	t.calleeNumber.addPtr(r.CalleeNumber)
	t.destinationName.addPtr(r.DestinationName)
	t.destinationContext.addPtr(r.DestinationContext)
	t.connectionCharge.addPtr(r.ConnectionCharge)
	t.usageCountryCode.addPtr(r.UsageCountryCode)
	t.tenantCountryCode.addPtr(r.TenantCountryCode)
	t.conferenceID.addPtr(r.ConferenceID)
	t.licenseCapability.addPtr(r.LicenseCapability)
	t.inventoryType.addPtr(r.InventoryType)
	t.operator.addPtr(r.Operator)
	t.callDurationSource.addPtr(r.CallDurationSource)
	t.ingestedAt.addRequired(ingestedAt)
}

// AddDirectRoutingCall appends one row of Graph's Direct Routing call log to
// direct_routing_calls, keyed by the row's id; otherwise as AddPstnCall. A
// time Graph sent as its "no value" sentinel (decoded to nil by
// graph.DecodeDirectRoutingCall) is NULL.
func (b *Builder) AddDirectRoutingCall(r *graph.DirectRoutingCall, ingestedAt time.Time) {
	if r == nil || r.ID == "" {
		return
	}
	t := &b.drCalls
	t.id.addRequired(r.ID)
	t.correlationID.addPtr(r.CorrelationID)
	t.userID.addPtr(r.UserID)
	t.upn.addPtr(r.UserPrincipalName)
	t.userDisplayName.addPtr(r.UserDisplayName)
	t.startTime.add(r.StartDateTime)
	t.inviteTime.addPtr(r.InviteDateTime)
	t.failureTime.addPtr(r.FailureDateTime)
	t.endTime.addPtr(r.EndDateTime)
	addWholeSeconds(t.durationS, r.Duration)
	t.callType.addPtr(r.CallType)
	t.successFlag.addPtr(r.SuccessfulCall)
	t.callerNumber.addPtr(r.CallerNumber)
	t.calleeNumber.addPtr(r.CalleeNumber)
	t.mediaPathLocation.addPtr(r.MediaPathLocation)
	t.signalingLocation.addPtr(r.SignalingLocation)
	t.finalSIPCode.addPtr(r.FinalSipCode)
	t.callEndSubReason.addPtr(r.CallEndSubReason)
	t.finalSIPCodePhrase.addPtr(r.FinalSipCodePhrase)
	t.trunkFQDN.addPtr(r.TrunkFullyQualifiedDomainName)
	t.mediaBypassEnabled.addPtr(r.MediaBypassEnabled)
	t.ingestedAt.addRequired(ingestedAt)
}

// addWholeSeconds appends a whole number of seconds as a float64, or NULL when s
// is nil.
func addWholeSeconds(c f64Col, s *int64) {
	if s == nil {
		c.addNull()
		return
	}
	c.add(float64(*s))
}
