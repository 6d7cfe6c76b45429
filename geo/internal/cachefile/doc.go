// Package cachefile is the file format of egresswatch's parse caches
// (range CSVs, the merged cloud table, copies of MaxMind DB files): made
// to be mapped and used in place, and checksummed.
//
// A file is a 24-byte magic, a CRC-32C checksum, a section count, the byte
// length of every section, then the sections, each starting at a
// 4-byte-aligned offset (padding counts in no length). All numbers are
// little-endian. Arrays of fixed records (Range, and the callers' own) are
// used straight from the mapping when the machine's layout matches, so a
// start-up touches only the pages lookups need; anything else is decoded
// by copy. Nothing read is trusted: sizes must add up to the file's size
// exactly, and the callers check every index and the order of the ranges.
//
// Files are written by rename (Write), never in place, so a mapping (Map)
// does not change under its readers. Paths are keyed by what the cached
// data came from (Path, PathFor).
package cachefile
