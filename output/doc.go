// Package output writes what egresswatch found as ECS 8 JSON lines: one
// object per line, nested field names (`destination.geo.country_iso_code`
// is {"destination":{"geo":{"country_iso_code":...}}}).
//
// Events are built by hand-written appenders into a reused buffer, so
// writing an event allocates nothing beyond what the strings it carries
// already hold; no reflection is involved. A Writer is not safe for
// concurrent use.
package output
