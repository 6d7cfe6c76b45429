package main

// Delete this file when cmdReplay is written.
var cmdReplay = notYet("replay")
