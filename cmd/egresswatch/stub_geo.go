package main

// Delete this file when cmdGeo is written.
var cmdGeo = notYet("geo")
