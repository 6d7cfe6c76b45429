package main

// Delete this file when cmdLookup is written.
var cmdLookup = notYet("lookup")
