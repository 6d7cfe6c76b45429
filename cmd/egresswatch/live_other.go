//go:build !linux

package main

// cmdLive needs AF_PACKET; elsewhere the command says so.
var cmdLive = notYet("live (Linux only)")
