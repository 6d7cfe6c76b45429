package rules

// encryptedDNSService is the built-in service of public DNS-over-HTTPS,
// TLS and QUIC resolvers (see Policy.IsEncryptedDNS).
const encryptedDNSService = "encrypted-dns"

// builtinService is a catalogue entry every policy knows. The lists were
// written by hand from public knowledge (the operators' own sites and apps,
// public DNS, and the RIR/whois records of the ASNs); coverage against the
// curated community lists is measured in TestBuiltinCoverage.
type builtinService struct {
	name    string
	source  string
	domains []string
	hosts   []string
	asns    []uint32
	cidrs   []string
	edge    bool // domains also match inside CDN edge names (see serviceIndex)
}

// tiktokDomains are TikTok's own registrable domains, API and CDN hosts
// (including the Akamai edge names its CDNs resolve through) and those of
// its mainland-China twin Douyin.
var tiktokDomains = []string{
	// app, web and API
	"tiktok.com", "tiktokv.com", "tiktokv.us", "tiktokv.eu", "tiktokw.us", "tiktokw.eu",
	"tiktok.net", "tiktok.in", "tiktok-row.net", "tiktok-us.net", "tiktok-eu.net",
	"tiktokd.net", "tiktokd.org", "tik-tokapi.com", "tiktokshop.com", "tiktokglobalshop.com",
	"tiktokglobalshopv.com", "tiktokmusic.app", "tiktok-minis.com", "tiktokminis.us",
	"tiktokpangle.us", "tiktokpangle-b.us", "tiktokpangle-cdn-us.com", "tiktoklb.eu",
	"musical.ly", "muscdn.com", "bytedapm.com",
	// CDN and static content
	"tiktokcdn.com", "tiktokcdn-us.com", "tiktokcdn-eu.com", "tiktokcdn-eu.net", "tiktokcdn-in.com",
	"tiktokeu-cdn.com", "tiktokrow-cdn.com", "tiktokstaticb.com", "ttwstatic.com",
	"ttlivecdn.com", "ttoverseaus.net", "ttcdn-us.com", "ibytedtos.com", "ibyteimg.com",
	"ipstatp.com", "sgpstatp.com", "isnssdk.com", "sgsnssdk.com", "sgnssdk.com", "hypstarcdn.com",
	// CDN edge names (seen in DNS CNAME chains)
	"tiktokcdn.com.akamaized.net", "tiktokcdn-us.com.akamaized.net", "tiktokcdn-eu.com.akamaized.net",
	"tiktokv.com.akamaized.net", "muscdn.com.akamaized.net", "p16-tiktokcdn-com.akamaized.net",
	"tiktok.com.edgesuite.net", "tiktokv.com.edgesuite.net", "tiktokcdn.com.edgesuite.net",
	"tiktokcdn-us.com.edgesuite.net", "tiktokcdn-eu.com.edgesuite.net", "tiktokv.com.edgekey.net",
	"tiktokv.eu.edgesuite.net", "tiktokv.us.edgesuite.net", "tiktokw.us.edgesuite.net",
	"tiktokstaticb.com.edgesuite.net",
	// Douyin (mainland China)
	"douyin.com", "douyincdn.com", "douyinpic.com", "douyinstatic.com", "douyinvod.com",
	"douyinliving.com", "iesdouyin.com", "amemv.com",
}

// bytedanceOnlyDomains are the rest of the ByteDance group: the company,
// Toutiao, Xigua, CapCut/Jianying, Lark/Feishu, Volcano Engine/BytePlus,
// Doubao, Lemon8, Pangle and shared infrastructure.
var bytedanceOnlyDomains = []string{
	"bytedance.com", "bytedance.net", "byteoversea.com", "byteoversea.net", "bytedanceapi.com",
	"byteimg.com", "bytecdn.cn", "bytegoofy.com", "bytescm.com", "bytetos.com", "bytetcdn.com",
	"byteicdn.com", "bytedns.net", "byted.org", "zijieapi.com", "zjcdn.com", "zjurl.cn",
	"snssdk.com", "pstatp.com", "toutiao.com", "toutiaocdn.com", "toutiaostatic.com",
	"toutiaoimg.com", "toutiao50.com", "topbuzz.com", "ixigua.com", "huoshan.com",
	"neihanshequ.com", "365yg.com",
	"capcut.com", "capcutapi.com", "capcut.net", "jianying.com",
	"larksuite.com", "larksuitecdn.com", "larkoffice.com", "feishu.cn", "feishucdn.com",
	"feishupkg.com",
	"volcengine.com", "volces.com", "volccdn.com", "volcengineapi.com", "byteplus.com",
	"bytepluses.com", "byteplusapi.com",
	"doubao.com", "cici.com", "lemon8-app.com", "resso.com", "ulikecam.com", "hypic.com",
	"gauthmath.com", "pangle.io", "pangolin-sdk-toutiao.com", "oceanengine.com",
	"juliangyinqing.com", "chengzijianzhan.com", "juejin.cn", "dongchedi.com",
	"trae.ai", "marscode.com",
}

func builtinServices() []builtinService {
	bytedance := append(append([]string(nil), tiktokDomains...), bytedanceOnlyDomains...)
	return []builtinService{
		{
			name:    "tiktok",
			source:  "TikTok and Douyin domains by hand; ASNs 138699 TIKTOK PTE. LTD., 11983 TikTok U.S. Data Security Inc., 396986 Bytedance Inc. (RIR whois)",
			domains: tiktokDomains,
			edge:    true,
			asns:    []uint32{138699, 11983, 396986},
		},
		{
			name:    "bytedance",
			source:  "all ByteDance-group domains by hand (superset of tiktok); ASNs 396986, 138699, 11983, 150436 Byteplus Pte. Ltd., 137718 Beijing Volcano Engine Technology Co., Ltd. (RIR whois)",
			domains: bytedance,
			edge:    true,
			asns:    []uint32{396986, 138699, 11983, 150436, 137718},
		},
		{
			name: encryptedDNSService,
			source: "public DNS-over-HTTPS/TLS/QUIC resolvers from their operators' documentation " +
				"(Google, Cloudflare, Quad9, OpenDNS, NextDNS, AdGuard, CleanBrowsing, Mullvad, Control D, DNS.SB, AliDNS, DNSPod, DNS0.EU)",
			domains: []string{
				"dns.google", "dns.google.com", "cloudflare-dns.com", "one.one.one.one",
				"dns.quad9.net", "dns9.quad9.net", "dns10.quad9.net", "dns11.quad9.net", "dns12.quad9.net",
				"doh.opendns.com", "dns.opendns.com", "doh.familyshield.opendns.com",
				"dns.nextdns.io", "dns.adguard-dns.com", "dns.adguard.com", "dns-unfiltered.adguard.com",
				"family.adguard-dns.com", "unfiltered.adguard-dns.com", "doh.cleanbrowsing.org",
				"dns.mullvad.net", "doh.mullvad.net", "dns.controld.com", "freedns.controld.com",
				"doh.dns.sb", "dot.sb", "dns.alidns.com", "doh.pub", "dot.pub", "dns0.eu",
			},
			cidrs: []string{
				"8.8.8.8/32", "8.8.4.4/32", "2001:4860:4860::8888/128", "2001:4860:4860::8844/128",
				"1.1.1.1/32", "1.0.0.1/32", "1.1.1.2/32", "1.0.0.2/32", "1.1.1.3/32", "1.0.0.3/32",
				"2606:4700:4700::1111/128", "2606:4700:4700::1001/128",
				"9.9.9.9/32", "149.112.112.112/32", "9.9.9.10/32", "149.112.112.10/32",
				"9.9.9.11/32", "149.112.112.11/32", "2620:fe::fe/128", "2620:fe::9/128",
				"208.67.222.222/32", "208.67.220.220/32", "2620:119:35::35/128", "2620:119:53::53/128",
				"94.140.14.14/32", "94.140.15.15/32", "45.90.28.0/24", "45.90.30.0/24",
				"194.242.2.2/32", "76.76.2.0/32", "76.76.10.0/32", "223.5.5.5/32", "223.6.6.6/32",
				"119.29.29.29/32", "193.110.81.0/32", "185.253.5.0/32",
			},
		},
	}
}
