package main

// Delete this file when cmdCatalog is written.
var cmdCatalog = notYet("catalog")
