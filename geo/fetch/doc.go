// Package fetch keeps a directory of cloud provider range files up to
// date: Download gets them from the providers' official locations
// (OfficialSources) and Import copies local ones; either writes a file
// only after it parses as its provider's format (package provider), and
// through a rename, so a failed run leaves the old copy.
package fetch
