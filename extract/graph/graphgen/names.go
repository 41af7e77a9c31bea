package graphgen

import "strings"

// The fixed vocabulary of the generated tenant: names, devices, user agents,
// networks and service endpoints. All values are invented.

var firstNames = []string{
	"Henrike", "Tomasz", "Jasper", "Ana Lúcia", "Marit", "Dario", "Aylin", "Björn",
	"Chiara", "Dmitri", "Elif", "Finn", "Greta", "Hannes", "Ines", "Jonas",
	"Katarzyna", "Lars", "Leonie", "Malte", "Mei", "Nils", "Oksana", "Paul",
	"Priya", "Quentin", "Rasmus", "Sanne", "Søren", "Tobias", "Ulrike", "Valentina",
	"Wiebke", "Yusuf", "Zoë", "Amara", "Bastian", "Clara", "Emre", "Fatma",
	"Gustav", "Hamid", "Ida", "Jakob", "Kerstin", "Lukas", "Magdalena", "Noah",
	"Olga", "Pia", "Ronja", "Sebastian", "Tarek", "Vera", "Wojciech", "Xenia",
	"Yara", "Siobhán", "Joaquín", "Mette",
}

var lastNames = []string{
	"Vossberg", "Wierzbicki", "Lindqvist", "Prates", "Solbakken", "Pellegrini", "Yılmaz", "Hansen",
	"Petersen", "Schröder", "Nowak", "Kowalski", "Jensen", "Brandt", "Meyer", "Okafor",
	"Nakamura", "Rossi", "Dubois", "Schulte", "Janssen", "Lehmann", "Øvergaard", "Kuhn",
	"Hoffmann", "O'Connor", "Fernández", "Novák", "Ahmadi", "Becker", "Krüger", "Sørensen",
	"Vogel", "Haas", "Pham", "Demir", "Larsen", "Engel", "Iversen", "Marquardt",
	"Reuter", "Carstens", "Holm", "Wagner", "Tanaka", "Ferreira", "Lange", "Voigt",
	"Kaya", "Rahman",
}

// fold turns a display name part into the ASCII form used in user principal
// names: "Ana Lúcia" -> "analucia", "Schröder" -> "schroeder", "O'Connor" -> "oconnor".
func fold(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			switch r {
			case 'ä', 'æ':
				b.WriteString("ae")
			case 'ö':
				b.WriteString("oe")
			case 'ü':
				b.WriteString("ue")
			case 'ß':
				b.WriteString("ss")
			case 'á', 'à', 'â', 'ã', 'å':
				b.WriteByte('a')
			case 'é', 'è', 'ê', 'ë':
				b.WriteByte('e')
			case 'í', 'ì', 'î', 'ï', 'ı':
				b.WriteByte('i')
			case 'ó', 'ò', 'ô', 'õ', 'ø':
				b.WriteByte('o')
			case 'ú', 'ù', 'û':
				b.WriteByte('u')
			case 'ñ':
				b.WriteByte('n')
			case 'ç', 'č':
				b.WriteByte('c')
			case 'š', 'ş':
				b.WriteByte('s')
			case 'ł':
				b.WriteByte('l')
			case 'ğ':
				b.WriteByte('g')
			case 'ř':
				b.WriteByte('r')
			case 'ý':
				b.WriteByte('y')
			}
		}
	}
	return b.String()
}

// Platforms (clientPlatform) and product families (productFamily).
const (
	platWindows    = "windows"
	platMacOS      = "macOS"
	platWeb        = "web"
	platIOS        = "iOS"
	platAndroid    = "android"
	platIPPhone    = "ipPhone"
	platRoom       = "roomSystem"
	platSurfaceHub = "surfaceHub"
	platUnknown    = "unknown" // Linux clients: Graph has no linux value
	platFuture     = "unknownFutureValue"

	famTeams = "teams"
	famSfB   = "skypeForBusiness"
	famACS   = "azureCommunicationServices"
	famUnk   = "unknown"
)

// userAgent is a client's user agent as Graph reports it.
type userAgent struct {
	header, version, platform, family string
	acs                               bool // carries a communicationServiceId
}

var (
	uaWindows = []userAgent{
		{"RTCC/2026.42.01.7 Teams/26301.512.4127.3306 Electron/36.2.1 (Windows NT 10.0.26100)", "26301.512.4127.3306", platWindows, famTeams, false},
		{"RTCC/2026.42.01.7 Teams/26301.512.4127.3306 Electron/36.2.1 (Windows NT 10.0.22631)", "26301.512.4127.3306", platWindows, famTeams, false},
		{"RTCC/2026.40.03.2 Teams/26288.403.4061.1172 Electron/35.4.0 (Windows NT 10.0.26100)", "26288.403.4061.1172", platWindows, famTeams, false},
		{"RTCC/2026.40.03.2 Teams/26288.403.4061.1172 Electron/35.4.0 (Windows NT 10.0.19045)", "26288.403.4061.1172", platWindows, famTeams, false},
	}
	uaMac = []userAgent{
		{"RTCC/2026.42.01.7 Teams/26301.514.4131.8820 (Macintosh; macOS 15.5)", "26301.514.4131.8820", platMacOS, famTeams, false},
		{"RTCC/2026.40.03.2 Teams/26288.405.4063.2291 (Macintosh; macOS 15.4.1)", "26288.405.4063.2291", platMacOS, famTeams, false},
	}
	uaWeb = []userAgent{
		{"RTCC/2026.42.01.7 Teams/26301.512.4127.3306 (Web; Edge 142.0.3595.53; Windows NT 10.0)", "26301.512.4127.3306", platWeb, famTeams, false},
		{"RTCC/2026.42.01.7 Teams/26301.512.4127.3306 (Web; Chrome 142.0.7444.60; Windows NT 10.0)", "26301.512.4127.3306", platWeb, famTeams, false},
		{"RTCC/2026.42.01.7 Teams/26301.512.4127.3306 (Web; Chrome 142.0.7444.60; X11; Linux x86_64)", "26301.512.4127.3306", platWeb, famTeams, false},
		{"RTCC/2026.42.01.7 Teams/26301.512.4127.3306 (Web; Safari 19.1; Macintosh)", "26301.512.4127.3306", platWeb, famTeams, false},
		{"RTCC/2026.42.01.7 Teams/26301.512.4127.3306 (Web; Firefox 145.0; Windows NT 10.0)", "26301.512.4127.3306", platWeb, famTeams, false},
	}
	uaLinux = []userAgent{
		{"Teams/1.5.00.23861 Electron/10.4.7 (Linux; Ubuntu 24.04)", "1.5.00.23861", platUnknown, famTeams, false},
	}
	uaFuture = []userAgent{
		{"RTCC/2026.44.00.3 Teams/27001.100.0.14 (visionOS 3.1; RealityDevice17,1)", "27001.100.0.14", platFuture, famTeams, false},
	}
	uaRoom = []userAgent{
		{"RTCC/2026.42.01.7 Teams/26301.512.4127.3306 Electron/36.2.1 (Teams Rooms; Windows NT 10.0.22631; Logitech Tap)", "26301.512.4127.3306", platRoom, famTeams, false},
		{"RTCC/2026.40.03.2 Teams/1449/1.0.96.2026101402 (Teams Rooms; Android 12; Poly Studio X52)", "1449/1.0.96.2026101402", platRoom, famTeams, false},
	}
	uaHub = []userAgent{
		{"RTCC/2026.42.01.7 Teams/26301.512.4127.3306 (Surface Hub 3; Windows NT 10.0.22631)", "26301.512.4127.3306", platSurfaceHub, famTeams, false},
	}
	uaIPPhone = []userAgent{
		{"RTCC/2026.31.02.4 Teams/1449/1.0.94.2026090301 (Poly CCX 600; Android 12)", "1449/1.0.94.2026090301", platIPPhone, famTeams, false},
		{"RTCC/2026.31.02.4 Teams/1449/1.0.94.2026090301 (Yealink MP58; Android 10)", "1449/1.0.94.2026090301", platIPPhone, famTeams, false},
	}
	uaSfB = []userAgent{
		{"UCCAPI/16.0.18730.20122 OC/16.0.18730.20122 (Skype for Business)", "16.0.18730.20122", platWindows, famSfB, false},
	}
	uaACS = []userAgent{
		{"azsdk-js-communication-calling/1.38.1 (javascript_calling_sdk; Chrome 142; Windows NT 10.0)", "1.38.1", platWeb, famACS, true},
		{"azsdk-js-communication-calling/1.38.1 (javascript_calling_sdk; Safari 19.1; Macintosh)", "1.38.1", platWeb, famACS, true},
	}
	uaInterop = []userAgent{
		{"Pexip Infinity/34.1 (CVI; Cisco Webex Room Kit)", "34.1", platUnknown, famUnk, false},
	}
)

// iOS and Android user agents are built from the device model.
func mobileUA(p *person) userAgent {
	if p.phoneIOS {
		return userAgent{"RTCC/2026.40.03.2 Teams/7.19.1 (iOS 19.1; " + p.phoneModel + ")", "7.19.1", platIOS, famTeams, false}
	}
	return userAgent{"RTCC/2026.40.03.2 Teams/1416/1.0.0.2026183901 (Android 15; " + p.phoneModel + ")", "1416/1.0.0.2026183901", platAndroid, famTeams, false}
}

var iPhoneModels = []string{"iPhone16,2", "iPhone17,1", "iPhone15,4", "iPhone17,3"}
var androidModels = []string{"SM-S931B", "Pixel 9", "SM-A556B", "moto g85 5G"}

// cpu is a machine's processor as reported in an endpoint.
type cpu struct {
	name  string
	cores int
	mhz   int // 0: null
}

var (
	cpusWindows = []cpu{
		{"Intel(R) Core(TM) Ultra 7 165U", 12, 2688},
		{"Intel(R) Core(TM) i5-1345U", 8, 1600},
		{"Intel(R) Core(TM) i7-1365U", 10, 1800},
		{"AMD Ryzen 7 PRO 7840U w/ Radeon 780M Graphics", 16, 3301},
		{"Snapdragon(R) X Elite - X1E78100 - Qualcomm(R) Oryon(TM) CPU", 12, 3417},
	}
	cpusMac = []cpu{
		{"Apple M4 Pro", 12, 0},
		{"Apple M3", 8, 0},
		{"Apple M2", 8, 0},
	}
	cpuRoom  = cpu{"Intel(R) Core(TM) i5-1145G7E", 8, 2611}
	cpuLinux = cpu{"AMD Ryzen 9 7940HS w/ Radeon 780M Graphics", 16, 4000}
)

// audioDevice is a capture/render pair with its driver.
type audioDevice struct {
	capture, render, driver string
}

var (
	devWindows = []audioDevice{
		{"Headset Microphone (Jabra Evolve2 65)", "Headset Earphone (Jabra Evolve2 65)", "Microsoft: 10.0.26100.1"},
		{"Microphone (Poly Voyager Focus 2)", "Headphones (Poly Voyager Focus 2)", "Microsoft: 10.0.22621.1"},
		{"Microphone (Logi Zone Vibe 100)", "Headphones (Logi Zone Vibe 100)", "Microsoft: 10.0.26100.1"},
		{"Echo Cancelling Speakerphone (Jabra Speak2 75)", "Echo Cancelling Speakerphone (Jabra Speak2 75)", "Microsoft: 10.0.26100.1"},
		{"Headset Microphone (EPOS ADAPT 660)", "Headset Earphone (EPOS ADAPT 660)", "Microsoft: 10.0.22621.1"},
		{"Headset Microphone (Poly Blackwire 5220 Series)", "Headset Earphone (Poly Blackwire 5220 Series)", "Microsoft: 10.0.26100.1"},
		{"Microphone Array (Realtek(R) Audio)", "Speakers (Realtek(R) Audio)", "Realtek Semiconductor Corp.: 6.0.9614.1"},
		{"Microphone Array (Intel® Smart Sound Technology for Digital Microphones)", "Speakers (Realtek(R) Audio)", "Intel Corporation: 10.29.0.10234"},
		{"Microphone (Logitech BRIO)", "Speakers (Realtek(R) Audio)", "Microsoft: 10.0.26100.1"},
	}
	devMac = []audioDevice{
		{"MacBook Pro Microphone", "MacBook Pro Speakers", "Apple: 15.5"},
		{"AirPods Pro", "AirPods Pro", "Apple: 15.5"},
		{"MacBook Air Microphone", "MacBook Air Speakers", "Apple: 15.4.1"},
		{"Jabra Evolve2 65", "Jabra Evolve2 65", "Apple: 15.5"},
	}
	devIOS = []audioDevice{
		{"iPhone Microphone", "Receiver", "Apple: 19.1"},
		{"iPhone Microphone", "Speaker", "Apple: 19.1"},
		{"AirPods Pro", "AirPods Pro", "Apple: 19.1"},
	}
	devAndroid = []audioDevice{
		{"Android Microphone", "Earpiece", "Android: 15"},
		{"Android Microphone", "Speaker", "Android: 15"},
		{"Galaxy Buds3 Pro", "Galaxy Buds3 Pro", "Android: 15"},
	}
	devRoom = []audioDevice{
		{"Logitech Rally Mic Pod", "Logitech Rally Speaker", "Logitech: 1.12.284"},
		{"Poly Studio X52 Microphone", "Poly Studio X52 Speaker", "Poly: 4.3.0"},
	}
	devHub     = audioDevice{"Surface Hub 3 Microphone Array", "Surface Hub 3 Speakers", "Microsoft: 10.0.22621.1"}
	devIPPhone = []audioDevice{
		{"Poly CCX 600 Handset", "Poly CCX 600 Handset", "Poly: 9.1.2"},
		{"Yealink MP58 Handset", "Yealink MP58 Speaker", "Yealink: 122.15.0.131"},
	}
	devLinux = audioDevice{"Family 17h/19h HD Audio Controller Analog Stereo", "Family 17h/19h HD Audio Controller Analog Stereo", "PulseAudio: 16.1"}
)

// service is a Microsoft service endpoint (serviceUserAgent).
type service struct {
	role, header, version string
	ip                    string // media address in the Microsoft network
	port                  int
}

var (
	svcMediation    = &service{"mediationServer", "Microsoft.PSTNHub.SIPProxy/2026.11.3.2 i.EUWE.4", "2026.11.3.2", "52.112.74.203", 49152}
	svcAttendant    = &service{"conferencingAttendant", "CAA/2026.11.0.47 (Teams conferencing attendant)", "2026.11.0.47", "52.113.195.88", 3478}
	svcAnnouncement = &service{"conferencingAnnouncementService", "CAS/2026.10.3.12", "2026.10.3.12", "52.113.195.91", 3478}
	svcMCU          = &service{"skypeForBusinessAudioVideoMcu", "MediaProcessor/2026.11.2.19 (Teams conferencing)", "2026.11.2.19", "52.114.160.37", 3478}
	svcAutoAtt      = &service{"skypeForBusinessAutoAttendant", "OAA/2026.11.1.8 (Teams auto attendant)", "2026.11.1.8", "52.113.201.14", 3478}
	svcQueue        = &service{"skypeForBusinessCallQueues", "CQ/2026.11.1.8 (Teams call queue)", "2026.11.1.8", "52.113.201.17", 3478}
	svcVoicemail    = &service{"voicemail", "CVM/2026.10.0.5 (Teams cloud voicemail)", "2026.10.0.5", "52.113.205.62", 3478}
	svcBot          = &service{"customBot", "ComplianceRecorder/4.2.1 (recording bot)", "4.2.1", "20.52.118.9", 8445}
	svcFuture       = &service{"unknownFutureValue", "Copilot-Voice/1.0.3", "1.0.3", "52.113.210.4", 3478}
)

// Networks.
const (
	connWired  = "wired"
	connWifi   = "wifi"
	connMobile = "mobile"
	connTunnel = "tunnel"
)

// site is an office with its wired and wireless subnets. The third floor
// wireless in Hamburg is congested, so "worst subnets" reports find it.
type site struct {
	name      string
	wired     []string // subnet prefixes ("10.40.12.")
	wifi      string
	reflexive string
	wifiRisk  float64
	aps       []string // access point BSSIDs
}

var sites = []site{
	{"Hamburg", []string{"10.40.12.", "10.40.18."}, "10.40.31.", "198.51.100.23", 0.26, []string{"A0:B4:39:1C:52:10", "A0:B4:39:1C:52:20", "A0:B4:39:1C:5A:40"}},
	{"Berlin", []string{"10.52.3."}, "10.52.20.", "198.51.100.71", 0.045, []string{"70:3A:0E:82:11:F0", "70:3A:0E:82:19:30"}},
	{"Munich", []string{"10.61.7."}, "10.61.40.", "198.51.100.140", 0.05, []string{"D4:20:B0:6E:77:81"}},
}

// homeNet is a home router network.
type homeNet struct {
	prefix, dns string
}

var homeNets = []homeNet{
	{"192.168.178.", "fritz.box"},
	{"192.168.1.", ""},
	{"192.168.0.", ""},
	{"192.168.2.", "speedport.ip"},
	{"192.168.178.", "fritz.box"},
}

// wifiCard is a laptop wireless adapter.
type wifiCard struct {
	vendor, vendorVer string
}

var wifiCards = []wifiCard{
	{"Intel(R) Wi-Fi 6E AX211 160MHz", "23.110.0.5"},
	{"Intel(R) Wi-Fi 7 BE200 320MHz", "23.120.0.3"},
	{"Qualcomm FastConnect 7800 Wi-Fi 7 High Band Simultaneous (HBS) Network Adapter", "3.1.0.1356"},
	{"MediaTek Wi-Fi 6E MT7922 (RZ616) 160MHz Wireless LAN Card", "3.4.0.1123"},
}

// Feedback vocabulary.
var (
	badTokens = []string{"DistortedSpeech", "ElectronicFeedback", "BackgroundNoise", "MuffledSpeech", "Echo",
		"NoAudioHeard", "LowVolume", "VoiceOverlap", "AudioStoppedUnexpectedly", "CallDroppedUnexpectedly"}
	videoTokens   = []string{"VideoFroze", "LowQualityVideo", "VideoNotVisible", "ScreenShareFroze"}
	feedbackTexts = []string{
		"Kept dropping out, others sounded robotic",
		"Ton war abgehackt",
		"Echo on the line the whole time",
		"Couldn't hear the dial-in participants",
		"Bildschirmfreigabe ist eingefroren",
		"Call dropped when I left the office",
		"Lots of background noise from the open space",
	}
	setupFailures = []string{
		"Media connectivity could not be established (ICE checks timed out)",
		"Call was rejected because the callee's device is not reachable",
		"Media relay allocation failed (TURN server unreachable)",
	}
	midcallFailure = "Media stopped flowing from the client endpoint (network connection lost)"
)

// E.164 number plans for outside callers: prefix and count of random digits.
var phonePlans = []struct {
	prefix string
	digits int
	weight float64
}{
	{"+4940", 8, 4}, {"+4930", 8, 3}, {"+4989", 8, 2}, {"+49151", 8, 3}, {"+49160", 7, 2},
	{"+49170", 7, 2}, {"+447700900", 3, 1}, {"+3120", 7, 1}, {"+4570", 6, 0.5}, {"+1202555", 4, 0.5},
}
