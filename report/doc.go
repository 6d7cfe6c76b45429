// Package report builds the data-residency report: per device group ×
// service × country, how many flows, bytes and devices, when, and how many
// alerts; plus the destinations that could not be placed. It writes
// Markdown (for people: a title, the scope, a one-paragraph finding, then
// tables), CSV or JSON.
//
// A Builder is filled once (AddFlow, AddAlert) and written at the end; it
// is not safe for concurrent use.
package report
