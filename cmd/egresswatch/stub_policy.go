package main

// Delete this file when cmdPolicy is written.
var cmdPolicy = notYet("policy")
