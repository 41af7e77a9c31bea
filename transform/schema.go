// Package transform flattens call records into Arrow record batches, one batch
// per lake table, with the columns documented in docs/schema.md.
//
// A table is defined once, by a struct of typed column handles and its columns
// method (in this file): the same method yields the table's Arrow schema and binds
// the handles to a record builder, so the schema and the flattener cannot
// disagree on a column's position or type. Adding a table is one such definition
// plus one flattener that appends a value to every column per row.
package transform

import (
	"github.com/apache/arrow-go/v18/arrow"
)

// Table names one table of the lake; it is also the table's directory name.
type Table string

// The tables of the lake.
const (
	Calls        Table = "calls"
	Participants Table = "participants"
	Sessions     Table = "sessions"
	Streams      Table = "streams"
	Legs         Table = "legs"

	PstnCalls          Table = "pstn_calls"
	DirectRoutingCalls Table = "direct_routing_calls"
)

// GraphTables are the tables a Teams call record yields rows for, in the order
// they are documented.
var GraphTables = []Table{Calls, Participants, Sessions, Streams}

// RingCentralTables are the tables a RingCentral call-log record yields rows
// for, in the order they are documented.
var RingCentralTables = []Table{Calls, Legs}

// CallLogTables are the tables of Graph's PSTN and Direct Routing call logs,
// one row per log row each, in the order they are documented. Their rows are
// keyed by their first column, id (the log row's id), not by call_id.
var CallLogTables = []Table{PstnCalls, DirectRoutingCalls}

// AllTables lists every table of call rows once (every table Schema knows and
// a Builder fills), in the order they are documented. The reconcile table,
// which holds per-day counts rather than rows of calls, is not among them.
var AllTables = []Table{Calls, Participants, Sessions, Streams, Legs, PstnCalls, DirectRoutingCalls}

// KeyColumn names the column of table t that holds the id of the item a row
// belongs to: id for the call-log tables (a row is its own item), call_id
// for the tables of calls.
func KeyColumn(t Table) string {
	switch t {
	case PstnCalls, DirectRoutingCalls:
		return "id"
	}
	return "call_id"
}

// UniqueColumns names the columns of table t whose values are distinct in
// nearly every row or call (ids, times, durations, byte and packet counters),
// which the lake writes without dictionary encoding: a dictionary of such a
// column costs hashing and a dictionary page and comes out larger after zstd
// than the plain values (measured on lakebench's generated records: the
// lake's files 11 % smaller, the write path 5 % less CPU).
func UniqueColumns(t Table) []string {
	switch t {
	case Calls:
		return []string{"call_id", "start_time", "end_time", "duration_s", "join_web_url", "last_modified"}
	case Participants:
		return []string{"call_id"}
	case Sessions:
		return []string{"call_id", "session_id", "start_time", "end_time", "duration_s"}
	case Streams:
		return []string{"call_id", "session_id", "segment_id", "segment_start", "segment_end",
			"stream_id", "start_time", "end_time", "avg_bandwidth_estimate_bps", "packet_utilization",
			"caller_wifi_signal_strength", "callee_wifi_signal_strength"}
	case PstnCalls, DirectRoutingCalls:
		return []string{"id"}
	}
	return nil
}

// Schema returns the Arrow schema of table t, or nil if t is not a table.
// The returned schema is shared and must not be modified.
func Schema(t Table) *arrow.Schema { return schemas[t] }

// tableDef is the column list of one table; see columnSet.
type tableDef interface{ columns(c *columnSet) }

// newTableDef returns an unbound definition of table t, or nil.
func newTableDef(t Table) tableDef {
	switch t {
	case Calls:
		return &callsTable{}
	case Participants:
		return &participantsTable{}
	case Sessions:
		return &sessionsTable{}
	case Streams:
		return &streamsTable{}
	case Legs:
		return &legsTable{}
	case PstnCalls:
		return &pstnCallsTable{}
	case DirectRoutingCalls:
		return &directRoutingCallsTable{}
	}
	return nil
}

// schemas holds every table's schema, built from the table definitions.
var schemas = make(map[Table]*arrow.Schema)

// init builds the schemas; in an init function (not a variable initializer)
// because the column types must be initialized first.
func init() {
	for _, t := range AllTables {
		var c columnSet
		newTableDef(t).columns(&c)
		schemas[t] = arrow.NewSchema(c.fields, nil)
	}
}

// Column types.
var (
	utf8Type      = arrow.BinaryTypes.String
	float64Type   = arrow.PrimitiveTypes.Float64
	int32Type     = arrow.PrimitiveTypes.Int32
	int64Type     = arrow.PrimitiveTypes.Int64
	boolType      = arrow.FixedWidthTypes.Boolean
	timestampType = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	utf8ListType  = arrow.ListOf(arrow.BinaryTypes.String)
)

// Nullability of a column, for readability of the column lists.
const (
	required = false
	nullable = true
)

// callsTable: one row per call.
type callsTable struct {
	callID, source, callType                    strCol
	modalities                                  listCol
	startTime, endTime                          tsCol
	durationS                                   f64Col
	organizerID, organizerName, organizerKind   strCol
	organizerUPN, organizerTenantID             strCol
	participantCount, sessionCount, streamCount i32Col
	classifiedStreamCount, poorStreamCount      i32Col
	joinWebURL                                  strCol
	version                                     i64Col
	lastModified, ingestedAt                    tsCol
	telephonySessionID, rcSessionID, direction  strCol
	result, callerStatus, calleeStatus          strCol
}

func (t *callsTable) columns(c *columnSet) {
	c.str(&t.callID, "call_id", required)
	c.str(&t.source, "source", required)
	c.str(&t.callType, "call_type", nullable)
	c.list(&t.modalities, "modalities", nullable)
	c.ts(&t.startTime, "start_time", nullable)
	c.ts(&t.endTime, "end_time", nullable)
	c.f64(&t.durationS, "duration_s", nullable)
	c.str(&t.organizerID, "organizer_id", nullable)
	c.str(&t.organizerName, "organizer_name", nullable)
	c.str(&t.organizerKind, "organizer_kind", nullable)
	c.str(&t.organizerUPN, "organizer_upn", nullable)
	c.str(&t.organizerTenantID, "organizer_tenant_id", nullable)
	c.i32(&t.participantCount, "participant_count", nullable)
	c.i32(&t.sessionCount, "session_count", nullable)
	c.i32(&t.streamCount, "stream_count", nullable)
	c.i32(&t.classifiedStreamCount, "classified_stream_count", nullable)
	c.i32(&t.poorStreamCount, "poor_stream_count", nullable)
	c.str(&t.joinWebURL, "join_web_url", nullable)
	c.i64(&t.version, "version", nullable)
	c.ts(&t.lastModified, "last_modified", nullable)
	c.ts(&t.ingestedAt, "ingested_at", required)
	// RingCentral only; NULL for Teams rows.
	c.str(&t.telephonySessionID, "telephony_session_id", nullable)
	c.str(&t.rcSessionID, "session_id", nullable)
	c.str(&t.direction, "direction", nullable)
	c.str(&t.result, "result", nullable)
	c.str(&t.callerStatus, "caller_status", nullable)
	c.str(&t.calleeStatus, "callee_status", nullable)
}

// participantsTable: one row per participant of a call.
type participantsTable struct {
	callID, participantID, displayName, tenantID, upn, kind strCol
	administrativeUnitIDs                                   listCol
}

func (t *participantsTable) columns(c *columnSet) {
	c.str(&t.callID, "call_id", required)
	c.str(&t.participantID, "participant_id", nullable)
	c.str(&t.displayName, "display_name", nullable)
	c.str(&t.tenantID, "tenant_id", nullable)
	c.str(&t.upn, "user_principal_name", nullable)
	c.str(&t.kind, "kind", nullable)
	c.list(&t.administrativeUnitIDs, "administrative_unit_ids", nullable)
}

// sessionsTable: one row per session of a call, in source order.
type sessionsTable struct {
	callID, sessionID           strCol
	sessionSeq                  i32Col
	startTime, endTime          tsCol
	durationS                   f64Col
	modalities                  listCol
	isTest                      boolCol
	caller, callee              sessionEndpointCols
	failureStage, failureReason strCol
	segmentCount                i32Col
}

func (t *sessionsTable) columns(c *columnSet) {
	c.str(&t.callID, "call_id", required)
	c.str(&t.sessionID, "session_id", nullable)
	c.i32(&t.sessionSeq, "session_seq", required)
	c.ts(&t.startTime, "start_time", nullable)
	c.ts(&t.endTime, "end_time", nullable)
	c.f64(&t.durationS, "duration_s", nullable)
	c.list(&t.modalities, "modalities", nullable)
	c.boolean(&t.isTest, "is_test", nullable)
	t.caller.columns(c, "caller")
	t.callee.columns(c, "callee")
	c.str(&t.failureStage, "failure_stage", nullable)
	c.str(&t.failureReason, "failure_reason", nullable)
	c.i32(&t.segmentCount, "segment_count", nullable)
}

// sessionEndpointCols are the columns describing a session's caller or callee.
type sessionEndpointCols struct {
	id, displayName, upn, tenantID, kind       strCol
	platform, productFamily, userAgent, appVer strCol
	endpointName, cpuName                      strCol
	cpuCores                                   i64Col
	feedbackRating, feedbackText               strCol
	feedbackTokens                             listCol
}

func (e *sessionEndpointCols) columns(c *columnSet, side string) {
	c.str(&e.id, side+"_id", nullable)
	c.str(&e.displayName, side+"_display_name", nullable)
	c.str(&e.upn, side+"_upn", nullable)
	c.str(&e.tenantID, side+"_tenant_id", nullable)
	c.str(&e.kind, side+"_kind", nullable)
	c.str(&e.platform, side+"_platform", nullable)
	c.str(&e.productFamily, side+"_product_family", nullable)
	c.str(&e.userAgent, side+"_user_agent", nullable)
	c.str(&e.appVer, side+"_app_version", nullable)
	c.str(&e.endpointName, side+"_endpoint_name", nullable)
	c.str(&e.cpuName, side+"_cpu_name", nullable)
	c.i64(&e.cpuCores, side+"_cpu_cores", nullable)
	c.str(&e.feedbackRating, side+"_feedback_rating", nullable)
	c.str(&e.feedbackText, side+"_feedback_text", nullable)
	c.list(&e.feedbackTokens, side+"_feedback_tokens", nullable)
}

// streamsTable: one row per stream of every media of every segment.
type streamsTable struct {
	callID, sessionID                         strCol
	sessionSeq                                i32Col
	segmentID                                 strCol
	segmentStart, segmentEnd                  tsCol
	segmentFailureStage, segmentFailureReason strCol
	mediaLabel, mediaType                     strCol
	streamID, streamDirection                 strCol
	startTime, endTime                        tsCol
	quality                                   strCol
	isPoor                                    boolCol
	audioCodec, videoCodec                    strCol

	avgJitterMs, maxJitterMs                 f64Col
	avgPacketLossRate, maxPacketLossRate     f64Col
	avgRoundTripMs, maxRoundTripMs           f64Col
	avgAudioDegradation                      f64Col
	avgConcealedRatio, maxConcealedRatio     f64Col
	avgAudioNetJitterMs, maxAudioNetJitterMs f64Col
	isAudioFECUsed                           boolCol
	avgVideoFrameRate, avgReceivedFrameRate  f64Col
	avgVideoFrameLossPct                     f64Col
	avgVideoPacketLossRate                   f64Col
	postFECPacketLossRate                    f64Col
	lowFrameRateRatio                        f64Col
	avgFreezeDurationS, rmsFreezeDurationS   f64Col
	avgBandwidthEstimateBps                  i64Col
	packetUtilization                        i64Col
	wasMediaBypassed                         boolCol

	caller, callee streamSideCols
}

func (t *streamsTable) columns(c *columnSet) {
	c.str(&t.callID, "call_id", required)
	c.str(&t.sessionID, "session_id", nullable)
	c.i32(&t.sessionSeq, "session_seq", required)
	c.str(&t.segmentID, "segment_id", nullable)
	c.ts(&t.segmentStart, "segment_start", nullable)
	c.ts(&t.segmentEnd, "segment_end", nullable)
	c.str(&t.segmentFailureStage, "segment_failure_stage", nullable)
	c.str(&t.segmentFailureReason, "segment_failure_reason", nullable)
	c.str(&t.mediaLabel, "media_label", nullable)
	c.str(&t.mediaType, "media_type", required)
	c.str(&t.streamID, "stream_id", nullable)
	c.str(&t.streamDirection, "stream_direction", nullable)
	c.ts(&t.startTime, "start_time", nullable)
	c.ts(&t.endTime, "end_time", nullable)
	c.str(&t.quality, "quality", required)
	c.boolean(&t.isPoor, "is_poor", nullable)
	c.str(&t.audioCodec, "audio_codec", nullable)
	c.str(&t.videoCodec, "video_codec", nullable)
	c.f64(&t.avgJitterMs, "avg_jitter_ms", nullable)
	c.f64(&t.maxJitterMs, "max_jitter_ms", nullable)
	c.f64(&t.avgPacketLossRate, "avg_packet_loss_rate", nullable)
	c.f64(&t.maxPacketLossRate, "max_packet_loss_rate", nullable)
	c.f64(&t.avgRoundTripMs, "avg_round_trip_ms", nullable)
	c.f64(&t.maxRoundTripMs, "max_round_trip_ms", nullable)
	c.f64(&t.avgAudioDegradation, "avg_audio_degradation", nullable)
	c.f64(&t.avgConcealedRatio, "avg_concealed_ratio", nullable)
	c.f64(&t.maxConcealedRatio, "max_concealed_ratio", nullable)
	c.f64(&t.avgAudioNetJitterMs, "avg_audio_network_jitter_ms", nullable)
	c.f64(&t.maxAudioNetJitterMs, "max_audio_network_jitter_ms", nullable)
	c.boolean(&t.isAudioFECUsed, "is_audio_fec_used", nullable)
	c.f64(&t.avgVideoFrameRate, "avg_video_frame_rate", nullable)
	c.f64(&t.avgReceivedFrameRate, "avg_received_frame_rate", nullable)
	c.f64(&t.avgVideoFrameLossPct, "avg_video_frame_loss_pct", nullable)
	c.f64(&t.avgVideoPacketLossRate, "avg_video_packet_loss_rate", nullable)
	c.f64(&t.postFECPacketLossRate, "post_fec_packet_loss_rate", nullable)
	c.f64(&t.lowFrameRateRatio, "low_frame_rate_ratio", nullable)
	c.f64(&t.avgFreezeDurationS, "avg_freeze_duration_s", nullable)
	c.f64(&t.rmsFreezeDurationS, "rms_freeze_duration_s", nullable)
	c.i64(&t.avgBandwidthEstimateBps, "avg_bandwidth_estimate_bps", nullable)
	c.i64(&t.packetUtilization, "packet_utilization", nullable)
	c.boolean(&t.wasMediaBypassed, "was_media_bypassed", nullable)
	t.caller.columns(c, "caller")
	t.callee.columns(c, "callee")
}

// streamSideCols are the columns describing the caller's or callee's endpoint,
// network and devices in a stream's segment.
type streamSideCols struct {
	id, kind, platform, productFamily      strCol
	connectionType, subnet, transport, dns strCol
	linkSpeedBps                           i64Col
	wifiBand, wifiRadioType                strCol
	wifiSignalStrength                     i64Col
	bandwidthLowEventRatio                 f64Col
	captureDevice, renderDevice            strCol
	micGlitchRate, speakerGlitchRate       f64Col
	howlingEventCount                      i64Col
}

func (s *streamSideCols) columns(c *columnSet, side string) {
	c.str(&s.id, side+"_id", nullable)
	c.str(&s.kind, side+"_kind", nullable)
	c.str(&s.platform, side+"_platform", nullable)
	c.str(&s.productFamily, side+"_product_family", nullable)
	c.str(&s.connectionType, side+"_connection_type", nullable)
	c.str(&s.subnet, side+"_subnet", nullable)
	c.str(&s.transport, side+"_transport_protocol", nullable)
	c.str(&s.dns, side+"_dns_suffix", nullable)
	c.i64(&s.linkSpeedBps, side+"_link_speed_bps", nullable)
	c.str(&s.wifiBand, side+"_wifi_band", nullable)
	c.str(&s.wifiRadioType, side+"_wifi_radio_type", nullable)
	c.i64(&s.wifiSignalStrength, side+"_wifi_signal_strength", nullable)
	c.f64(&s.bandwidthLowEventRatio, side+"_bandwidth_low_event_ratio", nullable)
	c.str(&s.captureDevice, side+"_capture_device", nullable)
	c.str(&s.renderDevice, side+"_render_device", nullable)
	c.f64(&s.micGlitchRate, side+"_mic_glitch_rate", nullable)
	c.f64(&s.speakerGlitchRate, side+"_speaker_glitch_rate", nullable)
	c.i64(&s.howlingEventCount, side+"_howling_event_count", nullable)
}

// legsTable: one row per leg of a RingCentral call-log record, in source order.
type legsTable struct {
	callID                              strCol
	legSeq                              i32Col
	legType                             strCol
	master                              boolCol
	startTime                           tsCol
	durationS                           f64Col
	direction, action, result, reason   strCol
	fromNumber, fromName, fromExtension strCol
	toNumber, toName, toExtension       strCol
	recordingID, recordingType          strCol
	recordingURI                        strCol
	telephonySessionID, partyID         strCol
}

func (t *legsTable) columns(c *columnSet) {
	c.str(&t.callID, "call_id", required)
	c.i32(&t.legSeq, "leg_seq", required)
	c.str(&t.legType, "leg_type", nullable)
	c.boolean(&t.master, "master", nullable)
	c.ts(&t.startTime, "start_time", nullable)
	c.f64(&t.durationS, "duration_s", nullable)
	c.str(&t.direction, "direction", nullable)
	c.str(&t.action, "action", nullable)
	c.str(&t.result, "result", nullable)
	c.str(&t.reason, "reason", nullable)
	c.str(&t.fromNumber, "from_number", nullable)
	c.str(&t.fromName, "from_name", nullable)
	c.str(&t.fromExtension, "from_extension", nullable)
	c.str(&t.toNumber, "to_number", nullable)
	c.str(&t.toName, "to_name", nullable)
	c.str(&t.toExtension, "to_extension", nullable)
	c.str(&t.recordingID, "recording_id", nullable)
	c.str(&t.recordingType, "recording_type", nullable)
	c.str(&t.recordingURI, "recording_uri", nullable)
	c.str(&t.telephonySessionID, "telephony_session_id", nullable)
	c.str(&t.partyID, "party_id", nullable)
}

// pstnCallsTable: one row per row of Graph's PSTN call log (getPstnCalls).
type pstnCallsTable struct {
	id, callID, userID, upn, userDisplayName       strCol
	startTime, endTime                             tsCol
	durationS, charge                              f64Col
	currency, callType, callerNumber, calleeNumber strCol
	destinationName, destinationContext            strCol
	connectionCharge                               f64Col
	usageCountryCode, tenantCountryCode            strCol
	conferenceID, licenseCapability, inventoryType strCol
	operator, callDurationSource                   strCol
	ingestedAt                                     tsCol
}

func (t *pstnCallsTable) columns(c *columnSet) {
	c.str(&t.id, "id", required)
	c.str(&t.callID, "call_id", nullable)
	c.str(&t.userID, "user_id", nullable)
	c.str(&t.upn, "user_principal_name", nullable)
	c.str(&t.userDisplayName, "user_display_name", nullable)
	c.ts(&t.startTime, "start_time", nullable)
	c.ts(&t.endTime, "end_time", nullable)
	c.f64(&t.durationS, "duration_s", nullable)
	c.f64(&t.charge, "charge", nullable)
	c.str(&t.currency, "currency", nullable)
	c.str(&t.callType, "call_type", nullable)
	c.str(&t.callerNumber, "caller_number", nullable)
	c.str(&t.calleeNumber, "callee_number", nullable)
	c.str(&t.destinationName, "destination_name", nullable)
	c.str(&t.destinationContext, "destination_context", nullable)
	c.f64(&t.connectionCharge, "connection_charge", nullable)
	c.str(&t.usageCountryCode, "usage_country_code", nullable)
	c.str(&t.tenantCountryCode, "tenant_country_code", nullable)
	c.str(&t.conferenceID, "conference_id", nullable)
	c.str(&t.licenseCapability, "license_capability", nullable)
	c.str(&t.inventoryType, "inventory_type", nullable)
	c.str(&t.operator, "operator", nullable)
	c.str(&t.callDurationSource, "call_duration_source", nullable)
	c.ts(&t.ingestedAt, "ingested_at", required)
}

// directRoutingCallsTable: one row per row of Graph's Direct Routing call log
// (getDirectRoutingCalls).
type directRoutingCallsTable struct {
	id, correlationID, userID, upn, userDisplayName strCol
	startTime, inviteTime, failureTime, endTime     tsCol
	durationS                                       f64Col
	callType                                        strCol
	successFlag                                     boolCol
	callerNumber, calleeNumber                      strCol
	mediaPathLocation, signalingLocation            strCol
	finalSIPCode, callEndSubReason                  i32Col
	finalSIPCodePhrase, trunkFQDN                   strCol
	mediaBypassEnabled                              boolCol
	ingestedAt                                      tsCol
}

func (t *directRoutingCallsTable) columns(c *columnSet) {
	c.str(&t.id, "id", required)
	c.str(&t.correlationID, "correlation_id", nullable)
	c.str(&t.userID, "user_id", nullable)
	c.str(&t.upn, "user_principal_name", nullable)
	c.str(&t.userDisplayName, "user_display_name", nullable)
	c.ts(&t.startTime, "start_time", nullable)
	c.ts(&t.inviteTime, "invite_time", nullable)
	c.ts(&t.failureTime, "failure_time", nullable)
	c.ts(&t.endTime, "end_time", nullable)
	c.f64(&t.durationS, "duration_s", nullable)
	c.str(&t.callType, "call_type", nullable)
	c.boolean(&t.successFlag, "success_flag", nullable)
	c.str(&t.callerNumber, "caller_number", nullable)
	c.str(&t.calleeNumber, "callee_number", nullable)
	c.str(&t.mediaPathLocation, "media_path_location", nullable)
	c.str(&t.signalingLocation, "signaling_location", nullable)
	c.i32(&t.finalSIPCode, "final_sip_code", nullable)
	c.i32(&t.callEndSubReason, "call_end_sub_reason", nullable)
	c.str(&t.finalSIPCodePhrase, "final_sip_code_phrase", nullable)
	c.str(&t.trunkFQDN, "trunk_fully_qualified_domain_name", nullable)
	c.boolean(&t.mediaBypassEnabled, "media_bypass_enabled", nullable)
	c.ts(&t.ingestedAt, "ingested_at", required)
}
