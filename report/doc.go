// Package report builds the data-residency report: per device group ×
// service × country, how many flows, bytes and devices, when, and how many
// alerts; plus the destinations that could not be placed. It writes
// Markdown (for people: a title, the scope, a one-paragraph finding, then
// tables), CSV, JSON, or HTML: one self-contained page (no request leaves
// it) that embeds the JSON document and draws from it the headline, a world
// map, charts and sortable, filterable tables. The JSON document cuts its
// lists to the top N plus an "others" line, so it stays small for any
// workload; Builder.Approved and Builder.Sensitive give it the policy's view.
//
// A Builder is filled once (AddFlow, AddAlert) and written at the end; it
// is not safe for concurrent use.
package report
