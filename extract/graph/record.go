// Package graph reads Microsoft Teams call records from Microsoft Graph v1.0.
package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// CallRecord is one Teams call record with its sessions, segments and participants,
// after all pages of sessions and participants have been joined.
type CallRecord struct {
	ID                   string    `json:"id"`
	Version              int64     `json:"version"`
	Type                 string    `json:"type"`
	Modalities           []string  `json:"modalities"`
	LastModifiedDateTime time.Time `json:"lastModifiedDateTime"`
	StartDateTime        time.Time `json:"startDateTime"`
	EndDateTime          time.Time `json:"endDateTime"`
	JoinWebURL           *string   `json:"joinWebUrl"`

	// OrganizerV2 is the organizer since 2026-06-30; Organizer is the deprecated
	// field, read only from archived payloads.
	OrganizerV2 *Participant `json:"organizer_v2"`
	Organizer   *IdentitySet `json:"organizer"`

	// ParticipantsV2 holds every participant once all pages are joined;
	// Participants is the deprecated list, read only from archived payloads.
	ParticipantsV2         []Participant `json:"participants_v2"`
	ParticipantsV2NextLink string        `json:"participants_v2@odata.nextLink"`
	Participants           []IdentitySet `json:"participants"`

	Sessions         []Session `json:"sessions"`
	SessionsNextLink string    `json:"sessions@odata.nextLink"`
}

// OrganizerIdentity returns the organizer's identity, preferring organizer_v2.
func (r *CallRecord) OrganizerIdentity() (kind string, id *Identity) {
	if r.OrganizerV2 != nil {
		if k, i := r.OrganizerV2.Identity.Primary(); i != nil {
			return k, i
		}
	}
	if r.Organizer != nil {
		return r.Organizer.Primary()
	}
	return "", nil
}

// AllParticipants returns the participants from participants_v2, or from the
// deprecated participants list when an archived payload has only that.
func (r *CallRecord) AllParticipants() []Participant {
	if len(r.ParticipantsV2) > 0 || len(r.Participants) == 0 {
		return r.ParticipantsV2
	}
	out := make([]Participant, len(r.Participants))
	for i, p := range r.Participants {
		out[i].Identity = p
		if _, id := p.Primary(); id != nil && id.ID != nil {
			out[i].ID = *id.ID
		}
	}
	return out
}

// Participant is an entry of participants_v2 (and organizer_v2).
type Participant struct {
	ID                      string                   `json:"id"`
	Identity                IdentitySet              `json:"identity"`
	AdministrativeUnitInfos []AdministrativeUnitInfo `json:"administrativeUnitInfos"`
}

// AdministrativeUnitInfo names an administrative unit a participant belongs to.
type AdministrativeUnitInfo struct {
	ID string `json:"id"`
}

// Identity is one identity of an identity set: a user, a phone, an application...
type Identity struct {
	ID                *string `json:"id"`
	DisplayName       *string `json:"displayName"`
	TenantID          *string `json:"tenantId"`
	UserPrincipalName *string `json:"userPrincipalName"`
}

// IdentitySet is a communicationsIdentitySet: at most a few of its identities are set.
// Kinds lists the set identities' kinds in the order of identityKinds.
type IdentitySet struct {
	Kinds      []string
	Identities []Identity
}

// identityKinds maps the Graph property names of an identity set to the kind
// recorded in the lake, in order of preference when several are set.
var identityKinds = [...]struct{ prop, kind string }{
	{"user", "user"},
	{"guest", "guest"},
	{"phone", "phone"},
	{"applicationInstance", "applicationInstance"},
	{"application", "application"},
	{"device", "device"},
	{"onPremises", "onPremises"},
	{"encrypted", "encrypted"},
	{"azureCommunicationServicesUser", "acsUser"},
	{"acsUser", "acsUser"},
	{"spoolUser", "spoolUser"},
	{"acsApplicationInstance", "acsApplicationInstance"},
	{"teamsVideoInteropUser", "teamsVideoInteropUser"},
	{"skypeUser", "skypeUser"},
	{"skypeForBusinessUser", "skypeForBusinessUser"},
	{"communicationsUser", "communicationsUser"},
	{"azureCommunicationServicesApplicationInstance", "acsApplicationInstance"},
}

// identityKindIndex maps a property name to its index in identityKinds.
var identityKindIndex = func() map[string]int {
	m := make(map[string]int, len(identityKinds))
	for i, k := range identityKinds {
		m[k.prop] = i
	}
	return m
}()

// notIdentities are identity-set properties that are not identities.
var notIdentities = map[string]bool{"@odata.type": true, "assertedIdentity": true, "endpointType": true}

// UnmarshalJSON records every identity that is set (not null) with its kind.
// Properties of unknown kinds that hold an object with an id are kept under
// their own name, since the identity set is open to new kinds. It scans the
// object once (a property named twice counts as its last value, as in a map)
// rather than decoding a map and then each value again.
func (s *IdentitySet) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*s = IdentitySet{}
		return nil
	}
	if !json.Valid(b) { // encoding/json's: goccy's Valid takes "{}}"
		return fmt.Errorf("identity set: invalid JSON")
	}
	if i := skipSpace(b, 0); i == len(b) || b[i] != '{' {
		return fmt.Errorf("identity set: %.20q is not an object", b)
	}
	*s = IdentitySet{}
	var known [len(identityKinds)][]byte // the value of each known kind, nil when absent
	type other struct {
		prop string
		raw  []byte
	}
	var rest []other
	err := eachMember(b, func(key, raw []byte) error {
		if i, ok := identityKindIndex[string(key)]; ok {
			known[i] = raw
			return nil
		}
		if notIdentities[string(key)] || len(key) > 0 && key[0] == '@' {
			return nil
		}
		for j := range rest {
			if rest[j].prop == string(key) {
				rest[j].raw = raw
				return nil
			}
		}
		rest = append(rest, other{string(key), raw})
		return nil
	})
	if err != nil {
		return fmt.Errorf("identity set: %w", err)
	}
	add := func(prop, kind string, raw []byte) error {
		if len(raw) == 0 || raw[0] != '{' {
			return nil
		}
		var id Identity
		if err := decodeIdentity(raw, &id); err != nil {
			return fmt.Errorf("identity set %s: %w", prop, err)
		}
		s.Kinds = append(s.Kinds, kind)
		s.Identities = append(s.Identities, id)
		return nil
	}
	for i, k := range identityKinds {
		if err := add(k.prop, k.kind, known[i]); err != nil {
			return err
		}
	}
	// Unknown kinds in name order, so that Kinds (and Primary) do not depend
	// on the order of the properties.
	sort.Slice(rest, func(i, j int) bool { return rest[i].prop < rest[j].prop })
	for _, o := range rest {
		if err := add(o.prop, o.prop, o.raw); err != nil {
			return err
		}
	}
	return nil
}

// Primary returns the most specific identity that is set and its kind.
func (s IdentitySet) Primary() (string, *Identity) {
	if len(s.Identities) == 0 {
		return "", nil
	}
	return s.Kinds[0], &s.Identities[0]
}

// Session is one session of a call record: a caller, a callee and their segments.
type Session struct {
	ID            string    `json:"id"`
	Modalities    []string  `json:"modalities"`
	StartDateTime time.Time `json:"startDateTime"`
	EndDateTime   time.Time `json:"endDateTime"`
	IsTest        *bool     `json:"isTest"`
	Caller        *Endpoint `json:"caller"`
	Callee        *Endpoint `json:"callee"`
	FailureInfo   *Failure  `json:"failureInfo"`
	Segments      []Segment `json:"segments"`
}

// Segment is one segment of a session, carrying the media streams.
type Segment struct {
	ID            string    `json:"id"`
	StartDateTime time.Time `json:"startDateTime"`
	EndDateTime   time.Time `json:"endDateTime"`
	Caller        *Endpoint `json:"caller"`
	Callee        *Endpoint `json:"callee"`
	FailureInfo   *Failure  `json:"failureInfo"`
	Media         []Media   `json:"media"`
}

// Failure tells at which stage and why a session or segment failed.
type Failure struct {
	Stage  *string `json:"stage"`
	Reason *string `json:"reason"`
}

// Endpoint is a participantEndpoint (a client) or a serviceEndpoint
// (a mediation server, conferencing attendant, ...).
type Endpoint struct {
	ODataType          string       `json:"@odata.type"`
	UserAgent          *UserAgent   `json:"userAgent"`
	AssociatedIdentity *Identity    `json:"associatedIdentity"`
	Identity           *IdentitySet `json:"identity"`
	Name               *string      `json:"name"`
	CPUCoresCount      *int64       `json:"cpuCoresCount"`
	CPUName            *string      `json:"cpuName"`
	Feedback           *Feedback    `json:"feedback"`
}

// IsService reports whether the endpoint is a Microsoft service rather than a client.
func (e *Endpoint) IsService() bool {
	return e != nil && e.ODataType == "#microsoft.graph.callRecords.serviceEndpoint"
}

// Who returns the endpoint's identity: associatedIdentity, else the deprecated
// identity set (archived payloads).
func (e *Endpoint) Who() *Identity {
	if e == nil {
		return nil
	}
	if e.AssociatedIdentity != nil {
		return e.AssociatedIdentity
	}
	if e.Identity != nil {
		_, id := e.Identity.Primary()
		return id
	}
	return nil
}

// UserAgent is a client or service user agent.
type UserAgent struct {
	HeaderValue        *string `json:"headerValue"`
	ApplicationVersion *string `json:"applicationVersion"`
	Platform           *string `json:"platform"`
	ProductFamily      *string `json:"productFamily"`
	Role               *string `json:"role"`
}

// Feedback is the rating a user gave after the call.
type Feedback struct {
	Text   *string        `json:"text"`
	Rating *string        `json:"rating"`
	Tokens map[string]any `json:"tokens"`
}

// TrueTokens returns the names of the feedback tokens set to true, sorted.
func (f *Feedback) TrueTokens() []string {
	if f == nil {
		return nil
	}
	var out []string
	for k, v := range f.Tokens {
		if b, ok := v.(bool); ok && b {
			out = append(out, k)
		}
	}
	sortStrings(out)
	return out
}

// Media is one media label (main-audio, main-video, applicationsharing-video...) of a segment.
type Media struct {
	Label         *string  `json:"label"`
	CallerNetwork *Network `json:"callerNetwork"`
	CalleeNetwork *Network `json:"calleeNetwork"`
	CallerDevice  *Device  `json:"callerDevice"`
	CalleeDevice  *Device  `json:"calleeDevice"`
	Streams       []Stream `json:"streams"`
}

// Network describes one side's network during a media session. Its IP
// addresses (ipAddress, reflexiveIPAddress, relayIPAddress) are left out: the
// lake keeps none of them, and decoding each cost two allocations.
type Network struct {
	ConnectionType           *string  `json:"connectionType"`
	Subnet                   *string  `json:"subnet"`
	NetworkTransportProtocol *string  `json:"networkTransportProtocol"`
	DNSSuffix                *string  `json:"dnsSuffix"`
	LinkSpeed                *int64   `json:"linkSpeed"`
	WifiBand                 *string  `json:"wifiBand"`
	WifiRadioType            *string  `json:"wifiRadioType"`
	WifiSignalStrength       *int64   `json:"wifiSignalStrength"`
	BandwidthLowEventRatio   *float64 `json:"bandwidthLowEventRatio"`
}

// Device describes one side's capture and render devices.
type Device struct {
	CaptureDeviceName *string  `json:"captureDeviceName"`
	RenderDeviceName  *string  `json:"renderDeviceName"`
	MicGlitchRate     *float64 `json:"micGlitchRate"`
	SpeakerGlitchRate *float64 `json:"speakerGlitchRate"`
	HowlingEventCount *int64   `json:"howlingEventCount"`
}

// Stream is one direction of one media label, with its quality metrics.
type Stream struct {
	StreamID                                 *string    `json:"streamId"`
	StreamDirection                          *string    `json:"streamDirection"`
	StartDateTime                            *time.Time `json:"startDateTime"`
	EndDateTime                              *time.Time `json:"endDateTime"`
	AudioCodec                               *string    `json:"audioCodec"`
	VideoCodec                               *string    `json:"videoCodec"`
	AverageAudioDegradation                  *float64   `json:"averageAudioDegradation"`
	AverageAudioNetworkJitter                *Duration  `json:"averageAudioNetworkJitter"`
	AverageBandwidthEstimate                 *int64     `json:"averageBandwidthEstimate"`
	AverageFreezeDuration                    *Duration  `json:"averageFreezeDuration"`
	AverageJitter                            *Duration  `json:"averageJitter"`
	AveragePacketLossRate                    *float64   `json:"averagePacketLossRate"`
	AverageRatioOfConcealedSamples           *float64   `json:"averageRatioOfConcealedSamples"`
	AverageReceivedFrameRate                 *float64   `json:"averageReceivedFrameRate"`
	AverageRoundTripTime                     *Duration  `json:"averageRoundTripTime"`
	AverageVideoFrameLossPercentage          *float64   `json:"averageVideoFrameLossPercentage"`
	AverageVideoFrameRate                    *float64   `json:"averageVideoFrameRate"`
	AverageVideoPacketLossRate               *float64   `json:"averageVideoPacketLossRate"`
	IsAudioForwardErrorCorrectionUsed        *bool      `json:"isAudioForwardErrorCorrectionUsed"`
	LowFrameRateRatio                        *float64   `json:"lowFrameRateRatio"`
	MaxAudioNetworkJitter                    *Duration  `json:"maxAudioNetworkJitter"`
	MaxJitter                                *Duration  `json:"maxJitter"`
	MaxPacketLossRate                        *float64   `json:"maxPacketLossRate"`
	MaxRatioOfConcealedSamples               *float64   `json:"maxRatioOfConcealedSamples"`
	MaxRoundTripTime                         *Duration  `json:"maxRoundTripTime"`
	PacketUtilization                        *int64     `json:"packetUtilization"`
	PostForwardErrorCorrectionPacketLossRate *float64   `json:"postForwardErrorCorrectionPacketLossRate"`
	RMSFreezeDuration                        *Duration  `json:"rmsFreezeDuration"`
	WasMediaBypassed                         *bool      `json:"wasMediaBypassed"`
}
