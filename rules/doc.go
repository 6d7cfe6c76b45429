// Package rules is egresswatch's policy engine: it loads the policy file
// (YAML, decoded strictly; every error is an ErrorList entry with its
// file:line:col, printed with the source line and a caret under the
// column, YAML syntax errors at the fault rather than where the YAML
// parser noticed it), holds the built-in jurisdiction sets and service
// catalogue, decides which rules an observation breaks, and judges flows
// (Judge: when, de-duplication, suppression).
//
// # The policy file
//
//	version: 1
//	internal: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7]
//	jurisdictions:
//	  approved: [UK, EEA, CH]
//	groups:
//	  government: {cidrs: [10.20.0.0/16], vlans: [120], macs: ["00:1b:63"]}
//	services:
//	  corp-saas: {domains: [example-saas.com], hosts: [], asns: [64500], cidrs: [198.51.100.0/24]}
//	rules:
//	  - id: gov-outside-approved
//	    name: Government traffic left approved jurisdictions
//	    from: [government]
//	    to: any
//	    allow: [approved]
//	    indeterminate: warn
//	    severity: medium
//	    except: {domains: [windowsupdate.com]}
//	suppress: 10m
//
// A rule fires when the source is in one of its from groups, the destination
// is egress (not internal) and matches to (one of the named services, or any
// destination), does not match except, and, when allow is given, is placed
// outside every allowed set.
//
// Matching, precisely:
//
//   - A device is in a group when its address is in one of the group's
//     cidrs, OR one of its VLAN tags (outer or inner) is in vlans, OR its MAC
//     equals a full MAC or starts with a 3-byte OUI listed in macs.
//   - A service's domains match the domain and every subdomain, label by
//     label, case-insensitively (tiktok.com matches www.tiktok.com, not
//     nottiktok.com); hosts match exactly one name. Domains written in
//     Unicode are converted to their A-label (xn--) form when loaded, since
//     names arrive as on the wire. asns match the placement's AS number and
//     cidrs the destination address.
//   - internal destinations are never egress; neither are loopback,
//     link-local, multicast, broadcast and unspecified addresses, whatever
//     the file says.
//   - Services named like a built-in (tiktok, bytedance, encrypted-dns) add
//     to the built-in entry.
//
// # Jurisdictions
//
// Placement gives ISO 3166-1 alpha-2 codes, so the United Kingdom is GB. The
// built-in set named UK contains GB (and only GB: the Crown Dependencies GG,
// JE, IM and the territory GI are separate jurisdictions). A rule may list
// set names and country codes side by side: allow: [UK, IE, approved]. The
// built-in sets (EU, EEA, UK, EU-ADEQUACY, UK-ADEQUACY and the -FULL variants
// without the partial decisions) are in jurisdictions.go with their legal
// sources and the date they were checked.
//
// # Severity
//
// Severities are low, medium, high and critical. A warning (indeterminate:
// warn, or a DNS-only match where the device resolved a sensitive name but
// no flow was seen) is the rule's severity one step lower, never below low.
// Severity.ECS gives the numeric event.severity (21, 47, 73, 99: the Elastic
// Security risk mapping) and Severity.LogLevel the log.level.
//
// # Concurrency and allocation
//
// A Policy is immutable after Load or Parse and safe for concurrent use;
// reload by swapping a pointer. Evaluate does not allocate unless a rule
// fires (then only the Groups slice of the Match). A Suppressor is safe for
// concurrent use and keeps time from its callers (packet time).
package rules
